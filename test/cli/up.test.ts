// `./fluxiq up` as an operator runs it: all four processes reach /ready, a service killed with SIGKILL is
// back and ready within the platform's 2 s recovery target, and SIGTERM stops everything.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { resolve } from 'node:path';
import type { Subprocess } from 'bun';
import { createDb } from '../../shared/db/client.ts';
import { dropSchema, migrate } from '../../shared/db/migrate.ts';
import { connect } from 'nats';
import { deleteStreams } from '../../shared/nats/index.ts';
import { testConfig } from '../support/env.ts';
import { freePorts } from '../support/ports.ts';

const free = (await freePorts(5)) as [number, number, number, number, number];
const ports = { DICT_PORT: free[0], SPI_PORT: free[1], SETTLEMENT_PORT: free[2], SANDBOX_PORT: free[3], SANDBOX_CONTROL_PORT: free[4] };
const config = testConfig('up', Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])));
const env = { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), DB_SCHEMA: config.dbSchema, REDIS_PREFIX: config.redisPrefix, NATS_PREFIX: config.natsPrefix, LOG_LEVEL: 'warn', SANDBOX_DICT_SEED: '0' };
const database = createDb(config);
let supervisor: Subprocess;

async function health(port: number): Promise<{ pid: number } | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(300) });
    return res.ok ? ((await res.json()) as { pid: number }) : null;
  } catch {
    return null;
  }
}

async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(500) })).status === 200;
  } catch {
    return false;
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await Bun.sleep(20);
  }
  return false;
}

beforeAll(async () => {
  await migrate(database.sql, { schema: config.dbSchema });
  supervisor = Bun.spawn([process.execPath, resolve(import.meta.dir, '../../cli/main.ts'), 'up', '--no-prepare'], { env, stdout: 'ignore', stderr: 'inherit' });
});

afterAll(async () => {
  if (supervisor.exitCode === null) supervisor.kill('SIGKILL');
  await dropSchema(database.sql, config.dbSchema);
  await dropSchema(database.sql, `${config.dbSchema}_bacen`);
  await database.close();
  const nc = await connect({ servers: config.natsUrl });
  await deleteStreams(await nc.jetstreamManager(), config);
  await nc.close();
});

describe('./fluxiq up', () => {
  test('brings dict, spi, settlement and the sandbox to /ready', async () => {
    const all = [ports.DICT_PORT, ports.SPI_PORT, ports.SETTLEMENT_PORT, ports.SANDBOX_CONTROL_PORT];
    expect(await until(async () => (await Promise.all(all.map(ready))).every(Boolean), 30_000)).toBe(true);
  }, 40_000);

  test('a service killed with SIGKILL is restarted and ready again within 2 s', async () => {
    const before = await health(ports.DICT_PORT);
    expect(before).not.toBeNull();
    const killedAt = performance.now();
    process.kill(before!.pid, 'SIGKILL');
    const back = await until(async () => {
      const h = await health(ports.DICT_PORT);
      return h !== null && h.pid !== before!.pid && (await ready(ports.DICT_PORT));
    }, 5_000);
    const recoveryMs = performance.now() - killedAt;
    console.log(`dict ready again ${recoveryMs.toFixed(0)} ms after SIGKILL`);
    expect(back).toBe(true);
    expect(recoveryMs).toBeLessThan(2_000);
  });

  test('SIGTERM stops every service and the supervisor exits 0', async () => {
    const pids = await Promise.all([ports.DICT_PORT, ports.SPI_PORT, ports.SETTLEMENT_PORT].map(health));
    supervisor.kill('SIGTERM');
    expect(await supervisor.exited).toBe(0);
    for (const h of pids) expect(() => process.kill(h!.pid, 0)).toThrow();
    expect(await health(ports.SANDBOX_CONTROL_PORT)).toBeNull();
  }, 20_000);
});
