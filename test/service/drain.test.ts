// Graceful drain (shared/service.ts serveApp): two instances share a port (LISTEN_REUSE_PORT=on); while
// keep-alive clients hammer it, one instance is SIGTERMed. It answers /ready 503 and `Connection: close`
// for SHUTDOWN_DRAIN_MS, stops listening, finishes its in-flight requests and exits 0: no client request
// fails. A standby (spi's mode) with a port of its own answers only /health until it is activated; with a
// shared port it does not listen at all.
import { afterAll, expect, test } from 'bun:test';
import { resolve } from 'node:path';
import type { Subprocess } from 'bun';
import { SHUTDOWN_DRAIN_MS, STANDBY_HEADER } from '../../shared/service.ts';
import { testConfig } from '../support/env.ts';
import { freePorts } from '../support/ports.ts';

const SCRIPT = resolve(import.meta.dir, 'support/serve-instance.ts');
/** An instance boots (bun, Postgres/NATS/Redis connections) within this. */
const BOOT_MS_MAX = 20_000;
const CLIENTS = 8;

const config = testConfig('drain');
const procs: Subprocess[] = [];
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
});

function instance(port: number, env: Record<string, string> = {}): Subprocess {
  const p = Bun.spawn([process.execPath, SCRIPT], {
    env: { ...process.env, DB_SCHEMA: config.dbSchema, REDIS_PREFIX: config.redisPrefix, NATS_PREFIX: config.natsPrefix, LOG_LEVEL: 'warn', SERVICE_TEST_PORT: String(port), ...env },
    stdout: 'ignore',
    stderr: 'inherit',
  });
  procs.push(p);
  return p;
}

/** pid behind the port on a fresh connection, or null while nothing answers */
async function who(port: number): Promise<number | null> {
  return fetch(`http://127.0.0.1:${port}/who`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(1_000) })
    .then(async (r) => (r.ok ? ((await r.json()) as { pid: number }).pid : null), () => null);
}

async function until<T>(check: () => Promise<T | null | false>, ms: number): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (performance.now() > end) throw new Error(`not reached within ${ms} ms`);
    await Bun.sleep(25);
  }
}

test('SIGTERM of one of two instances sharing a port: every request of keep-alive clients succeeds, in-flight ones included', async () => {
  const [port] = await freePorts(1);
  const a = instance(port!, { LISTEN_REUSE_PORT: 'on' });
  const b = instance(port!, { LISTEN_REUSE_PORT: 'on' });
  // both answer (the kernel picks one per fresh connection)
  const seen = new Set<number>();
  await until(async () => {
    const pid = await who(port!);
    if (pid !== null) seen.add(pid);
    return seen.size === 2;
  }, BOOT_MS_MAX);

  const failures: string[] = [];
  const fromA = { total: 0, closing: 0 };
  let running = true;
  let sigtermAt = Infinity;
  const client = async () => {
    while (running) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/who`);
        const body = (await r.json()) as { pid: number };
        if (r.status !== 200) failures.push(`status ${r.status}`);
        if (body.pid === a.pid && performance.now() > sigtermAt) {
          fromA.total++;
          if (r.headers.get('connection') === 'close') fromA.closing++;
        }
      } catch (e) {
        failures.push(String((e as Error).message));
      }
    }
  };
  const clients = Array.from({ length: CLIENTS }, client);
  await Bun.sleep(500);
  // requests in flight at SIGTERM, on fresh connections so some land on a
  const slow = Array.from({ length: 6 }, () => fetch(`http://127.0.0.1:${port}/slow?ms=${SHUTDOWN_DRAIN_MS + 400}`, { headers: { connection: 'close' } })
    .then(async (r) => ({ status: r.status, pid: ((await r.json()) as { pid: number }).pid }), (e) => ({ status: 0, pid: 0, err: String(e) })));
  await Bun.sleep(100);
  sigtermAt = performance.now();
  a.kill('SIGTERM');
  const exitCode = await a.exited;
  const exitMs = performance.now() - sigtermAt;
  await Bun.sleep(300);
  running = false;
  await Promise.all(clients);
  const slowDone = await Promise.all(slow);

  expect(exitCode).toBe(0);
  // it drained, then waited for its slow requests
  expect(exitMs).toBeGreaterThanOrEqual(SHUTDOWN_DRAIN_MS);
  expect(failures).toEqual([]);
  expect(slowDone.every((s) => s.status === 200)).toBe(true);
  // during the drain a still answered, telling each client to reconnect (the first answers after kill() may
  // precede the signal's handling)
  expect(fromA.closing).toBeGreaterThan(0);
  // and b serves on alone
  expect(await who(port!)).toBe(b.pid);
  b.kill('SIGTERM');
  expect(await b.exited).toBe(0);
}, 60_000);

test('a standby with a port of its own answers /health only, until it is activated', async () => {
  const [port] = await freePorts(1);
  instance(port!, { SERVICE_TEST_STANDBY: 'on', SERVICE_TEST_ACTIVATE_MS: '3000' });
  const health = await until(async () => fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok && r, () => null), BOOT_MS_MAX);
  expect(health.status).toBe(200);
  const ready = await fetch(`http://127.0.0.1:${port}/ready`);
  const work = await fetch(`http://127.0.0.1:${port}/who`);
  if ((await who(port!)) === null) {
    // still a standby (activation comes 3 s after boot)
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'standby' });
    expect(work.status).toBe(503);
    expect(work.headers.get('retry-after')).toBe('1');
    // the gateway sends such a request again: the standby handled nothing
    expect(work.headers.get(STANDBY_HEADER)).toBe('1');
    expect(work.headers.get('content-type')).toContain('application/problem+json');
  }
  await until(() => who(port!), 10_000);
  expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
}, 40_000);

test('a standby with STANDBY_READY=on (Kubernetes) is ready for a rollout to count, and still serves nothing', async () => {
  const [port] = await freePorts(1);
  instance(port!, { SERVICE_TEST_STANDBY: 'on', SERVICE_TEST_ACTIVATE_MS: '60000', STANDBY_READY: 'on' });
  const ready = await until(async () => fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok && r, () => null), BOOT_MS_MAX);
  expect(await ready.json()).toMatchObject({ status: 'ready' });
  const work = await fetch(`http://127.0.0.1:${port}/who`);
  expect(work.status).toBe(503);
  expect(work.headers.get(STANDBY_HEADER)).toBe('1');
  // closed, so the caller's retry opens a new connection that a Service may give to the active pod
  expect(work.headers.get('connection')).toBe('close');
}, 40_000);

test('a standby on a shared port does not listen until it is activated', async () => {
  const [port] = await freePorts(1);
  const p = instance(port!, { LISTEN_REUSE_PORT: 'on', SERVICE_TEST_STANDBY: 'on', SERVICE_TEST_ACTIVATE_MS: '2500' });
  // connected and waiting: nothing answers on the port (a connection would be refused, not served 503)
  await Bun.sleep(1_500);
  const early = await fetch(`http://127.0.0.1:${port}/health`).then(() => 'answered', (e) => (e as { code?: string }).code);
  const pid = await until(() => who(port!), BOOT_MS_MAX);
  expect(pid).toBe(p.pid);
  expect(early).toBe('ECONNREFUSED');
}, 40_000);
