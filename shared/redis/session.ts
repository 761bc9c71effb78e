// Session store: JSON values under `${prefix}:${id}` with a TTL; touch() slides the TTL.
import type { Redis } from 'ioredis';

/** Default session lifetime without activity. */
export const SESSION_TTL_MS = 30 * 60 * 1000;
/** Largest serialized session: sessions carry ids and claims, not documents; a bigger one is a bug and put() throws. */
export const SESSION_VALUE_BYTES_MAX = 16 * 1024;
/** Session ids are random tokens (a UUID is 36); a longer one is a bug. */
export const SESSION_ID_LENGTH_MAX = 128;

export interface SessionStore<V> {
  put(id: string, value: V, ttlMs?: number): Promise<void>;
  get(id: string): Promise<V | undefined>;
  /** true when a session was removed */
  delete(id: string): Promise<boolean>;
  /** restarts the TTL; false when the session no longer exists */
  touch(id: string, ttlMs?: number): Promise<boolean>;
}

export function createSessionStore<V>(redis: Redis, opts: { prefix: string; ttlMs?: number }): SessionStore<V> {
  const defaultTtlMs = opts.ttlMs ?? SESSION_TTL_MS;
  const keyOf = (id: string) => {
    if (id.length === 0 || id.length > SESSION_ID_LENGTH_MAX) throw new Error(`session id length ${id.length} outside 1..${SESSION_ID_LENGTH_MAX}`);
    return `${opts.prefix}:${id}`;
  };
  const ttl = (ms: number | undefined) => {
    const v = ms ?? defaultTtlMs;
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`session TTL ${v} ms must be a positive integer`);
    return v;
  };
  return {
    async put(id, value, ttlMs) {
      const json = JSON.stringify(value);
      const bytes = Buffer.byteLength(json);
      if (bytes > SESSION_VALUE_BYTES_MAX) throw new RangeError(`session of ${bytes} bytes exceeds ${SESSION_VALUE_BYTES_MAX}`);
      await redis.set(keyOf(id), json, 'PX', ttl(ttlMs));
    },
    async get(id) {
      const json = await redis.get(keyOf(id));
      return json === null ? undefined : (JSON.parse(json) as V);
    },
    async delete(id) {
      return (await redis.del(keyOf(id))) === 1;
    },
    async touch(id, ttlMs) {
      return (await redis.pexpire(keyOf(id), ttl(ttlMs))) === 1;
    },
  };
}
