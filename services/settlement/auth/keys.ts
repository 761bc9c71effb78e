// The JWT keyring: several HS256 secrets known by their `kid`, the first one signing. Rotation without
// logging anyone out: put the new key first in JWT_KEYS, keep the old one until every token it signed
// has expired (ACCESS_TOKEN_TTL_S), then drop it. Signing and verifying go through @elysiajs/jwt (jose);
// this file only picks the key by kid and refuses every header that is not HS256 with a known kid,
// which also refuses `alg: none`. Secrets are never logged: the keyring exposes only kids.
import { jwt } from '@elysiajs/jwt';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ROOT_DIR, type Config } from '../../../shared/config.ts';

export const JWT_ALG = 'HS256';
export const JWT_ISSUER = 'fluxiq-gateway';
/** Where a dev machine keeps its generated key when JWT_KEYS is empty (mode 0600, under var/). */
export const DEV_KEYS_FILE = resolve(ROOT_DIR, 'var/jwt-keys');
/** Bytes of randomness in a generated dev secret. */
const DEV_SECRET_BYTES = 48;
/** A token longer than this is not one of ours; refused before any parsing. */
export const TOKEN_LENGTH_MAX = 4_096;

type Claims = Record<string, string | number | boolean | string[] | undefined>;

interface Signer {
  sign(claims: Claims & { exp?: number; iat?: boolean }): Promise<string>;
  verify(token: string, options: { currentDate: Date; algorithms: string[]; issuer: string; audience: string }): Promise<Record<string, unknown> | false>;
}

export interface KeyRing {
  /** kid of the signing key */
  readonly currentKid: string;
  readonly kids: readonly string[];
  /** signs `claims` with the current key; exp is epoch seconds */
  sign(claims: Claims & { exp: number; aud: string }): Promise<string>;
  /** the payload when the token is ours, unexpired at `now`, and meant for `audience`; otherwise why not */
  verify(token: string, now: Date, audience: string): Promise<{ ok: true; claims: Record<string, unknown> } | { ok: false; reason: string }>;
}

export function parseKeys(raw: string): { kid: string; secret: string }[] {
  return raw.split(',').map((entry) => {
    const at = entry.indexOf(':');
    return { kid: entry.slice(0, at), secret: entry.slice(at + 1) };
  });
}

export function createKeyRing(keys: { kid: string; secret: string }[]): KeyRing {
  if (keys.length === 0) throw new Error('the JWT keyring needs at least one key');
  const signers = new Map<string, Signer>();
  for (const { kid, secret } of keys) {
    if (signers.has(kid)) throw new Error(`JWT kid ${kid} appears twice`);
    const plugin = jwt({ name: 'jwt', secret, alg: JWT_ALG, kid, iss: JWT_ISSUER });
    // the plugin's sign/verify pair, taken from its decorator so one keyring can hold several keys
    signers.set(kid, (plugin as unknown as { singleton: { decorator: { jwt: Signer } } }).singleton.decorator.jwt);
  }
  const currentKid = keys[0]!.kid;
  const current = signers.get(currentKid)!;
  return {
    currentKid,
    kids: [...signers.keys()],
    // iat: false — the plugin would stamp the wall clock; our clock is injected, exp carries the time
    sign: (claims) => current.sign({ ...claims, iat: false }),
    async verify(token, now, audience) {
      if (token.length === 0 || token.length > TOKEN_LENGTH_MAX) return { ok: false, reason: 'malformed token' };
      const header = headerOf(token);
      if (header === undefined) return { ok: false, reason: 'malformed token' };
      if (header.alg !== JWT_ALG) return { ok: false, reason: `algorithm ${String(header.alg)} is not accepted` };
      const signer = typeof header.kid === 'string' ? signers.get(header.kid) : undefined;
      if (signer === undefined) return { ok: false, reason: 'unknown key id' };
      const claims = await signer.verify(token, { currentDate: now, algorithms: [JWT_ALG], issuer: JWT_ISSUER, audience });
      return claims === false ? { ok: false, reason: 'invalid or expired token' } : { ok: true, claims };
    },
  };
}

function headerOf(token: string): Record<string, unknown> | undefined {
  const dot = token.indexOf('.');
  if (dot < 1) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** JWT_KEYS, or on a dev machine (JWT_KEYS empty) the key in var/jwt-keys, generated on first use. */
export function keyRingFromConfig(config: Pick<Config, 'jwtKeys'>, devFile = DEV_KEYS_FILE): KeyRing {
  if (config.jwtKeys !== '') return createKeyRing(parseKeys(config.jwtKeys));
  if (!existsSync(devFile)) {
    mkdirSync(dirname(devFile), { recursive: true });
    const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(DEV_SECRET_BYTES))).toString('base64url');
    writeFileSync(devFile, `dev-${Date.now().toString(36)}:${secret}\n`, { mode: 0o600 });
    chmodSync(devFile, 0o600);
  }
  return createKeyRing(parseKeys(readFileSync(devFile, 'utf8').trim()));
}
