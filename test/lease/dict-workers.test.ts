// DICT's BACEN pollers and claim timers run in one instance at a time: two DICT service instances over one
// schema hold the `dict.workers` lease once between them, and when the holder stops the other runs them.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { LEASE_LOCK_CLASS } from '../../shared/lease.ts';
import { createDictServices, DICT_WORKERS_LEASE, type DictServices } from '../../services/dict/services.ts';
import { dictFixture, FIXTURE_TIMEOUT_MS, type DictFixture } from '../dict/support.ts';

const TAKEOVER_MS_MAX = 2_000;
let fx: DictFixture;
const instances: DictServices[] = [];

beforeAll(async () => {
  fx = await dictFixture('lease');
}, FIXTURE_TIMEOUT_MS);

afterAll(async () => {
  for (const s of instances) await s.stop();
  await fx?.close();
}, FIXTURE_TIMEOUT_MS);

async function holders(): Promise<number> {
  const [row] = await fx.deps.sql<{ n: number }[]>`
    select count(*)::int as n from pg_locks
    where locktype = 'advisory' and granted and classid = ${LEASE_LOCK_CLASS}::oid
      and objid = hashtext(${`${fx.config.dbSchema}/${DICT_WORKERS_LEASE}`})::oid and objsubid = 2`;
  return row!.n;
}

async function untilHolders(n: number): Promise<number> {
  const t0 = performance.now();
  while ((await holders()) !== n) {
    if (performance.now() - t0 > TAKEOVER_MS_MAX) throw new Error(`not ${n} holder(s) within ${TAKEOVER_MS_MAX} ms`);
    await Bun.sleep(25);
  }
  return performance.now() - t0;
}

test('two DICT instances run their claim, sync and MED workers under one lease; the other takes over when one stops', async () => {
  const a = createDictServices(fx.deps, { workers: true });
  const b = createDictServices(fx.deps, { workers: true });
  instances.push(a, b);
  await a.start();
  await b.start();
  await untilHolders(1);
  await Bun.sleep(700); // several polls: the second instance still does not get it
  expect(await holders()).toBe(1);
  // whichever held it, once a is gone exactly one lease is held again: b's
  await a.stop();
  expect(await untilHolders(1)).toBeLessThan(TAKEOVER_MS_MAX);
  await b.stop();
  expect(await untilHolders(0)).toBeLessThan(TAKEOVER_MS_MAX);
}, 15_000);
