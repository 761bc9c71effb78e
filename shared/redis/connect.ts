// One ioredis client per process. It reconnects forever with a capped backoff, while each command gives
// up after a bounded number of reconnect attempts so a request fails fast (503) instead of hanging.
import { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../telemetry.ts';

/** First reconnect wait; doubles per attempt up to REDIS_RECONNECT_WAIT_MS_MAX. */
export const REDIS_RECONNECT_WAIT_MS_MIN = 50;
/** Longest pause between reconnect attempts: a restarted Redis is picked up within this (it was 1 s, which
 *  alone took ~1.3 s of the 2 s recovery promise after a Redis restart; an attempt costs one connect). */
export const REDIS_RECONNECT_WAIT_MS_MAX = 200;
/** A command queued while Redis is down fails after this many reconnect attempts (~0.15 s + connect time). */
export const REDIS_RETRIES_PER_REQUEST_MAX = 2;
/** A command without an answer after this long fails (the caller answers 503) instead of holding a request. */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;
/** How long the first connect may take before start-up fails. */
export const REDIS_CONNECT_TIMEOUT_MS = 2_000;

export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
}

export async function connectRedis(config: Pick<Config, 'redisUrl'>, logger: Logger, name = 'fluxiq'): Promise<Redis> {
  const log = logger.child({ component: 'redis', connection: name });
  const redis = new Redis(config.redisUrl, {
    lazyConnect: false,
    connectionName: name,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: REDIS_RETRIES_PER_REQUEST_MAX,
    retryStrategy: (attempt) => Math.min(REDIS_RECONNECT_WAIT_MS_MIN * 2 ** (attempt - 1), REDIS_RECONNECT_WAIT_MS_MAX),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', resolve);
      redis.once('error', reject);
    });
  } catch (e) {
    redis.disconnect();
    const reason = e instanceof Error ? e.message : String(e);
    throw new RedisUnreachableError(`cannot reach Redis at ${safeUrl(config.redisUrl)} (${reason}): start redis-server or set REDIS_URL`);
  }
  log.info('redis connected');
  // after start-up an error is a degraded connection that ioredis is already retrying
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection degraded'));
  redis.on('reconnecting', (ms: number) => log.debug({ inMs: ms }, 'redis reconnecting'));
  redis.on('ready', () => log.info('redis ready'));
  return redis;
}

/** The URL without its password, for messages. */
function safeUrl(raw: string): string {
  const u = new URL(raw);
  if (u.password !== '') u.password = '***';
  return u.toString();
}

/** `${config.redisPrefix}:part:part`: every key the platform writes lives under its prefix. */
export function redisKey(config: Pick<Config, 'redisPrefix'>, ...parts: string[]): string {
  return [config.redisPrefix, ...parts].join(':');
}

/** Keys deleted per UNLINK call while cleaning a prefix; SCAN is asked for as many per step. */
export const DELETE_KEYS_PER_CALL_MAX = 500;

/** Removes every key starting with `prefix` (test clean-up). Refuses an empty prefix: that is the whole database. */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  if (prefix === '') throw new Error('deleteKeysWithPrefix refuses an empty prefix');
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', DELETE_KEYS_PER_CALL_MAX);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
