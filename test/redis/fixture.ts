// Shared set-up for the Redis tests: one client per file, and removal of every key under the file's prefix.
import type { Redis } from 'ioredis';
import type { Config } from '../../shared/config.ts';
import { connectRedis, deleteKeysWithPrefix } from '../../shared/redis/index.ts';
import { createLogger } from '../../shared/telemetry.ts';

export async function redisFixture(config: Config, name: string): Promise<{ redis: Redis; close(): Promise<void> }> {
  const redis = await connectRedis(config, createLogger(`test-${name}`, config.logLevel), `test-${name}`);
  return {
    redis,
    async close() {
      await deleteKeysWithPrefix(redis, `${config.redisPrefix}:`);
      await redis.quit();
    },
  };
}
