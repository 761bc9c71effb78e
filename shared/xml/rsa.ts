// RSA PKCS#1 v1.5 over a SHA-256 digest. The system libcrypto.so.3 through bun:ffi signs at the speed of
// `openssl speed` (MEASURED.md: ≈1.0×); Bun's built-in crypto (BoringSSL) at ≈0.5×, so it is only the
// fallback for hosts without OpenSSL 3. One RsaDigestSigner per thread: contexts are not shared.
import { constants, createPrivateKey, privateEncrypt, type KeyObject } from 'node:crypto';
import { RSA_SIGNATURE_BYTES, SHA256_BYTES } from './profile.ts';

export interface RsaDigestSigner {
  /** 'openssl-ffi' or 'builtin' (the fallback) */
  readonly engine: 'openssl-ffi' | 'builtin';
  /** signs each 32-byte digest of `digests` (concatenated) into `out` (256 bytes each, concatenated) */
  signDigests(digests: Uint8Array, count: number, out: Uint8Array): void;
  close(): void;
}

const LIBCRYPTO_NAMES = ['libcrypto.so.3', '/usr/lib/x86_64-linux-gnu/libcrypto.so.3', '/usr/lib/aarch64-linux-gnu/libcrypto.so.3'];
const RSA_PKCS1_PADDING = 1;

/** DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1): the built-in fallback signs prehashed input with it. */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

async function openLibcrypto() {
  const { dlopen, FFIType } = await import('bun:ffi');
  const symbols = {
    BIO_new_mem_buf: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.ptr },
    BIO_free: { args: [FFIType.ptr], returns: FFIType.i32 },
    PEM_read_bio_PrivateKey: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.ptr },
    EVP_PKEY_free: { args: [FFIType.ptr], returns: FFIType.void },
    EVP_PKEY_get_size: { args: [FFIType.ptr], returns: FFIType.i32 },
    EVP_PKEY_CTX_new: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.ptr },
    EVP_PKEY_CTX_free: { args: [FFIType.ptr], returns: FFIType.void },
    EVP_PKEY_sign_init: { args: [FFIType.ptr], returns: FFIType.i32 },
    EVP_PKEY_CTX_set_rsa_padding: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    EVP_PKEY_CTX_set_signature_md: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    EVP_sha256: { args: [], returns: FFIType.ptr },
    EVP_PKEY_sign: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  } as const;
  let lastError: unknown;
  for (const name of LIBCRYPTO_NAMES) {
    try {
      return dlopen(name, symbols);
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError instanceof Error ? lastError : new Error('libcrypto.so.3 not found');
}

/** The FFI signer: the key is parsed once, one EVP_PKEY_CTX initialised once and reused for every sign. */
export async function createFfiSigner(keyPem: string): Promise<RsaDigestSigner> {
  const lib = await openLibcrypto();
  const f = lib.symbols;
  const pemBytes = Buffer.from(keyPem + '\0', 'utf8');
  const bio = f.BIO_new_mem_buf(pemBytes, pemBytes.length - 1);
  if (!bio) throw new Error('BIO_new_mem_buf failed');
  const pkey = f.PEM_read_bio_PrivateKey(bio, null, null, null);
  f.BIO_free(bio);
  if (!pkey) throw new Error('PEM_read_bio_PrivateKey failed: not an unencrypted PEM private key');
  if (f.EVP_PKEY_get_size(pkey) !== RSA_SIGNATURE_BYTES) {
    f.EVP_PKEY_free(pkey);
    throw new Error(`the signing key must be RSA-2048 (${RSA_SIGNATURE_BYTES}-byte signatures)`);
  }
  const ctx = f.EVP_PKEY_CTX_new(pkey, null);
  const ready =
    ctx !== null &&
    f.EVP_PKEY_sign_init(ctx) === 1 &&
    f.EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) === 1 &&
    f.EVP_PKEY_CTX_set_signature_md(ctx, f.EVP_sha256()) === 1;
  if (!ready) {
    if (ctx) f.EVP_PKEY_CTX_free(ctx);
    f.EVP_PKEY_free(pkey);
    throw new Error('EVP_PKEY_sign_init for RSA PKCS#1 v1.5 SHA-256 failed');
  }
  const sigLen = new BigUint64Array(1);
  let closed = false;
  return {
    engine: 'openssl-ffi',
    signDigests(digests, count, out) {
      if (closed) throw new Error('signer closed');
      for (let i = 0; i < count; i++) {
        sigLen[0] = BigInt(RSA_SIGNATURE_BYTES);
        const rc = f.EVP_PKEY_sign(
          ctx,
          out.subarray(i * RSA_SIGNATURE_BYTES, (i + 1) * RSA_SIGNATURE_BYTES),
          sigLen,
          digests.subarray(i * SHA256_BYTES, (i + 1) * SHA256_BYTES),
          SHA256_BYTES,
        );
        // a failure here is a broken invariant (the context was initialised and the buffers are sized)
        if (rc !== 1 || sigLen[0] !== BigInt(RSA_SIGNATURE_BYTES)) throw new Error(`EVP_PKEY_sign failed (rc=${rc})`);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      f.EVP_PKEY_CTX_free(ctx);
      f.EVP_PKEY_free(pkey);
      lib.close();
    },
  };
}

/** Bun's built-in RSA on DigestInfo||digest: same signature bytes, about half the speed. */
export function createBuiltinSigner(keyPem: string): RsaDigestSigner {
  const key: KeyObject = createPrivateKey(keyPem);
  return {
    engine: 'builtin',
    signDigests(digests, count, out) {
      for (let i = 0; i < count; i++) {
        const digest = digests.subarray(i * SHA256_BYTES, (i + 1) * SHA256_BYTES);
        // EMSA-PKCS1-v1_5 is type-1 padding of DigestInfo||digest: exactly what privateEncrypt does with
        // RSA_PKCS1_PADDING, which lets the fallback sign a digest computed elsewhere
        const sig = privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, digest]));
        out.set(sig, i * RSA_SIGNATURE_BYTES);
      }
    },
    close() {},
  };
}

/** FFI when libcrypto.so.3 loads, else the built-in signer; `warn` hears why the fast path is off. */
export async function createRsaDigestSigner(keyPem: string, opts: { forceBuiltin?: boolean; warn?: (msg: string) => void } = {}): Promise<RsaDigestSigner> {
  if (!opts.forceBuiltin) {
    try {
      return await createFfiSigner(keyPem);
    } catch (e) {
      opts.warn?.(`RSA through libcrypto.so.3 unavailable (${e instanceof Error ? e.message : String(e)}); using Bun's built-in crypto at about half the speed`);
    }
  }
  return createBuiltinSigner(keyPem);
}
