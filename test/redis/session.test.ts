import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Redis } from 'ioredis';
import { connectRedis, createSessionStore, deleteKeysWithPrefix, redisKey, type SessionStore } from '../../shared/redis/index.ts';
import { SESSION_VALUE_BYTES_MAX } from '../../shared/redis/session.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { testConfig } from '../support/env.ts';
import { redisFixture } from './fixture.ts';

const config = testConfig('redis-session');
let fx: { redis: Redis; close(): Promise<void> };
let sessions: SessionStore<{ userId: string; scopes: string[] }>;

beforeAll(async () => {
  fx = await redisFixture(config, 'session');
  sessions = createSessionStore(fx.redis, { prefix: redisKey(config, 'session'), ttlMs: 60_000 });
});
afterAll(async () => { await fx.close(); });

describe('session store', () => {
  test('a stored session reads back equal, and is gone once deleted', async () => {
    await sessions.put('s1', { userId: 'u1', scopes: ['pix.write'] });
    expect(await sessions.get('s1')).toEqual({ userId: 'u1', scopes: ['pix.write'] });
    expect(await sessions.delete('s1')).toBe(true);
    expect(await sessions.get('s1')).toBeUndefined();
    expect(await sessions.delete('s1')).toBe(false);
  });

  test('a session expires after its TTL unless touched', async () => {
    await sessions.put('s-expire', { userId: 'u2', scopes: [] }, 100);
    await sessions.put('s-touched', { userId: 'u3', scopes: [] }, 100);
    expect(await sessions.touch('s-touched', 5_000)).toBe(true);
    await Bun.sleep(130);
    expect(await sessions.get('s-expire')).toBeUndefined();
    expect(await sessions.touch('s-expire')).toBe(false);
    expect(await sessions.get('s-touched')).toEqual({ userId: 'u3', scopes: [] });
  });

  test('a session larger than the bound is refused', async () => {
    const huge = { userId: 'u4', scopes: ['x'.repeat(SESSION_VALUE_BYTES_MAX)] };
    await expect(sessions.put('s-huge', huge)).rejects.toThrow(RangeError);
    expect(await sessions.get('s-huge')).toBeUndefined();
  });
});

describe('redis connection', () => {
  test('an unreachable Redis fails start-up with one actionable line', async () => {
    const err = await connectRedis({ redisUrl: 'redis://127.0.0.1:1' }, createLogger('test', 'silent')).then(() => null, (e: Error) => e);
    expect(err?.message).toContain('cannot reach Redis at redis://127.0.0.1:1');
    expect(err?.message).toContain('REDIS_URL');
    expect(err?.message.includes('\n')).toBe(false);
  });

  test('deleteKeysWithPrefix removes the prefix\'s keys and nothing else', async () => {
    const mine = redisKey(config, 'cleanup');
    await fx.redis.set(`${mine}:a`, '1');
    await fx.redis.set(`${mine}:b`, '1');
    await fx.redis.set(`${mine}x:other`, '1');
    expect(await deleteKeysWithPrefix(fx.redis, `${mine}:`)).toBe(2);
    expect(await fx.redis.exists(`${mine}x:other`)).toBe(1);
    await expect(deleteKeysWithPrefix(fx.redis, '')).rejects.toThrow(/empty prefix/);
  });
});
