// What went wrong with a call to BACEN, as a value the caller can branch on. Bun's fetch reports
// transport failures as errors with a `code`; the table below sorts them into the four kinds callers
// handle differently (retry a timeout or a connect error, alert on tls, read the problem on http).
import type { Problem } from '../errors.ts';

export type BacenErrorKind = 'timeout' | 'connect' | 'tls' | 'http' | 'queue-full';

export interface BacenError {
  kind: BacenErrorKind;
  detail: string;
  /** the transport error code (ECONNRESET, CERT_HAS_EXPIRED, ...) when there was one */
  code?: string;
  status?: number;
  problem?: Problem;
  /** the response body of an http error, as received (BACEN answers some errors in XML) */
  body?: string;
}

const TLS_CODES = new Set([
  'EPROTO', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED', 'CRL_HAS_EXPIRED', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Sorts a thrown fetch error. Note: when the server refuses our certificate under TLS 1.3 it does so
 * after our side finished the handshake, so Bun reports ECONNRESET and this says `connect`; only a
 * refusal during the handshake proper (no certificate, bad server certificate) reads as `tls`.
 */
export function classifyFetchError(error: unknown, timedOut: boolean): BacenError {
  const e = error as { name?: string; code?: string | number; message?: string };
  const message = e?.message ?? String(error);
  if (timedOut || e?.name === 'TimeoutError' || e?.name === 'AbortError') return { kind: 'timeout', detail: 'BACEN did not answer in time' };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code && (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))) {
    return { kind: 'tls', code, detail: `TLS failure: ${message}` };
  }
  return { kind: 'connect', ...(code ? { code } : {}), detail: `connection failure: ${message}` };
}
