import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Redis } from 'ioredis';
import { createIdempotencyStore, redisKey, type IdempotencyStore } from '../../shared/redis/index.ts';
import { testConfig } from '../support/env.ts';
import { redisFixture } from './fixture.ts';

const config = testConfig('redis-idem');
let fx: { redis: Redis; close(): Promise<void> };
let store: IdempotencyStore;

beforeAll(async () => {
  fx = await redisFixture(config, 'idem');
  store = createIdempotencyStore(fx.redis, { prefix: redisKey(config, 'idem'), ttlS: 60 });
});
afterAll(async () => { await fx.close(); });

const answer = { status: 201, headers: { location: '/payments/E1' }, body: '{"id":"E1","status":"CREATED"}' };

describe('idempotency store', () => {
  test('a second request with the same key and body gets the first answer replayed', async () => {
    expect(await store.begin('k-replay', 'hash-a')).toEqual({ state: 'new' });
    expect(await store.complete('k-replay', 'hash-a', answer)).toBe(true);
    expect(await store.begin('k-replay', 'hash-a')).toEqual({ state: 'replay', response: answer });
  });

  test('the same key with a different body is refused as a conflict, before and after the answer is stored', async () => {
    await store.begin('k-conflict', 'hash-a');
    expect(await store.begin('k-conflict', 'hash-b')).toEqual({ state: 'conflict' });
    await store.complete('k-conflict', 'hash-a', answer);
    expect(await store.begin('k-conflict', 'hash-b')).toEqual({ state: 'conflict' });
    expect(await store.complete('k-conflict', 'hash-b', { status: 200, body: 'other' })).toBe(false);
  });

  test('a retry while the first request is still running is reported in flight', async () => {
    await store.begin('k-running', 'hash-a');
    expect(await store.begin('k-running', 'hash-a')).toEqual({ state: 'in-flight' });
  });

  test('concurrent requests with one key: exactly one claims it', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => store.begin('k-race', 'hash-a')));
    expect(results.filter((r) => r.state === 'new')).toHaveLength(1);
    expect(results.filter((r) => r.state === 'in-flight')).toHaveLength(19);
  });

  test('an abandoned claim frees the key for a retry; a stored answer is never abandoned', async () => {
    await store.begin('k-abandon', 'hash-a');
    expect(await store.abandon('k-abandon')).toBe(true);
    expect(await store.begin('k-abandon', 'hash-a')).toEqual({ state: 'new' });
    await store.complete('k-abandon', 'hash-a', answer);
    expect(await store.abandon('k-abandon')).toBe(false);
    expect(await store.begin('k-abandon', 'hash-a')).toEqual({ state: 'replay', response: answer });
  });

  test('the first answer stays: completing twice keeps the first response', async () => {
    await store.begin('k-twice', 'hash-a');
    await store.complete('k-twice', 'hash-a', answer);
    expect(await store.complete('k-twice', 'hash-a', { status: 500, body: 'late' })).toBe(false);
    expect(await store.begin('k-twice', 'hash-a')).toEqual({ state: 'replay', response: answer });
  });

  test('an in-progress claim whose request died lapses after the in-flight TTL; the answer keeps the long TTL', async () => {
    const short = createIdempotencyStore(fx.redis, { prefix: redisKey(config, 'idem-short'), ttlS: 60, inFlightTtlMs: 50 });
    await short.begin('k-lapse', 'hash-a');
    await Bun.sleep(80);
    expect(await short.begin('k-lapse', 'hash-a')).toEqual({ state: 'new' });
    await short.complete('k-lapse', 'hash-a', answer);
    const ttlMs = await fx.redis.pttl(redisKey(config, 'idem-short', 'k-lapse'));
    expect(ttlMs).toBeGreaterThan(59_000);
  });
});
