import { afterAll, beforeAll, expect, test } from 'bun:test';
import { Registry } from 'prom-client';
import { ManualClock } from '../../shared/clock.ts';
import {
  countDefaultPartitionRows,
  ensurePartitions,
  partitionMetrics,
  runPartitionMaintenance,
  startPartitionMaintainer,
} from '../../shared/db/partitions.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { migratedTestDb, transactionRow, type TestDb } from './support.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const logger = createLogger('test-partitions', 'silent');
let t: TestDb;

beforeAll(async () => {
  t = await migratedTestDb('partitions');
});
afterAll(async () => {
  await t.cleanup();
});

async function partitionsOf(table: string): Promise<string[]> {
  const rows = await t.sql<{ name: string }[]>`
    select c.relname as name from pg_inherits i
      join pg_class c on c.oid = i.inhrelid
      join pg_class p on p.oid = i.inhparent
     where p.relname = ${table} and p.relnamespace = ${t.config.dbSchema}::regnamespace
     order by c.relname`;
  return rows.map((r) => r.name);
}

async function defaultRowsGauge(registry: Registry, table: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric('partition_default_rows')?.get();
  return metric?.values.find((v) => v.labels.table === table)?.value;
}

test('partitions exist for the current month and the next two, for every monthly table, and a rerun creates none', async () => {
  const clock = new ManualClock(new Date('2026-11-25T12:00:00Z'));
  const first = await ensurePartitions(t.sql, { clock, logger });
  expect(first.created).toHaveLength(9);
  for (const table of ['transactions', 'audit_log', 'settlements']) {
    expect(await partitionsOf(table)).toEqual([`${table}_default`, `${table}_y2026m11`, `${table}_y2026m12`, `${table}_y2027m01`]);
  }
  expect((await ensurePartitions(t.sql, { clock, logger })).created).toEqual([]);
});

test('month bounds are UTC: the last instant of November goes to November, midnight UTC of December 1st to December', async () => {
  const late = new Date('2026-11-30T23:59:59.999Z');
  const midnight = new Date('2026-12-01T00:00:00Z');
  await t.sql`insert into transactions ${t.sql([transactionRow(late, 'bound1'), transactionRow(midnight, 'bound2')])}`;
  const rows = await t.sql`select tableoid::regclass::text as part from transactions where end_to_end_id like '%bound%' order by created_at`;
  expect(rows.map((r) => r.part)).toEqual(['transactions_y2026m11', 'transactions_y2026m12']);
});

test('a row for a month without a partition lands in DEFAULT, raises partition_default_rows above zero and logs a warning', async () => {
  const clock = new ManualClock(new Date('2026-11-25T12:00:00Z'));
  const lines: string[] = [];
  const logger = createLogger('test-partitions', 'warn', { write: (line: string) => void lines.push(line) });
  const registry = new Registry();
  const metrics = partitionMetrics(registry);
  const march = new Date('2027-03-10T08:00:00Z');
  await t.sql`insert into transactions ${t.sql(transactionRow(march, 'stray'))}`;

  await runPartitionMaintenance({ sql: t.sql, clock, logger, metrics });
  const [row] = await t.sql`select tableoid::regclass::text as part from transactions where end_to_end_id like '%stray%'`;
  expect(row?.part).toBe('transactions_default');
  expect(await defaultRowsGauge(registry, 'transactions')).toBe(1);
  expect(await defaultRowsGauge(registry, 'audit_log')).toBe(0);
  const counts = await countDefaultPartitionRows(t.sql);
  expect(counts.transactions.rows).toBe(1);
  expect(counts.transactions.min).toStartWith('2027-03-10');
  const warning = lines.map((l) => JSON.parse(l)).find((l) => l.table === 'transactions');
  expect(warning).toMatchObject({ level: 'warn', rows: 1, msg: 'transactions_default holds rows no partition covers' });
});

test('creating the stray row\'s month later moves it out of DEFAULT and the alert clears', async () => {
  const clock = new ManualClock(new Date('2027-01-05T00:00:00Z')); // window now Jan..Mar 2027
  const registry = new Registry();
  const result = await runPartitionMaintenance({ sql: t.sql, clock, logger, metrics: partitionMetrics(registry) });
  expect(result.moved).toEqual({ transactions: 1 });
  const [row] = await t.sql`select tableoid::regclass::text as part, amount_centavos from transactions where end_to_end_id like '%stray%'`;
  expect(row).toEqual({ part: 'transactions_y2027m03', amount_centavos: 1_234n });
  expect(await defaultRowsGauge(registry, 'transactions')).toBe(0);
  // DEFAULT is attached again and still catches what no partition covers
  expect(await partitionsOf('transactions')).toContain('transactions_default');
});

test('an audit_log row moved out of DEFAULT keeps its id and content, and stays append-only', async () => {
  const may = new Date('2027-05-02T10:00:00Z');
  const [inserted] = await t.sql`insert into audit_log (at, actor, action, entity_type, entity_id, detail)
    values (${may}, 'ops', 'KEY_CREATED', 'pix_key', 'k1', ${t.sql.json({ reason: 'USER_REQUESTED' })}) returning id`;
  const clock = new ManualClock(new Date('2027-03-01T00:00:00Z')); // window Mar..May 2027
  expect((await ensurePartitions(t.sql, { clock, logger })).moved).toEqual({ audit_log: 1 });
  const [moved] = await t.sql`select tableoid::regclass::text as part, id, detail from audit_log where entity_id = 'k1'`;
  expect(moved).toEqual({ part: 'audit_log_y2027m05', id: inserted!.id, detail: { reason: 'USER_REQUESTED' } });
  await expect(t.sql`delete from audit_log where entity_id = 'k1'`).rejects.toThrow(/append-only/);
  await expect(t.sql`truncate audit_log_y2027m05`).rejects.toThrow(/append-only/);
});

test('two maintainers running at once create each partition once and both succeed', async () => {
  const clock = new ManualClock(new Date('2027-08-01T00:00:00Z'));
  const [a, b] = await Promise.all([ensurePartitions(t.sql, { clock }), ensurePartitions(t.sql, { clock })]);
  expect([...a.created, ...b.created].filter((n) => n.startsWith('transactions_')).sort()).toEqual([
    'transactions_y2027m08', 'transactions_y2027m09', 'transactions_y2027m10',
  ]);
});

test('the maintainer runs on start, publishes its gauges and stops cleanly', async () => {
  const registry = new Registry();
  const clock = new ManualClock(new Date('2027-03-01T00:00:00Z'));
  const stop = await startPartitionMaintainer({ sql: t.sql, clock, logger, registry, intervalMs: DAY_MS });
  expect(await defaultRowsGauge(registry, 'settlements')).toBe(0);
  const last = await registry.getSingleMetric('partition_maintenance_last_success_seconds')?.get();
  expect(last?.values[0]?.value).toBe(clock.nowMs() / 1000);
  await stop();
});

test('monthsAhead outside its bound is refused', async () => {
  const clock = new ManualClock();
  await expect(ensurePartitions(t.sql, { clock, monthsAhead: 25 })).rejects.toThrow(/monthsAhead=25/);
});
