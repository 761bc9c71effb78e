// A certificate revocation list read with the system's openssl (`openssl crl -CAfile`), which also checks
// that the list is signed by the CA we pin: a CRL from another CA would list nothing we ever meet and
// give a false sense of safety. Spawned once at load and on each change of the file, never per request.
// (Bun's fetch takes no CRL, so our client checks the peer's serial number against this list itself.)
import { statSync } from 'node:fs';

/** A CRL larger than this is refused: BACEN's ICP-Brasil CRLs are a few hundred KB. */
export const CRL_BYTES_MAX = 16 * 1024 * 1024;

export interface RevocationList {
  path: string;
  /** after this the list is stale and every certificate is refused (as OpenSSL does: CRL_HAS_EXPIRED) */
  nextUpdate: Date | null;
  /** serial numbers as upper-case hex without leading zeros */
  revoked: ReadonlySet<string>;
}

export type CrlLoaded = { ok: true; value: RevocationList } | { ok: false; error: string };

/** `01`, `0x1`, `1` all name the same serial; node, Bun and openssl each print it their own way. */
export function normalizeSerial(hex: string): string {
  return hex.replace(/^0x/i, '').replace(/:/g, '').toUpperCase().replace(/^0+(?=.)/, '');
}

/** Reads `crlPath`, verifies it was issued by the CA in `caPath` and lists its revoked serial numbers. */
export function loadCrl(crlPath: string, caPath: string): CrlLoaded {
  let size: number;
  try {
    size = statSync(crlPath).size;
  } catch (e) {
    return { ok: false, error: `cannot read CRL ${crlPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  if (size > CRL_BYTES_MAX) return { ok: false, error: `CRL ${crlPath} is ${size} bytes, above CRL_BYTES_MAX (${CRL_BYTES_MAX})` };
  const proc = Bun.spawnSync(['openssl', 'crl', '-in', crlPath, '-CAfile', caPath, '-noout', '-text'], { stdout: 'pipe', stderr: 'pipe' });
  const err = proc.stderr.toString();
  if (proc.exitCode !== 0 || !/verify OK/.test(err)) {
    return { ok: false, error: `CRL ${crlPath} is not a CRL signed by ${caPath}: ${err.trim().split('\n')[0] ?? `openssl exit ${proc.exitCode}`}` };
  }
  const text = proc.stdout.toString();
  const revoked = new Set<string>();
  for (const m of text.matchAll(/^\s*Serial Number: ([0-9A-Fa-f:]+)\s*$/gm)) revoked.add(normalizeSerial(m[1]!));
  const next = /^\s*Next Update: (.+?)\s*$/m.exec(text)?.[1];
  const nextUpdate = next === undefined || next === 'NONE' ? null : new Date(next);
  if (nextUpdate !== null && Number.isNaN(nextUpdate.getTime())) return { ok: false, error: `CRL ${crlPath}: unreadable Next Update '${next}'` };
  return { ok: true, value: { path: crlPath, nextUpdate, revoked } };
}

/** Why a certificate with this serial number must be refused now, or null when it may be used. */
export function revocationProblem(list: RevocationList, serialNumber: string, now: Date): { code: string; detail: string } | null {
  if (list.nextUpdate !== null && list.nextUpdate.getTime() < now.getTime()) {
    return { code: 'CRL_HAS_EXPIRED', detail: `the CRL ${list.path} expired at ${list.nextUpdate.toISOString()}; renew it` };
  }
  if (list.revoked.has(normalizeSerial(serialNumber))) {
    return { code: 'CERT_REVOKED', detail: `certificate serial ${normalizeSerial(serialNumber)} is revoked by ${list.path}` };
  }
  return null;
}
