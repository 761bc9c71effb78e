// RSA off the event loop (STYLE.md § Hot paths): digests queue here and go to a tinypool of sign-worker.ts
// threads in batches. A batch leaves as soon as a worker slot is free, so at low load a signature waits
// for nobody (batch of 1) and under load the queue that builds up while workers are busy becomes the next
// batch; measured on 2 cores: batch 1 ≈ 5,200/s, batch ≥ 4 ≈ 6,700/s of bare RSA (≈ openssl speed -multi 2).
import { availableParallelism } from 'node:os';
import Tinypool from 'tinypool';
import type { Logger } from '../telemetry.ts';
import { RSA_SIGNATURE_BYTES, SHA256_BYTES } from './profile.ts';
import { createRsaDigestSigner, type RsaDigestSigner } from './rsa.ts';
import type { SignBatchResult, SignBatchTask, SignWorkerData } from './sign-worker.ts';

/** Digests per worker round trip: 32 × 0.27 ms bounds a batch at ~9 ms; measured 0.70× openssl at 16, 0.79× at 32. */
export const SIGN_BATCH_MAX = 32;
/** Batches in flight per thread: one running, one queued in the worker's port, so no thread idles. */
export const SIGN_INFLIGHT_PER_THREAD = 2;
/** Queued digests beyond which sign() refuses (back-pressure): ≈ 1 s of work at 4,000/s per core. */
export const SIGN_QUEUE_MAX = 8192;

export interface DigestSigner {
  /** RSASSA-PKCS1-v1_5 over a SHA-256 digest computed by the caller; rejects only when queue is full or closed */
  sign(digest: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface DigestSignerOptions {
  keyPem: string;
  /** worker threads; 0 signs on the calling thread (CLI, tools) */
  threads?: number;
  logger?: Logger;
  /** tests: exercise the built-in crypto fallback */
  forceBuiltin?: boolean;
}

interface Pending {
  digest: Uint8Array;
  resolve: (sig: Uint8Array) => void;
  reject: (e: Error) => void;
}

export async function createDigestSigner(opts: DigestSignerOptions): Promise<DigestSigner> {
  const threads = opts.threads ?? availableParallelism();
  const warn = (msg: string) => (opts.logger ? opts.logger.warn(msg) : console.warn(msg));
  if (threads === 0) return inlineSigner(await createRsaDigestSigner(opts.keyPem, { forceBuiltin: opts.forceBuiltin, warn }));

  const workerData: SignWorkerData = { keyPem: opts.keyPem, forceBuiltin: opts.forceBuiltin ?? false };
  const pool = new Tinypool({
    filename: new URL('./sign-worker.ts', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 0,
    workerData,
  });
  const inflightMax = threads * SIGN_INFLIGHT_PER_THREAD;
  const queue: Pending[] = [];
  let inflight = 0;
  let closed = false;
  let warned = false;

  function pump(): void {
    while (inflight < inflightMax && queue.length > 0) {
      const batch = queue.splice(0, SIGN_BATCH_MAX);
      const digests = new Uint8Array(batch.length * SHA256_BYTES);
      batch.forEach((p, i) => digests.set(p.digest, i * SHA256_BYTES));
      const task: SignBatchTask = { digests, count: batch.length };
      inflight++;
      (pool.run(task) as Promise<SignBatchResult>).then(
        (r) => {
          inflight--;
          if (r.warning && !warned) {
            warned = true;
            warn(r.warning);
          }
          batch.forEach((p, i) => p.resolve(r.signatures.subarray(i * RSA_SIGNATURE_BYTES, (i + 1) * RSA_SIGNATURE_BYTES)));
          pump();
        },
        (e: unknown) => {
          inflight--;
          const err = e instanceof Error ? e : new Error(String(e));
          for (const p of batch) p.reject(err);
          pump();
        },
      );
    }
  }

  return {
    sign(digest) {
      if (closed) return Promise.reject(new Error('signer closed'));
      if (queue.length >= SIGN_QUEUE_MAX) return Promise.reject(new Error(`signer queue full (${SIGN_QUEUE_MAX})`));
      return new Promise<Uint8Array>((resolve, reject) => {
        queue.push({ digest, resolve, reject });
        pump();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const p of queue.splice(0)) p.reject(new Error('signer closed'));
      await pool.destroy();
    },
  };
}

function inlineSigner(rsa: RsaDigestSigner): DigestSigner {
  let closed = false;
  return {
    sign(digest) {
      if (closed) return Promise.reject(new Error('signer closed'));
      const out = new Uint8Array(RSA_SIGNATURE_BYTES);
      rsa.signDigests(digest, 1, out);
      return Promise.resolve(out);
    },
    async close() {
      closed = true;
      rsa.close();
    },
  };
}
