import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Redis } from 'ioredis';
import { ManualClock } from '../../shared/clock.ts';
import { createRateLimiter, redisKey, type RateLimiter } from '../../shared/redis/index.ts';
import { testConfig } from '../support/env.ts';
import { redisFixture } from './fixture.ts';

const config = testConfig('redis-rate');
let fx: { redis: Redis; close(): Promise<void> };
let limiter: RateLimiter;

beforeAll(async () => {
  fx = await redisFixture(config, 'rate');
  limiter = createRateLimiter(fx.redis, { prefix: redisKey(config, 'rate') });
});
afterAll(async () => { await fx.close(); });

const WINDOW_MS = 10_000;

describe('sliding-window rate limiter', () => {
  test('exactly `limit` requests are allowed in a window; the next is refused with the wait until a slot frees', async () => {
    const clock = new ManualClock();
    const t0 = clock.nowMs();
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const d = await limiter.limit('client-a', { limit: 5, windowMs: WINDOW_MS, nowMs: clock.nowMs() });
      expect(d.allowed).toBe(true);
      expect(d.retryAfterMs).toBe(0);
      remaining.push(d.remaining);
      clock.advance(1_000);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const refused = await limiter.limit('client-a', { limit: 5, windowMs: WINDOW_MS, nowMs: clock.nowMs() });
    expect(refused).toEqual({ allowed: false, remaining: 0, resetMs: t0 + WINDOW_MS, retryAfterMs: 5_000 });
  });

  test('once the window slides past the oldest request one more is allowed, and only one', async () => {
    const clock = new ManualClock();
    for (let i = 0; i < 3; i++) {
      await limiter.limit('client-b', { limit: 3, windowMs: WINDOW_MS, nowMs: clock.nowMs() });
      clock.advance(100);
    }
    clock.set(clock.nowMs() - 300 + WINDOW_MS - 1); // 1 ms before the first request leaves
    expect((await limiter.limit('client-b', { limit: 3, windowMs: WINDOW_MS, nowMs: clock.nowMs() })).allowed).toBe(false);
    clock.advance(1);
    expect((await limiter.limit('client-b', { limit: 3, windowMs: WINDOW_MS, nowMs: clock.nowMs() })).allowed).toBe(true);
    const next = await limiter.limit('client-b', { limit: 3, windowMs: WINDOW_MS, nowMs: clock.nowMs() });
    expect(next.allowed).toBe(false);
    expect(next.retryAfterMs).toBe(100);
  });

  test('refused requests do not count: a client hammering the limit is allowed again when its window slides', async () => {
    const clock = new ManualClock();
    await limiter.limit('client-c', { limit: 1, windowMs: WINDOW_MS, nowMs: clock.nowMs() });
    for (let i = 0; i < 20; i++) {
      clock.advance(100);
      expect((await limiter.limit('client-c', { limit: 1, windowMs: WINDOW_MS, nowMs: clock.nowMs() })).allowed).toBe(false);
    }
    clock.advance(WINDOW_MS - 2_000);
    expect((await limiter.limit('client-c', { limit: 1, windowMs: WINDOW_MS, nowMs: clock.nowMs() })).allowed).toBe(true);
  });

  test('requests in the same millisecond are counted separately, and ids are limited independently', async () => {
    const nowMs = new ManualClock().nowMs();
    const burst = await Promise.all(Array.from({ length: 10 }, () => limiter.limit('client-d', { limit: 4, windowMs: WINDOW_MS, nowMs })));
    expect(burst.filter((d) => d.allowed)).toHaveLength(4);
    expect((await limiter.limit('client-e', { limit: 4, windowMs: WINDOW_MS, nowMs })).allowed).toBe(true);
  });
});
