// Leases: exactly one instance runs a run-once worker, and another takes over within 2 s when the holder's
// Postgres session dies (a crash, a killed backend) or when it stops.
import { afterAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { LEASE_LOCK_CLASS, startLease, type Lease } from '../../shared/lease.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { testConfig } from '../support/env.ts';

const config = testConfig('lease');
const logger = createLogger('lease-test', 'silent');
const admin = postgres(config.databaseUrl, { max: 1, onnotice: () => {} });
/** the 2 s promise the leased workers make: a new holder runs within this after the old one is gone */
const TAKEOVER_MS_MAX = 2_000;
const leases: Lease[] = [];

afterAll(async () => {
  for (const l of leases) await l.stop();
  await admin.end();
});

/** a leased worker that records when it runs: started/stopped counts per instance */
function instance(name: string) {
  const runs = { started: 0, stopped: 0 };
  const lease = startLease(config, logger, name, () => {
    runs.started++;
    return async () => void runs.stopped++;
  });
  leases.push(lease);
  return { lease, runs };
}

async function until(cond: () => boolean, ms: number): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await Bun.sleep(20);
  }
  return performance.now() - t0;
}

async function holderPids(name: string): Promise<number[]> {
  const rows = await admin<{ pid: number }[]>`
    select pid from pg_locks
    where locktype = 'advisory' and granted and classid = ${LEASE_LOCK_CLASS}::oid
      and objid = hashtext(${`${config.dbSchema}/${name}`})::oid and objsubid = 2`;
  return rows.map((r) => r.pid);
}

describe('a lease', () => {
  test('two instances on one name: exactly one holds it and runs the work', async () => {
    const a = instance('one-holder');
    const b = instance('one-holder');
    await until(() => a.lease.held() || b.lease.held(), TAKEOVER_MS_MAX);
    // both have had several polls to take it too
    await Bun.sleep(700);
    expect([a.lease.held(), b.lease.held()].filter(Boolean)).toHaveLength(1);
    expect(a.runs.started + b.runs.started).toBe(1);
    expect(await holderPids('one-holder')).toHaveLength(1);
  });

  test("the holder's Postgres session killed: its work stops and the other instance runs it within 2 s", async () => {
    const a = instance('takeover');
    const b = instance('takeover');
    await until(() => a.lease.held() || b.lease.held(), TAKEOVER_MS_MAX);
    const [holder, other] = a.lease.held() ? [a, b] : [b, a];
    const [pid] = await holderPids('takeover');
    expect(pid).toBeDefined();
    await admin`select pg_terminate_backend(${pid!})`;
    const takeoverMs = await until(() => other.lease.held(), TAKEOVER_MS_MAX);
    expect(takeoverMs).toBeLessThan(TAKEOVER_MS_MAX);
    expect(other.runs.started).toBe(1);
    // the old holder noticed through its heartbeat and stopped its work
    await until(() => !holder.lease.held(), TAKEOVER_MS_MAX);
    expect(holder.runs.stopped).toBe(holder.runs.started);
    expect(await holderPids('takeover')).toHaveLength(1);
  });

  test('a holder that stops lets the lock go at once and the other takes over', async () => {
    const a = instance('handover');
    await until(() => a.lease.held(), TAKEOVER_MS_MAX);
    const b = instance('handover');
    await Bun.sleep(600);
    expect(b.lease.held()).toBe(false);
    await a.lease.stop();
    expect(a.runs.stopped).toBe(1);
    const takeoverMs = await until(() => b.lease.held(), TAKEOVER_MS_MAX);
    expect(takeoverMs).toBeLessThan(TAKEOVER_MS_MAX);
  });

  test('work that fails to start does not keep the lease: another instance gets it', async () => {
    let attempts = 0;
    const failing = startLease(config, logger, 'failing-start', () => {
      attempts++;
      throw new Error('cannot start');
    });
    leases.push(failing);
    await until(() => attempts >= 1, TAKEOVER_MS_MAX);
    await failing.stop();
    expect(failing.held()).toBe(false);
    const b = instance('failing-start');
    await until(() => b.lease.held(), TAKEOVER_MS_MAX);
    expect(await holderPids('failing-start')).toHaveLength(1);
  });

  test('leases with the same name in different schemas do not contend', async () => {
    const other = testConfig('lease-other');
    const a = instance('per-schema');
    const b = startLease(other, logger, 'per-schema', () => async () => {});
    leases.push(b);
    await until(() => a.lease.held() && b.held(), TAKEOVER_MS_MAX);
  });
});
