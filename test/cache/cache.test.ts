import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import { createCache, invalidateFromNats, type CacheOptions } from '../../shared/cache.ts';
import { ManualClock } from '../../shared/clock.ts';
import { connectNats, subject } from '../../shared/nats/index.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { eventually, gate } from '../nats/fixture.ts';
import { testConfig } from '../support/env.ts';

const config = testConfig('cache');
let listener: NatsConnection;
let publisher: NatsConnection;

beforeAll(async () => {
  const logger = createLogger('test-cache', config.logLevel);
  listener = await connectNats(config, logger, 'test-cache-listener');
  publisher = await connectNats(config, logger, 'test-cache-publisher');
});
// core NATS only: no streams and no Redis keys to remove
afterAll(async () => { await Promise.all([listener.drain(), publisher.drain()]); });

/** A cache over a loader that answers `${key}@v${n}` and counts its calls per key. */
function setup(over: Partial<CacheOptions<string, string>> = {}) {
  const clock = new ManualClock();
  const registry = new Registry();
  const loads = new Map<string, number>();
  const cache = createCache<string, string>({
    name: 'dict',
    maxEntries: 100,
    ttlMs: 60_000,
    clock,
    registry,
    load: async (key) => {
      const n = (loads.get(key) ?? 0) + 1;
      loads.set(key, n);
      return `${key}@v${n}`;
    },
    ...over,
  });
  const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.cache === 'dict')?.value ?? 0;
  return { cache, clock, loads, metric };
}

describe('cache', () => {
  test('a miss loads once, then hits are served from memory; hits and misses are counted', async () => {
    const { cache, loads, metric } = setup();
    expect(await cache.get('k1')).toBe('k1@v1');
    expect(await cache.get('k1')).toBe('k1@v1');
    expect(await cache.get('k1')).toBe('k1@v1');
    expect(loads.get('k1')).toBe(1);
    expect(await metric('cache_misses_total')).toBe(1);
    expect(await metric('cache_hits_total')).toBe(2);
    expect(await metric('cache_size')).toBe(1);
  });

  test('concurrent misses of one key share a single load', async () => {
    const release = gate();
    let calls = 0;
    const { cache } = setup({ load: async (k) => { calls++; await release.wait; return `${k}!`; } });
    const pending = Promise.all(Array.from({ length: 10 }, () => cache.get('k')));
    release.open();
    expect(await pending).toEqual(Array(10).fill('k!'));
    expect(calls).toBe(1);
  });

  test('an entry is reloaded once ttlMs has passed on the clock, not before', async () => {
    const { cache, clock } = setup();
    await cache.get('k');
    clock.advance(59_999);
    expect(await cache.get('k')).toBe('k@v1');
    clock.advance(1);
    expect(await cache.get('k')).toBe('k@v2');
  });

  test('at maxEntries the least recently used entry is evicted and counted', async () => {
    const { cache, loads, metric } = setup({ maxEntries: 2 });
    await cache.get('a');
    await cache.get('b');
    await cache.get('a'); // a is now more recent than b
    await cache.get('c'); // evicts b
    expect(cache.size).toBe(2);
    expect(await metric('cache_evictions_total')).toBe(1);
    await cache.get('a');
    expect(loads.get('a')).toBe(1);
    await cache.get('b');
    expect(loads.get('b')).toBe(2);
  });

  test('not found is not cached, and a failed load is not cached', async () => {
    let fail = true;
    let calls = 0;
    const { cache } = setup({ load: async (k) => { calls++; if (fail) throw new Error('db down'); return k === 'none' ? undefined : k; } });
    await expect(cache.get('k')).rejects.toThrow('db down');
    fail = false;
    expect(await cache.get('k')).toBe('k');
    expect(await cache.get('none')).toBeUndefined();
    expect(await cache.get('none')).toBeUndefined();
    expect(calls).toBe(4);
  });

  test('a value loaded while its key was invalidated is returned but not cached', async () => {
    const release = gate();
    let version = 0;
    const { cache } = setup({ load: async () => { const v = ++version; if (v === 1) await release.wait; return `v${v}`; } });
    const stale = cache.get('k');
    cache.delete('k');
    release.open();
    expect(await stale).toBe('v1');
    expect(await cache.get('k')).toBe('v2');
  });

  test('a NATS event naming a key deletes it, so the next get reloads; an "all" event clears the cache', async () => {
    const { cache, loads } = setup();
    const subj = subject(config, 'pix.keys.changed');
    const stop = await invalidateFromNats(cache, listener, subj, (data) => {
      const d = data as { key?: string; all?: boolean };
      return d.all ? 'all' : d.key;
    });
    cache.set('k1', 'manual');
    await cache.get('k2');
    expect(await cache.get('k1')).toBe('manual');

    publisher.publish(subj, JSON.stringify({ key: 'k1' }));
    await eventually('k1 invalidated', () => cache.size === 1);
    expect(await cache.get('k1')).toBe('k1@v1');
    expect(await cache.get('k2')).toBe('k2@v1');

    publisher.publish(subj, JSON.stringify({ all: true }));
    await eventually('cache cleared', () => cache.size === 0);
    expect(await cache.get('k2')).toBe('k2@v2');
    expect(loads.get('k2')).toBe(2);

    stop();
    publisher.publish(subj, JSON.stringify({ all: true }));
    await publisher.flush();
    await listener.flush();
    expect(cache.size).toBe(1);
  });
});
