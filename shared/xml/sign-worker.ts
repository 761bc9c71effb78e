// A tinypool worker: loads the private key once (through libcrypto when it can) and signs batches of
// SHA-256 digests. Batches amortise the postMessage round trip over several ~0.27 ms RSA operations.
import Tinypool from 'tinypool';
import { RSA_SIGNATURE_BYTES, SHA256_BYTES } from './profile.ts';
import { createRsaDigestSigner, type RsaDigestSigner } from './rsa.ts';

export interface SignWorkerData {
  keyPem: string;
  forceBuiltin: boolean;
}

export interface SignBatchTask {
  /** `count` SHA-256 digests, concatenated */
  digests: Uint8Array;
  count: number;
}

export interface SignBatchResult {
  /** `count` 256-byte signatures, concatenated */
  signatures: Uint8Array;
  engine: RsaDigestSigner['engine'];
  /** set once, on the first batch a worker signs, when it had to fall back */
  warning?: string;
}

let signer: Promise<RsaDigestSigner> | undefined;
let warning: string | undefined;

function workerSigner(): Promise<RsaDigestSigner> {
  if (!signer) {
    const data = Tinypool.workerData as SignWorkerData;
    signer = createRsaDigestSigner(data.keyPem, { forceBuiltin: data.forceBuiltin, warn: (m) => (warning = m) });
  }
  return signer;
}

export default async function signBatch(task: SignBatchTask): Promise<SignBatchResult> {
  if (task.digests.length !== task.count * SHA256_BYTES) throw new Error('digest batch size mismatch');
  const s = await workerSigner();
  // tinypool starts every task waiting in the port within one microtask run and posts each reply only
  // after that run ends: without this turn of the event loop, batch 1's signatures would wait for batch
  // 2 to be signed too, and then both the worker and the main thread would idle in turn
  await new Promise<void>((resolve) => setImmediate(resolve));
  const signatures = new Uint8Array(task.count * RSA_SIGNATURE_BYTES);
  s.signDigests(task.digests, task.count, signatures);
  const w = warning;
  warning = undefined;
  // a few KB per batch: copying is cheaper than tinypool's transfer wrapper, which only unwraps top-level values
  return { signatures, engine: s.engine, ...(w ? { warning: w } : {}) };
}
