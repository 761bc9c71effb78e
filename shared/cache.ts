// Bounded in-process cache in front of a loader (DICT entries, participants). A Map keeps insertion order,
// so deleting and re-inserting on every hit makes its first key the least recently used one: that key is
// evicted when a set would exceed maxEntries. Entries expire after ttlMs by the injected clock. Concurrent
// misses of one key share a single load. Other instances tell us about changes over NATS.
import type { NatsConnection, Status } from 'nats';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from './clock.ts';

/** No cache may be configured above this: at ~1 KiB per entry it is ~1 GiB of heap. */
export const CACHE_ENTRIES_LIMIT = 1_000_000;

export interface Cache<K, V> {
  readonly name: string;
  readonly size: number;
  /** the cached value, or the loader's answer on a miss (undefined: not found, and not cached) */
  get(key: K): Promise<V | undefined>;
  /** the cached value if present and fresh (counted as a hit), else undefined without loading: lets a hot
   *  path answer synchronously and fall back to `get` (which counts the miss) */
  peek(key: K): V | undefined;
  set(key: K, value: V): void;
  delete(key: K): void;
  clear(): void;
}

export interface CacheOptions<K, V> {
  name: string;
  /** at this size the least recently used entry is evicted (cache_evictions_total counts it) */
  maxEntries: number;
  /** an entry older than this is reloaded: the bound on staleness when an invalidation event is missed */
  ttlMs: number;
  load: (key: K) => Promise<V | undefined>;
  clock: Clock;
  registry: Registry;
}

interface Entry<V> {
  value: V;
  expiresAtMs: number;
}

export function createCache<K, V>(opts: CacheOptions<K, V>): Cache<K, V> {
  const { name, maxEntries, ttlMs, load, clock } = opts;
  if (!(Number.isInteger(maxEntries) && maxEntries >= 1 && maxEntries <= CACHE_ENTRIES_LIMIT)) throw new Error(`cache ${name}: maxEntries ${maxEntries} outside 1..${CACHE_ENTRIES_LIMIT}`);
  if (!(ttlMs > 0)) throw new Error(`cache ${name}: ttlMs must be > 0`);
  const m = cacheMetrics(opts.registry);
  const entries = new Map<K, Entry<V>>();
  // One load per missing key; as many as there are concurrent requests for distinct keys, no more.
  const loading = new Map<K, Promise<V | undefined>>();

  const put = (key: K, value: V) => {
    entries.delete(key);
    entries.set(key, { value, expiresAtMs: clock.nowMs() + ttlMs });
    if (entries.size > maxEntries) {
      const oldest = entries.keys().next().value as K;
      entries.delete(oldest);
      m.evictions.inc({ cache: name });
    }
    m.size.set({ cache: name }, entries.size);
  };

  const startLoad = (key: K): Promise<V | undefined> => {
    const p = load(key).then(
      (value) => {
        // a delete/clear while loading removed this load from `loading`: its value may predate the change
        if (loading.get(key) === p) {
          loading.delete(key);
          if (value !== undefined) put(key, value);
        }
        return value;
      },
      (err: unknown) => {
        if (loading.get(key) === p) loading.delete(key);
        throw err;
      },
    );
    loading.set(key, p);
    return p;
  };

  return {
    name,
    get size() {
      return entries.size;
    },
    async get(key) {
      const hit = entries.get(key);
      if (hit !== undefined && hit.expiresAtMs > clock.nowMs()) {
        entries.delete(key);
        entries.set(key, hit); // now the most recently used
        m.hits.inc({ cache: name });
        return hit.value;
      }
      if (hit !== undefined) {
        entries.delete(key);
        m.size.set({ cache: name }, entries.size);
      }
      m.misses.inc({ cache: name });
      return loading.get(key) ?? startLoad(key);
    },
    peek(key) {
      const hit = entries.get(key);
      if (hit === undefined || hit.expiresAtMs <= clock.nowMs()) return undefined;
      entries.delete(key);
      entries.set(key, hit); // now the most recently used
      m.hits.inc({ cache: name });
      return hit.value;
    },
    set(key, value) {
      loading.delete(key); // a load already running must not overwrite this newer value
      put(key, value);
    },
    delete(key) {
      entries.delete(key);
      loading.delete(key);
      m.size.set({ cache: name }, entries.size);
    },
    clear() {
      entries.clear();
      loading.clear();
      m.size.set({ cache: name }, 0);
    },
  };
}

interface CacheMetrics {
  hits: Counter<'cache'>;
  misses: Counter<'cache'>;
  evictions: Counter<'cache'>;
  size: Gauge<'cache'>;
}

/** The metrics are per registry and shared by every cache in it (told apart by the `cache` label). */
function cacheMetrics(registry: Registry): CacheMetrics {
  const counter = (metric: string, help: string) =>
    (registry.getSingleMetric(metric) as Counter<'cache'> | undefined) ?? new Counter({ name: metric, help, labelNames: ['cache'], registers: [registry] });
  return {
    hits: counter('cache_hits_total', 'Cache lookups answered from memory'),
    misses: counter('cache_misses_total', 'Cache lookups that went to the loader'),
    evictions: counter('cache_evictions_total', 'Entries evicted because the cache was full'),
    size: (registry.getSingleMetric('cache_size') as Gauge<'cache'> | undefined) ??
      new Gauge({ name: 'cache_size', help: 'Entries held by the cache', labelNames: ['cache'], registers: [registry] }),
  };
}

/**
 * Deletes the key named by each event on `subject` (core NATS), or clears the cache when keyOf returns
 * 'all' (so 'all' cannot be a key of such a cache) or the event cannot be read. Events published while
 * we were disconnected are lost, so the cache is cleared on every reconnect. The work per event is one
 * Map delete, so it is done in the callback rather than queued. Resolves once the subscription is live.
 */
export async function invalidateFromNats<K, V>(
  cache: Cache<K, V>,
  nc: NatsConnection,
  subject: string,
  keyOf: (data: unknown) => K | 'all' | undefined,
): Promise<() => void> {
  const sub = nc.subscribe(subject, {
    callback: (err, msg) => {
      let key: K | 'all' | undefined = 'all';
      if (err === null) {
        try {
          key = keyOf(msg.json<unknown>());
        } catch {
          key = 'all'; // unreadable event: a stale entry is worse than a reload
        }
      }
      if (key === 'all') cache.clear();
      else if (key !== undefined) cache.delete(key);
    },
  });
  const status = nc.status() as AsyncIterable<Status> & { stop?: () => void };
  void (async () => {
    for await (const s of status) if (s.type === 'reconnect') cache.clear();
  })();
  await nc.flush();
  return () => {
    sub.unsubscribe();
    status.stop?.();
  };
}
