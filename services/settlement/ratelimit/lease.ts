// Per-principal rate limit: the sliding-window log of shared/redis/rate-limit.ts (one sorted set per id,
// one entry per admitted request, pruned and counted in one Lua call), fronted by an in-process Map so
// most requests never touch Redis. Instead of one Lua call per request, an instance leases a few slots at
// once (LEASE_SLOTS_MAX, a tenth of the limit) and hands them out locally.
//
// Exactness. A leased slot is logged at `leasedAt + LEASE_HOLD_MS`, the latest moment it may be used, and
// a lease is only used during that hold; so a request used at t is counted in Redis at least until
// t + window, and no sliding window ever admits more than the limit, across any number of instances.
// Unused slots are removed from the log (ZREM) when a lease ends. On one instance the (limit+1)-th
// request of a window is refused exactly; the costs are that Retry-After may be up to LEASE_HOLD_MS
// longer than the true wait, and that with several instances one may refuse while another still holds
// up to LEASE_SLOTS_MAX unused slots for at most LEASE_HOLD_MS (under-admission, never over-admission).
// A refusal is remembered locally until the oldest slot frees, so a client hammering at the limit costs
// one Redis call per window, not one per request.
import type { Redis } from 'ioredis';
import { luaScript } from '../../../shared/redis/index.ts';
import type { Logger } from '../../../shared/telemetry.ts';

/** A lease is used for at most this long; its slots count in the log as if used at its end. */
export const LEASE_HOLD_MS = 2_000;
/** Slots per lease: a tenth of the limit, at most 50, so one instance never strands much of a window. */
export const LEASE_SLOTS_MAX = 50;
export const LEASE_LIMIT_FRACTION = 10;
/** Principals tracked in memory; past it, entries without a live lease are dropped first. */
export const LIMIT_ENTRIES_MAX = 100_000;

// KEYS[1] log. ARGV: nowMs, windowMs, limit, want, slotScoreMs, leaseId.
const LEASE = luaScript(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local score = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local grant = math.max(0, math.min(want, limit - count))
for i = 1, grant do
  redis.call('ZADD', KEYS[1], score, ARGV[6] .. ':' .. i)
end
if grant > 0 then redis.call('PEXPIRE', KEYS[1], window + score - now) end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reset = now + window
if oldest[2] then reset = tonumber(oldest[2]) + window end
return {grant, limit - count - grant, reset}
`);

// KEYS[1] log. ARGV: leaseId, first unused slot, last slot.
const GIVE_BACK = luaScript(`
for i = tonumber(ARGV[2]), tonumber(ARGV[3]) do
  redis.call('ZREM', KEYS[1], ARGV[1] .. ':' .. i)
end
return 0
`);

export interface Tier {
  requestsMax: number;
  windowMs: number;
}

export interface LimitDecision {
  allowed: boolean;
  limit: number;
  /** requests still allowed in the window (approximate across instances) */
  remaining: number;
  /** epoch ms at which a slot frees */
  resetMs: number;
  retryAfterMs: number;
}

interface Entry {
  tier: Tier;
  leaseId: string;
  granted: number;
  used: number;
  leaseEndMs: number;
  /** remaining in Redis after the last lease */
  remainingShared: number;
  resetMs: number;
  deniedUntilMs: number;
  pending: Promise<void> | undefined;
}

export interface LeaseLimiter {
  take(id: string, tier: Tier, nowMs: number): Promise<LimitDecision>;
  /** Redis round trips made so far (leases and refusals): the figure that shows the Map doing its job */
  readonly redisCalls: number;
}

export function leaseSlots(limit: number): number {
  return Math.max(1, Math.min(LEASE_SLOTS_MAX, Math.ceil(limit / LEASE_LIMIT_FRACTION)));
}

export function createLeaseLimiter(opts: { redis: Redis; prefix: string; logger: Logger }): LeaseLimiter {
  const { redis, prefix, logger } = opts;
  const entries = new Map<string, Entry>();
  let redisCalls = 0;
  const keyOf = (id: string) => `${prefix}:${id}`;

  const giveBack = (id: string, e: Entry) => {
    if (e.used >= e.granted) return;
    redisCalls++;
    GIVE_BACK.run(redis, [keyOf(id)], [e.leaseId, e.used + 1, e.granted]).catch((err: unknown) =>
      logger.warn({ err, id }, 'could not give back unused rate-limit slots; they free when the window slides'));
  };

  const renew = async (id: string, e: Entry, nowMs: number) => {
    giveBack(id, e);
    const leaseId = crypto.randomUUID();
    const want = leaseSlots(e.tier.requestsMax);
    redisCalls++;
    const [grant, remaining, resetMs] = (await LEASE.run(redis, [keyOf(id)], [nowMs, e.tier.windowMs, e.tier.requestsMax, want, nowMs + LEASE_HOLD_MS, leaseId])) as [number, number, number];
    Object.assign(e, { leaseId, granted: grant, used: 0, leaseEndMs: nowMs + LEASE_HOLD_MS, remainingShared: remaining, resetMs, deniedUntilMs: grant === 0 ? resetMs : 0 });
  };

  const evict = (nowMs: number) => {
    for (const [id, e] of entries) if (e.leaseEndMs <= nowMs && e.deniedUntilMs <= nowMs && e.pending === undefined) entries.delete(id);
    if (entries.size >= LIMIT_ENTRIES_MAX) {
      const [id, e] = entries.entries().next().value!;
      giveBack(id, e);
      entries.delete(id);
    }
  };

  return {
    get redisCalls() {
      return redisCalls;
    },
    async take(id, tier, nowMs) {
      let e = entries.get(id);
      if (e === undefined) {
        if (entries.size >= LIMIT_ENTRIES_MAX) evict(nowMs);
        e = { tier, leaseId: '', granted: 0, used: 0, leaseEndMs: 0, remainingShared: tier.requestsMax, resetMs: nowMs + tier.windowMs, deniedUntilMs: 0, pending: undefined };
        entries.set(id, e);
      } else if (e.tier.requestsMax !== tier.requestsMax || e.tier.windowMs !== tier.windowMs) {
        // the tier changed (NATS refresh): the next lease uses the new limit
        e.tier = tier;
        e.leaseEndMs = 0;
        e.deniedUntilMs = 0;
      }
      for (;;) {
        const limit = e.tier.requestsMax;
        if (e.deniedUntilMs > nowMs) {
          return { allowed: false, limit, remaining: 0, resetMs: e.deniedUntilMs, retryAfterMs: e.deniedUntilMs - nowMs };
        }
        if (e.used < e.granted && nowMs < e.leaseEndMs) {
          e.used++;
          return { allowed: true, limit, remaining: e.remainingShared + (e.granted - e.used), resetMs: e.resetMs, retryAfterMs: 0 };
        }
        if (e.pending === undefined) {
          const entry = e;
          entry.pending = renew(id, entry, nowMs).finally(() => { entry.pending = undefined; });
        }
        try {
          await e.pending;
        } catch (err) {
          // Redis unreachable: fail open. Refusing every request would turn a Redis outage into an API
          // outage; authentication still holds, and the refusal resumes when Redis answers.
          logger.warn({ err, id }, 'rate limiter unavailable; request admitted');
          return { allowed: true, limit, remaining: 0, resetMs: nowMs + e.tier.windowMs, retryAfterMs: 0 };
        }
        // a refused lease sets deniedUntilMs; a granted one gives slots: the loop ends on its next turn.
        // A lease fully used by concurrent waiters before this one got a slot asks again (bounded by the limit).
      }
    },
  };
}
