// Runs its own short-lived nats-server (not the shared one) so it can be stopped and restarted.
import { afterAll, describe, expect, test } from 'bun:test';
import { connectNats } from '../../shared/nats/index.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { eventually } from './fixture.ts';
import { freePorts } from '../support/ports.ts';
import { privateServer } from '../support/private-server.ts';

const NATS_SERVER = Bun.which('nats-server');
const [port] = (await freePorts(1)) as [number];
const server = privateServer('nats-server', [NATS_SERVER!, '-a', '127.0.0.1', '-p', String(port)], port);
const startServer = server.start;
const stopServer = server.stop;

afterAll(stopServer);

describe.skipIf(NATS_SERVER === null)('nats connection', () => {
  test('after NATS restarts the connection is back within 2 s and delivers again', async () => {
    await startServer();
    const nc = await connectNats({ natsUrl: `nats://127.0.0.1:${port}` }, createLogger('test', 'silent'), 'test-reconnect');
    const got: string[] = [];
    nc.subscribe('ping', { callback: (_err, msg) => got.push(msg.string()) });
    await stopServer();
    await startServer();
    const restartedAt = performance.now();
    await eventually('message after restart', async () => {
      nc.publish('ping', 'after');
      await nc.flush().catch(() => {});
      return got.includes('after');
    }, 2_000);
    expect(performance.now() - restartedAt).toBeLessThan(2_000);
    await nc.close();
  });
});
