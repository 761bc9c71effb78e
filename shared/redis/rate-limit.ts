// Sliding-window rate limiter: one sorted set per id logs the time of each allowed request, and one Lua
// script prunes, counts and admits atomically. Chosen over the two-window weighted counter because the
// counter only estimates the previous window's share and can admit more than `limit` in a window; the
// log is exact, and it costs at most `limit` entries per id because refused requests are not logged.
// Time comes in as nowMs (the caller's clock), never from Redis, so tests are deterministic.
import type { Redis } from 'ioredis';
import { luaScript } from './script.ts';

/** Largest limit accepted: the log keeps one entry per allowed request, so this bounds memory per id. */
export const RATE_LIMIT_REQUESTS_MAX = 100_000;

export interface RateDecision {
  allowed: boolean;
  /** requests still allowed in the current window after this one */
  remaining: number;
  /** epoch ms at which the oldest counted request leaves the window (one more slot frees) */
  resetMs: number;
  /** 0 when allowed; otherwise how long to wait before a retry can be allowed */
  retryAfterMs: number;
}

// KEYS[1] log; ARGV: nowMs, windowMs, limit, member. An entry at t counts during (t - window, t].
// The key expires one window after its newest entry; it is only memory clean-up (decisions use nowMs).
const LIMIT = luaScript(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  count = count + 1
  allowed = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {allowed, limit - count, tonumber(oldest[2]) + window}
`);

export interface RateLimiter {
  limit(id: string, opts: { limit: number; windowMs: number; nowMs: number }): Promise<RateDecision>;
}

export function createRateLimiter(redis: Redis, opts: { prefix: string }): RateLimiter {
  return {
    async limit(id, { limit, windowMs, nowMs }) {
      if (!(Number.isInteger(limit) && limit >= 1 && limit <= RATE_LIMIT_REQUESTS_MAX)) throw new Error(`limit ${limit} outside 1..${RATE_LIMIT_REQUESTS_MAX}`);
      if (!(Number.isInteger(windowMs) && windowMs >= 1)) throw new Error(`windowMs ${windowMs} must be a positive integer`);
      // unique per request: two requests in the same millisecond are two entries
      const member = `${nowMs}:${crypto.randomUUID()}`;
      const [allowed, remaining, resetMs] = (await LIMIT.run(redis, [`${opts.prefix}:${id}`], [Math.floor(nowMs), windowMs, limit, member])) as [number, number, number];
      return {
        allowed: allowed === 1,
        remaining,
        resetMs,
        retryAfterMs: allowed === 1 ? 0 : Math.max(resetMs - nowMs, 1),
      };
    },
  };
}
