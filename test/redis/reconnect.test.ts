// Runs its own short-lived redis-server (not the shared one) so it can be stopped and restarted.
import { afterAll, describe, expect, test } from 'bun:test';
import { connectRedis } from '../../shared/redis/index.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { eventually } from '../nats/fixture.ts';
import { freePorts } from '../support/ports.ts';
import { privateServer } from '../support/private-server.ts';

const REDIS_SERVER = Bun.which('redis-server');
const [port] = (await freePorts(1)) as [number];
const server = privateServer('redis-server', [REDIS_SERVER!, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], port);
const startServer = server.start;
const stopServer = server.stop;

afterAll(stopServer);

describe.skipIf(REDIS_SERVER === null)('redis connection', () => {
  test('while Redis is down a command fails within a second, and after a restart commands work again within 2 s', async () => {
    await startServer();
    const redis = await connectRedis({ redisUrl: `redis://127.0.0.1:${port}` }, createLogger('test', 'silent'), 'test-reconnect');
    expect(await redis.ping()).toBe('PONG');
    await stopServer();
    const failedAt = performance.now();
    await expect(redis.get('k')).rejects.toThrow();
    expect(performance.now() - failedAt).toBeLessThan(1_000);
    await startServer();
    const restartedAt = performance.now();
    await eventually('PONG after restart', async () => (await redis.ping().catch(() => 'down')) === 'PONG', 2_000);
    expect(performance.now() - restartedAt).toBeLessThan(2_000);
    redis.disconnect();
  });
});
