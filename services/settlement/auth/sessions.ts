// User sessions: refresh tokens in Redis, rotated on every use, grouped in families. A refresh token is
// `<family>.<secret>`; Redis keeps only its SHA-256. Using a token marks it used and issues its successor;
// presenting a used token again means it was copied (OAuth 2.0 Security BCP §4.14.2): the whole family
// is revoked, the thief's and the owner's tokens alike. Logout revokes the family too.
// A revoked family also stops its access tokens before they expire: every gateway instance keeps the
// revoked families in a Map (a per-request lookup, no Redis), loaded from a Redis sorted set at start and
// kept current through a NATS subject.
import type { Redis } from 'ioredis';
import type { NatsConnection, Subscription } from 'nats';
import type { Clock } from '../../../shared/clock.ts';
import { luaScript } from '../../../shared/redis/index.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import { ACCESS_TOKEN_TTL_S, type Principal } from './principal.ts';

/** A session unused for 12 h ends; every rotation restarts the period. */
export const REFRESH_TOKEN_TTL_MS = 12 * 60 * 60 * 1000;
const FAMILY_ID = /^[A-Za-z0-9_-]{22}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;
/** Revoked families kept in memory at most; past it the oldest are dropped (their tokens expire anyway). */
export const REVOKED_FAMILIES_MAX = 100_000;

export type SessionPrincipal = Pick<Principal, 'kind' | 'sub' | 'scopes' | 'tier'>;
export type RotateResult =
  | { ok: true; refreshToken: string; family: string; principal: SessionPrincipal }
  | { ok: false; reason: 'unknown' | 'revoked' | 'reused' };

// KEYS: presented token, family, successor token. ARGV: ttlMs.
const ROTATE = luaScript(`
local status = redis.call('HGET', KEYS[2], 'status')
if not status then return {'unknown'} end
if status == 'revoked' then return {'revoked'} end
local used = redis.call('HGET', KEYS[1], 'used')
if not used then return {'unknown'} end
if used == '1' then
  redis.call('HSET', KEYS[2], 'status', 'revoked')
  return {'reused'}
end
redis.call('HSET', KEYS[1], 'used', '1')
redis.call('HSET', KEYS[3], 'used', '0')
redis.call('PEXPIRE', KEYS[3], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return {'ok', redis.call('HGET', KEYS[2], 'principal')}
`);

const randomId = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('base64url');
const sha256 = (s: string) => new Bun.CryptoHasher('sha256').update(s).digest('hex');

export interface SessionStore {
  /** a new family with its first refresh token */
  start(p: SessionPrincipal): Promise<{ refreshToken: string; family: string }>;
  rotate(refreshToken: string): Promise<RotateResult>;
  /** revokes the family everywhere: its refresh tokens and, within ~1 NATS hop, its access tokens */
  revoke(family: string): Promise<void>;
  isRevoked(family: string): boolean;
  close(): Promise<void>;
}

export async function createSessionStore(opts: { redis: Redis; nc: NatsConnection; prefix: string; revokedSubject: string; clock: Clock; logger: Logger }): Promise<SessionStore> {
  const { redis, nc, prefix, revokedSubject, clock, logger } = opts;
  const tokenKey = (token: string) => `${prefix}:rt:${sha256(token)}`;
  const familyKey = (family: string) => `${prefix}:rtf:${family}`;
  const revokedKey = `${prefix}:revoked-families`;
  const revoked = new Map<string, number>(); // family → epoch ms until which its access tokens may live

  const remember = (family: string, untilMs: number) => {
    if (revoked.size >= REVOKED_FAMILIES_MAX) {
      const nowMs = clock.nowMs();
      for (const [f, until] of revoked) if (until <= nowMs) revoked.delete(f);
      if (revoked.size >= REVOKED_FAMILIES_MAX) revoked.delete(revoked.keys().next().value!);
    }
    revoked.set(family, untilMs);
  };

  for (const [family, until] of chunkPairs(await redis.zrangebyscore(revokedKey, clock.nowMs(), '+inf', 'WITHSCORES'))) remember(family, until);
  const sub: Subscription = nc.subscribe(revokedSubject, {
    callback: (err, msg) => {
      if (err) return logger.warn({ err }, 'revocation subscription error');
      try {
        const { family, untilMs } = msg.json<{ family: string; untilMs: number }>();
        if (typeof family === 'string' && typeof untilMs === 'number') remember(family, untilMs);
      } catch (e) {
        logger.warn({ err: e }, 'malformed revocation message ignored');
      }
    },
  });

  const revoke = async (family: string) => {
    const untilMs = clock.nowMs() + ACCESS_TOKEN_TTL_S * 1000;
    await redis.multi()
      .hset(familyKey(family), 'status', 'revoked')
      .zadd(revokedKey, untilMs, family)
      .zremrangebyscore(revokedKey, '-inf', clock.nowMs())
      .exec();
    remember(family, untilMs);
    nc.publish(revokedSubject, JSON.stringify({ family, untilMs }));
  };

  return {
    async start(p) {
      const family = randomId(16);
      const refreshToken = `${family}.${randomId(32)}`;
      await redis.multi()
        .hset(familyKey(family), 'status', 'active', 'principal', JSON.stringify(p))
        .pexpire(familyKey(family), REFRESH_TOKEN_TTL_MS)
        .hset(tokenKey(refreshToken), 'used', '0')
        .pexpire(tokenKey(refreshToken), REFRESH_TOKEN_TTL_MS)
        .exec();
      return { refreshToken, family };
    },
    async rotate(refreshToken) {
      const [family, secret] = refreshToken.split('.');
      if (family === undefined || secret === undefined || !FAMILY_ID.test(family) || !SECRET.test(secret)) return { ok: false, reason: 'unknown' };
      const next = `${family}.${randomId(32)}`;
      const [outcome, principal] = (await ROTATE.run(redis, [tokenKey(refreshToken), familyKey(family), tokenKey(next)], [REFRESH_TOKEN_TTL_MS])) as [string, string?];
      if (outcome === 'reused') {
        logger.warn({ family }, 'a rotated refresh token was presented again: family revoked');
        await revoke(family);
        return { ok: false, reason: 'reused' };
      }
      if (outcome !== 'ok' || principal === undefined) return { ok: false, reason: outcome === 'revoked' ? 'revoked' : 'unknown' };
      return { ok: true, refreshToken: next, family, principal: JSON.parse(principal) as SessionPrincipal };
    },
    revoke,
    isRevoked(family) {
      const until = revoked.get(family);
      return until !== undefined && until > clock.nowMs();
    },
    async close() {
      sub.unsubscribe();
    },
  };
}

function chunkPairs(flat: string[]): [string, number][] {
  const out: [string, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])]);
  return out;
}
