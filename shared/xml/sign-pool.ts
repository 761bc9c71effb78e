// RSA off the event loop (STYLE.md § Hot paths): digests are packed straight into fixed-size batches and go
// to a tinypool of sign-worker.ts threads. Each worker holds up to SIGN_INFLIGHT_PER_THREAD batches in its
// own port (one signing, the next waiting), so it never idles for a round trip through a busy main thread.
// When a batch leaves: at once when it is full or a worker has nothing to do (low load: a signature waits
// for nobody); otherwise at the end of the current event-loop turn, so a burst of arrivals (the replies a
// finished batch releases, the requests one I/O poll delivers) becomes one batch instead of 1 + 31.
// Measured on 2 cores: batch 1 ≈ 5,200/s, batch ≥ 4 ≈ 6,700/s of bare RSA (≈ openssl speed -multi 2).
import { availableParallelism } from 'node:os';
import Tinypool from 'tinypool';
import type { Logger } from '../telemetry.ts';
import { RSA_SIGNATURE_BYTES, SHA256_BYTES } from './profile.ts';
import { createRsaDigestSigner, type RsaDigestSigner } from './rsa.ts';
import { IS_COMPILED } from '../runtime.ts';
import type { SignBatchResult, SignBatchTask, SignWorkerData } from './sign-worker.ts';

/** Digests per worker round trip: 32 × 0.27 ms bounds a batch at ~9 ms; measured 0.70× openssl at 16, 0.79× at 32. */
export const SIGN_BATCH_MAX = 32;
/** Batches posted to one worker: one running, one waiting in its port, so no thread idles between batches. */
export const SIGN_INFLIGHT_PER_THREAD = 2;
/** Queued digests beyond which sign() refuses (back-pressure): ≈ 1 s of work at 4,000/s per core. */
export const SIGN_QUEUE_MAX = 8192;

/** Gets the signature (a view valid only during the call) or why there is none. */
export type SignedCallback = (signature: Uint8Array | null, error: Error | null) => void;

export interface DigestSigner {
  /** RSASSA-PKCS1-v1_5 over a SHA-256 digest computed by the caller; rejects only when queue is full or closed */
  sign(digest: Uint8Array): Promise<Uint8Array>;
  /**
   * The same for the hot path, without a promise per digest: returns the refusal (queue full, closed) at
   * once, else calls `done` exactly once (later on the pool, before returning on the inline signer).
   */
  submit(digest: Uint8Array, done: SignedCallback): Error | null;
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

/** Digests packed as they arrive, so sending a batch copies one small buffer and allocates nothing per digest. */
class Batch {
  readonly digests = new Uint8Array(SIGN_BATCH_MAX * SHA256_BYTES);
  readonly done: SignedCallback[] = [];
  count = 0;

  add(digest: Uint8Array, done: SignedCallback): void {
    // a digest of another length would shift every later signature in the batch onto the wrong message
    if (digest.length !== SHA256_BYTES || this.count >= SIGN_BATCH_MAX) throw new Error('bad digest or full batch');
    this.digests.set(digest, this.count * SHA256_BYTES);
    this.done.push(done);
    this.count++;
  }

  task(): SignBatchTask {
    // structured clone copies a view's whole backing buffer: send exactly the filled part
    const digests = this.count === SIGN_BATCH_MAX ? this.digests : this.digests.slice(0, this.count * SHA256_BYTES);
    return { digests, count: this.count };
  }
}

function promised(submit: DigestSigner['submit'], digest: Uint8Array): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    const refused = submit(digest, (sig, err) => (sig ? resolve(sig.slice()) : reject(err)));
    if (refused) reject(refused);
  });
}

export async function createDigestSigner(opts: DigestSignerOptions): Promise<DigestSigner> {
  const threads = opts.threads ?? availableParallelism();
  const warn = (msg: string) => (opts.logger ? opts.logger.warn(msg) : console.warn(msg));
  if (threads === 0) return inlineSigner(await createRsaDigestSigner(opts.keyPem, { forceBuiltin: opts.forceBuiltin, warn }));

  const workerData: SignWorkerData = { keyPem: opts.keyPem, forceBuiltin: opts.forceBuiltin ?? false };
  const pool = new Tinypool({
    // compiled binary: cli/sign-worker.ts is an entry point beside the main module (cli/build.ts)
    filename: new URL(IS_COMPILED ? './sign-worker.js' : './sign-worker.ts', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 0,
    concurrentTasksPerWorker: SIGN_INFLIGHT_PER_THREAD,
    workerData,
  });
  const inflightMax = threads * SIGN_INFLIGHT_PER_THREAD;
  /** batches not yet sent, oldest first; only the last one can still take digests */
  const queue: Batch[] = [];
  let queued = 0;
  let inflight = 0;
  let flushScheduled = false;
  let closed = false;
  let warned = false;

  function send(batch: Batch): void {
    queued -= batch.count;
    inflight++;
    (pool.run(batch.task()) as Promise<SignBatchResult>).then(
      (r) => {
        inflight--;
        if (r.warning && !warned) {
          warned = true;
          warn(r.warning);
        }
        // the worker signs exactly what it was sent; anything else would hand out wrong signatures
        if (r.signatures.length !== batch.count * RSA_SIGNATURE_BYTES) throw new Error('signature batch size mismatch');
        pump(true);
        for (let i = 0; i < batch.count; i++) batch.done[i]!(r.signatures.subarray(i * RSA_SIGNATURE_BYTES, (i + 1) * RSA_SIGNATURE_BYTES), null);
      },
      (e: unknown) => {
        inflight--;
        const err = e instanceof Error ? e : new Error(String(e));
        pump(true);
        for (const done of batch.done) done(null, err);
      },
    );
  }

  /** Sends full batches while a slot is free; a partial one only when `partial` (or a worker is idle). */
  function pump(partial: boolean): void {
    while (queue.length > 0 && inflight < inflightMax) {
      const head = queue[0]!;
      if (head.count < SIGN_BATCH_MAX && !partial && inflight >= threads) break;
      queue.shift();
      send(head);
    }
  }

  function flush(): void {
    flushScheduled = false;
    pump(true);
  }

  function submit(digest: Uint8Array, done: SignedCallback): Error | null {
    if (closed) return new Error('signer closed');
    if (queued >= SIGN_QUEUE_MAX) return new Error(`signer queue full (${SIGN_QUEUE_MAX})`);
    let tail = queue[queue.length - 1];
    if (!tail || tail.count === SIGN_BATCH_MAX) queue.push((tail = new Batch()));
    tail.add(digest, done);
    queued++;
    pump(false);
    if (queued > 0 && !flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
    return null;
  }

  return {
    sign: (digest) => promised(submit, digest),
    submit,
    async close() {
      if (closed) return;
      closed = true;
      const err = new Error('signer closed');
      for (const batch of queue.splice(0)) for (const done of batch.done) done(null, err);
      queued = 0;
      await pool.destroy();
    },
  };
}

function inlineSigner(rsa: RsaDigestSigner): DigestSigner {
  let closed = false;
  const out = new Uint8Array(RSA_SIGNATURE_BYTES);
  function submit(digest: Uint8Array, done: SignedCallback): Error | null {
    if (closed) return new Error('signer closed');
    rsa.signDigests(digest, 1, out);
    done(out, null);
    return null;
  }
  return {
    sign: (digest) => promised(submit, digest),
    submit,
    async close() {
      closed = true;
      rsa.close();
    },
  };
}
