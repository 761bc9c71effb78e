// Idempotency-Key store. The first request with a key claims it (an in-progress marker with a short
// TTL); its answer is stored for ttlS and replayed to any retry with the same body; a retry with another
// body is refused. Each step is one Lua script, so two concurrent requests can never both claim a key.
import type { Redis } from 'ioredis';
import { luaScript } from './script.ts';

/**
 * An in-progress claim lapses after this long if its request never completes or abandons it (the
 * process died): the key is then free again. Longer than any request may run (BACEN timeouts are 10 s).
 */
export const IDEMPOTENCY_IN_FLIGHT_TTL_MS = 60_000;
/** Longest client key accepted (the HTTP layer validates first; here a longer one is a bug). */
export const IDEMPOTENCY_KEY_LENGTH_MAX = 255;
/** Request hashes are digests (sha-256 hex is 64). */
export const IDEMPOTENCY_HASH_LENGTH_MAX = 128;
/** Largest stored answer: API answers are small JSON; a bigger one is a bug and is refused with an error. */
export const IDEMPOTENCY_RESPONSE_BYTES_MAX = 256 * 1024;

export interface StoredResponse {
  status: number;
  headers?: Record<string, string>;
  /** the response body exactly as sent */
  body: string;
}

export type BeginResult =
  | { state: 'new' }
  | { state: 'replay'; response: StoredResponse }
  | { state: 'conflict' }
  | { state: 'in-flight' };

// The key is a hash: s = p (in progress) | d (done), h = request hash, r = stored response JSON.
const BEGIN = luaScript(`
local s = redis.call('HGET', KEYS[1], 's')
if not s then
  redis.call('HSET', KEYS[1], 's', 'p', 'h', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'new'}
end
if redis.call('HGET', KEYS[1], 'h') ~= ARGV[1] then return {'conflict'} end
if s == 'p' then return {'in-flight'} end
return {'replay', redis.call('HGET', KEYS[1], 'r')}
`);

// Stores the answer unless the key already holds an answer or another request's claim.
const COMPLETE = luaScript(`
local s = redis.call('HGET', KEYS[1], 's')
if s == 'd' then return 0 end
if s and redis.call('HGET', KEYS[1], 'h') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 's', 'd', 'h', ARGV[1], 'r', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`);

// Releases an in-progress claim; a stored answer is never removed.
const ABANDON = luaScript(`
if redis.call('HGET', KEYS[1], 's') == 'p' then return redis.call('DEL', KEYS[1]) end
return 0
`);

export interface IdempotencyStore {
  begin(key: string, requestHash: string): Promise<BeginResult>;
  /** true when stored; false when the key already holds an answer or a different request's claim */
  complete(key: string, requestHash: string, response: StoredResponse): Promise<boolean>;
  /** frees an in-progress claim (after a 5xx) so the client may retry; true when one was freed */
  abandon(key: string): Promise<boolean>;
}

export function createIdempotencyStore(redis: Redis, opts: { prefix: string; ttlS: number; inFlightTtlMs?: number }): IdempotencyStore {
  const ttlMs = opts.ttlS * 1000;
  const inFlightTtlMs = opts.inFlightTtlMs ?? IDEMPOTENCY_IN_FLIGHT_TTL_MS;
  if (!(ttlMs > 0 && inFlightTtlMs > 0)) throw new Error('idempotency TTLs must be > 0');
  const keyOf = (key: string) => {
    if (key.length === 0 || key.length > IDEMPOTENCY_KEY_LENGTH_MAX) throw new Error(`idempotency key length ${key.length} outside 1..${IDEMPOTENCY_KEY_LENGTH_MAX}`);
    return `${opts.prefix}:${key}`;
  };
  const checkHash = (hash: string) => {
    if (hash.length === 0 || hash.length > IDEMPOTENCY_HASH_LENGTH_MAX) throw new Error(`request hash length ${hash.length} outside 1..${IDEMPOTENCY_HASH_LENGTH_MAX}`);
  };

  return {
    async begin(key, requestHash) {
      checkHash(requestHash);
      const reply = (await BEGIN.run(redis, [keyOf(key)], [requestHash, inFlightTtlMs])) as [string, string?];
      switch (reply[0]) {
        case 'new':
        case 'conflict':
        case 'in-flight':
          return { state: reply[0] };
        case 'replay':
          return { state: 'replay', response: JSON.parse(String(reply[1])) as StoredResponse };
        default:
          throw new Error(`idempotency begin: unexpected reply ${String(reply[0])}`);
      }
    },
    async complete(key, requestHash, response) {
      checkHash(requestHash);
      const json = JSON.stringify(response);
      if (Buffer.byteLength(json) > IDEMPOTENCY_RESPONSE_BYTES_MAX) {
        throw new RangeError(`idempotent response of ${Buffer.byteLength(json)} bytes exceeds ${IDEMPOTENCY_RESPONSE_BYTES_MAX}`);
      }
      return (await COMPLETE.run(redis, [keyOf(key)], [requestHash, json, ttlMs])) === 1;
    },
    async abandon(key) {
      return (await ABANDON.run(redis, [keyOf(key)], [])) === 1;
    },
  };
}
