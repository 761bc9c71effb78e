// A Lua script run with EVALSHA. The SHA is computed here, so the usual call is a single EVALSHA; the
// script is sent with SCRIPT LOAD only when Redis does not know it (first use, restart, SCRIPT FLUSH).
import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';

export interface LuaScript {
  readonly sha: string;
  run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown>;
}

export function luaScript(source: string): LuaScript {
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    sha,
    async run(redis, keys, args) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (e) {
        if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
        const loaded = await redis.script('LOAD', source);
        if (loaded !== sha) throw new Error(`SCRIPT LOAD returned ${String(loaded)}, expected ${sha}`);
        return redis.evalsha(sha, keys.length, ...keys, ...args);
      }
    },
  };
}
