// `fluxiq up --instances N`: N instances of dict, spi and settlement (sharing their ports), one sandbox; a
// bad N is refused before anything starts. spi runs active/standby: two real `serve spi` processes over one
// schema, exactly one listening; kill -9 of the active one and the standby serves within 2 s, recovering
// from Postgres, and a payment goes through.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { resolve } from 'node:path';
import type { Subprocess } from 'bun';
import { childSpecs, instancesArg, UP_INSTANCES_MAX } from '../../cli/up.ts';
import { INBOX_WAIT_MS } from '../../services/spi/messages/sandbox-link.ts';
import { EXIT_RESTART_NOW } from '../../shared/runtime.ts';
import { cpf, startSpi, type SpiHarness } from '../spi/support/harness.ts';
import { freePorts } from '../support/ports.ts';

test('--instances is 1 when absent and takes 1..UP_INSTANCES_MAX', () => {
  expect(instancesArg(['--no-prepare'])).toEqual({ ok: true, value: 1 });
  expect(instancesArg(['--instances', '3'])).toEqual({ ok: true, value: 3 });
  for (const bad of ['0', String(UP_INSTANCES_MAX + 1), 'two', '-1', '']) {
    const r = instancesArg(['--instances', bad]);
    expect(r.ok).toBe(false);
  }
  expect(instancesArg(['--instances']).ok).toBe(false);
});

test('N instances of dict, spi and settlement share their port; the sandbox stays single', () => {
  const specs = childSpecs(2);
  expect(specs.map((s) => s.name)).toEqual(['sandbox', 'dict#1', 'dict#2', 'spi#1', 'spi#2', 'settlement#1', 'settlement#2']);
  for (const s of specs) expect(s.env?.LISTEN_REUSE_PORT).toBe(s.name.includes('#') ? 'on' : undefined);
  // every instance runs the same service command
  expect(specs[1]!.cmd).toEqual(specs[2]!.cmd);
});

test('one instance each is the plain platform, without port sharing', () => {
  const specs = childSpecs(1);
  expect(specs.map((s) => s.name)).toEqual(['sandbox', 'dict', 'spi', 'settlement']);
  expect(specs.every((s) => s.env === undefined)).toBe(true);
});

/** The platform's promise: another instance serves within this after a crash. */
const TAKEOVER_MS_MAX = 2_000;
/** A `serve spi` process boots (bun, deps, signer, positions) within this. */
const BOOT_MS_MAX = 30_000;
const PAYER = cpf('390533447');
const PAYEE = cpf('123456789');

describe('spi active/standby', () => {
  let h: SpiHarness;
  let port: number;
  const procs: Subprocess[] = [];

  beforeAll(async () => {
    h = await startSpi('up-spi-ha');
    await h.openAccount('0001', '4001', PAYER, '100.00');
    await h.registerKey('carla@example.com', 'EMAIL', { taxId: PAYEE, name: 'Carla Recebedora' });
    // the harness's in-process spi opened the account; from here on only the `serve spi` processes may read
    // the inbox (a third reader would take their pacs.002s)
    await h.app.runtime.stop();
    h.app.runtime.stop = async () => {};
    [port] = await freePorts(1) as [number];
  }, 60_000);

  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await h?.stop();
  }, 60_000);

  const spawnSpi = () => {
    const p = Bun.spawn([process.execPath, resolve(import.meta.dir, '../../cli/main.ts'), 'serve', 'spi'], {
      env: {
        ...process.env, LOG_LEVEL: 'warn', DB_SCHEMA: h.config.dbSchema, REDIS_PREFIX: h.config.redisPrefix, NATS_PREFIX: h.config.natsPrefix,
        PKI_DIR: h.sandbox.dir, BACEN_URL: h.sandbox.baseUrl, SPI_PORT: String(port), DICT_PORT: String(h.dictPort),
        LISTEN_REUSE_PORT: 'on', SIGNER_THREADS: '1', SPI_POLLERS: '2',
      },
      stdout: 'ignore',
      stderr: 'inherit',
    });
    procs.push(p);
    return p;
  };
  /** pid behind the port on a fresh connection (null: nothing listens) */
  const activePid = () => fetch(`http://127.0.0.1:${port}/health`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(1_000) })
    .then(async (r) => (r.ok ? ((await r.json()) as { pid: number }).pid : null), () => null);
  /** pids listening on the port */
  const listeners = () => {
    const out = Bun.spawnSync(['ss', '-ltnpH', `sport = :${port}`]).stdout.toString();
    return [...new Set([...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])))];
  };
  const pay = (amount: string) => fetch(`http://127.0.0.1:${port}/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    body: JSON.stringify({ amount, debtor: { branch: '0001', number: '4001' }, creditor: { key: 'carla@example.com' } }),
  }).then(async (r) => ({ status: r.status, json: (await r.json()) as { status?: string; endToEndId?: string } }));

  test('two instances, one active; kill -9 of the active one and the standby serves within 2 s and pays', async () => {
    const a = spawnSpi();
    const b = spawnSpi();
    const first = await h.until(activePid, BOOT_MS_MAX);
    // the other one is up and waiting (its lease session is open), not listening
    await h.until(async () => {
      const [row] = await h.base.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where application_name = ${`fluxiq-lease:${h.config.dbSchema}/spi.active`}`;
      return row!.n === 2;
    }, BOOT_MS_MAX);
    expect([a.pid, b.pid]).toContain(first);
    expect(listeners()).toEqual([first]);
    expect(a.exitCode ?? b.exitCode).toBeNull();

    const before = await pay('3.00');
    expect(before).toMatchObject({ status: 201, json: { status: 'SETTLED' } });

    const standby = first === a.pid ? b : a;
    const t0 = performance.now();
    process.kill(first, 'SIGKILL');
    await h.until(async () => (await activePid()) === standby.pid, 10_000);
    const takeoverMs = performance.now() - t0;
    expect(takeoverMs).toBeLessThan(TAKEOVER_MS_MAX);
    expect(listeners()).toEqual([standby.pid]);

    // the killed instance's inbox long polls stay parked at SPI for up to their wait and lease what arrives
    // to a reader that is gone (SPI redelivers it after its lease, 30 s: the payment times out, then settles);
    // a payment once they ended is decided at once
    await Bun.sleep(INBOX_WAIT_MS);
    const after = await pay('4.00');
    expect(after).toMatchObject({ status: 201, json: { status: 'SETTLED' } });
    const balance = await fetch(`http://127.0.0.1:${port}/accounts/0001/4001/balance`).then((r) => r.json());
    expect(balance).toMatchObject({ balance: '93.00', reserved: '0.00' });
    standby.kill('SIGTERM');
    expect(await standby.exited).toBe(0);
  }, 90_000);

  test('SIGTERM of the active one: its in-flight payment is answered, it exits 0 and the standby serves', async () => {
    const a = spawnSpi();
    const b = spawnSpi();
    await h.until(async () => {
      const [row] = await h.base.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where application_name = ${`fluxiq-lease:${h.config.dbSchema}/spi.active`}`;
      return row!.n === 2 && (await activePid()) !== null;
    }, BOOT_MS_MAX);
    const first = (await activePid())!;
    const [active, standby] = first === a.pid ? [a, b] : [b, a];
    const inFlight = pay('2.00');
    await Bun.sleep(5);
    active.kill('SIGTERM');
    expect(await inFlight).toMatchObject({ status: 201, json: { status: 'SETTLED' } });
    expect(await active.exited).toBe(0);
    await h.until(async () => (await activePid()) === standby.pid, 10_000);
    expect(await pay('1.00')).toMatchObject({ status: 201, json: { status: 'SETTLED' } });
    standby.kill('SIGTERM');
    expect(await standby.exited).toBe(0);
  }, 90_000);

  test("a lost lease (its Postgres session ended): the active one is fenced at once, exits 75 to be restarted, the standby serves", async () => {
    const a = spawnSpi();
    const b = spawnSpi();
    const leaseName = `fluxiq-lease:${h.config.dbSchema}/spi.active`;
    await h.until(async () => {
      const [row] = await h.base.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where application_name = ${leaseName}`;
      return row!.n === 2 && (await activePid()) !== null;
    }, BOOT_MS_MAX);
    const first = (await activePid())!;
    const [active, standby] = first === a.pid ? [a, b] : [b, a];
    // end the session that holds the lock (what a Postgres restart does to every session)
    await h.base.sql`
      select pg_terminate_backend(l.pid) from pg_locks l join pg_stat_activity s on s.pid = l.pid
      where s.application_name = ${leaseName} and l.locktype = 'advisory' and l.granted`;
    expect(await active.exited).toBe(EXIT_RESTART_NOW);
    await h.until(async () => (await activePid()) === standby.pid, 10_000);
    await Bun.sleep(INBOX_WAIT_MS);
    expect(await pay('1.50')).toMatchObject({ status: 201, json: { status: 'SETTLED' } });
    standby.kill('SIGTERM');
    expect(await standby.exited).toBe(0);
  }, 90_000);
});
