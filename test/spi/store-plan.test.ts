// The store's status change finds each payment by index. Its batch UPDATE joins a jsonb recordset to the
// partitioned transactions table; with the EndToEndId typed `text` against the `char(32)` column the
// comparison cast the column, so every decision batch read the whole month partition (measured: 6.5 M rows
// read for 2,000 payments, growing with the table). The test captures the statement the store really sends
// and asks Postgres for its plan.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { systemClock } from '../../shared/clock.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { createSpiStore, type TransactionRow } from '../../services/spi/pipeline/store.ts';
import { migratedTestDb, transactionRow, type TestDb } from '../db/support.ts';

/** enough rows that a sequential scan is clearly the worse plan */
const ROWS = 5_000;

let db: TestDb;
let captured: { query: string; params: unknown[] }[] = [];
let traced: postgres.Sql<{ bigint: bigint }>;

beforeAll(async () => {
  db = await migratedTestDb('spi-store-plan');
  const at = new Date();
  const rows = Array.from({ length: ROWS }, (_, i) => ({ ...transactionRow(at, `p${String(i).padStart(10, '0')}`), status: 'SENT' }));
  for (let i = 0; i < rows.length; i += 1_000) await db.sql`insert into transactions ${db.sql(rows.slice(i, i + 1_000))}`;
  await db.sql`analyze transactions`;
  traced = postgres(db.config.databaseUrl, {
    max: 1,
    types: { bigint: postgres.BigInt },
    connection: { search_path: db.config.dbSchema, TimeZone: 'UTC' },
    debug: (_conn, query, params) => captured.push({ query, params: params as unknown[] }),
  });
}, 30_000);

afterAll(async () => {
  await traced?.end();
  await db?.cleanup();
});

function planNodes(plan: Record<string, unknown>): Record<string, unknown>[] {
  const kids = (plan['Plans'] as Record<string, unknown>[] | undefined) ?? [];
  return [plan, ...kids.flatMap(planNodes)];
}

describe('the status change of a payment', () => {
  test('is applied, and its UPDATE reads the payment by index, never the whole partition', async () => {
    const [row] = await db.sql<TransactionRow[]>`select * from transactions order by end_to_end_id limit 1`;
    const store = createSpiStore(traced, createLogger('test', 'silent'), systemClock, { waitMsMax: 0 });
    captured = [];
    const r = await store.write({ kind: 'update-tx', endToEndId: row!.end_to_end_id.trim(), createdAt: row!.created_at, from: ['SENT'], to: 'SETTLED', pacs002Status: 'ACSC', settledAt: new Date(), at: new Date() });
    expect(r.applied).toBe(true);
    const [after] = await db.sql`select status from transactions where end_to_end_id = ${row!.end_to_end_id}`;
    expect(after!.status).toBe('SETTLED');

    const update = captured.find((c) => /update transactions t set/i.test(c.query));
    expect(update).toBeDefined();
    const [explained] = await traced.unsafe(`explain (format json) ${update!.query}`, update!.params as never[]);
    const nodes = planNodes((explained!['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan);
    // the month partition holding the rows (an empty partition may be scanned: there is nothing to read)
    const [{ partition }] = await db.sql`select tableoid::regclass::text as partition from transactions where end_to_end_id = ${row!.end_to_end_id}` as unknown as [{ partition: string }];
    const onMonth = nodes.filter((n) => n['Relation Name'] === partition.split('.').pop());
    expect(onMonth.length).toBeGreaterThan(0);
    expect(onMonth.map((n) => n['Node Type'])).not.toContain('Seq Scan');
    await store.stop();
  }, 20_000);
});
