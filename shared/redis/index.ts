export { connectRedis, redisKey, deleteKeysWithPrefix, RedisUnreachableError } from './connect.ts';
export { createIdempotencyStore, type IdempotencyStore, type BeginResult, type StoredResponse } from './idempotency.ts';
export { createRateLimiter, type RateLimiter, type RateDecision } from './rate-limit.ts';
export { createSessionStore, type SessionStore } from './session.ts';
export { luaScript, type LuaScript } from './script.ts';
