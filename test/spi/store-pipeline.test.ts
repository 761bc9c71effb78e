// The store sends a batch's statements pipelined on one reserved connection: BEGIN with the first ones,
// the audit insert and COMMIT last. These tests hold it to what the sequential version did: a key already
// bound in the database refuses its payment without a trace of it, the audit rows and the changes they
// record are in one transaction, a data error fails only its own op (and is the error reported, not the
// 'transaction is aborted' of the statements sent after it), and the audit insert and COMMIT go out last.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { systemClock } from '../../shared/clock.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { createSpiStore, writeOrThrow, type MessageRow, type SpiStore, type TransactionRow } from '../../services/spi/pipeline/store.ts';
import { migratedTestDb, transactionRow, type TestDb } from '../db/support.ts';

let db: TestDb;
let traced: postgres.Sql<{ bigint: bigint }>;
let captured: string[] = [];
let store: SpiStore;
let clearing: bigint;
let funding: bigint;

beforeAll(async () => {
  db = await migratedTestDb('spi-store-pipeline');
  traced = postgres(db.config.databaseUrl, {
    max: 2,
    types: { bigint: postgres.BigInt },
    connection: { search_path: db.config.dbSchema, TimeZone: 'UTC' },
    debug: (_conn, query) => captured.push(query.trim().split(/\s+/).slice(0, 3).join(' ').toLowerCase()),
  });
  // a window long enough that writes issued together land in one batch
  store = createSpiStore(traced, createLogger('test', 'silent'), systemClock, { waitMsMax: 50 });
  const accounts = await db.sql`select id, code from ledger_accounts where kind = 'SYSTEM'`;
  clearing = accounts.find((a) => a.code === 'SPI_CLEARING')!.id as bigint;
  funding = accounts.find((a) => a.code === 'FUNDING')!.id as bigint;
}, 30_000);

afterAll(async () => {
  await store?.stop();
  await traced?.end();
  await db?.cleanup();
});

let seq = 0;
const sentRow = (): TransactionRow => ({ ...transactionRow(new Date(), `q${String(++seq).padStart(10, '0')}`), status: 'SENT' }) as TransactionRow;
const message = (row: TransactionRow, type: string): MessageRow => ({
  msg_id: `M${row.end_to_end_id.slice(1, 30)}${type.slice(-3)}`, msg_type: type, direction: 'OUT', end_to_end_id: row.end_to_end_id, signed_xml: `<Doc>${type}</Doc>`, created_at: new Date(),
});
const hash = (c: string) => c.repeat(64);
const auditOf = (e2e: string) => db.sql`select action, xmin::text as xid from audit_log where entity_id = ${e2e} or detail->>'endToEndId' = ${e2e} order by chain_seq`;

describe('a batch of new payments', () => {
  test('a key already bound to another payment refuses its payment: no row, no message, no audit row; the batch beside it is written', async () => {
    const first = sentRow();
    await writeOrThrow(store, { kind: 'insert-tx', row: first, idempotency: { key: 'key-bound', hash: hash('a') }, messages: [message(first, 'pacs.008')] });

    const again = sentRow();
    const other = sentRow();
    const [refused, written] = await Promise.all([
      writeOrThrow(store, { kind: 'insert-tx', row: again, idempotency: { key: 'key-bound', hash: hash('b') }, messages: [message(again, 'pacs.008')] }),
      writeOrThrow(store, { kind: 'insert-tx', row: other, idempotency: { key: 'key-free', hash: hash('c') }, messages: [message(other, 'pacs.008')] }),
    ]);
    expect(refused).toMatchObject({ applied: false, existingEndToEndId: first.end_to_end_id, existingRequestHash: hash('a') });
    expect(written.applied).toBe(true);

    expect(await db.sql`select 1 from transactions where end_to_end_id = ${again.end_to_end_id}`).toHaveLength(0);
    expect(await db.sql`select 1 from spi_messages where end_to_end_id = ${again.end_to_end_id}`).toHaveLength(0);
    expect(await auditOf(again.end_to_end_id)).toHaveLength(0);

    // the payment written: its row, its message and the message's audit row in one transaction
    const [tx] = await db.sql`select xmin::text as xid from transactions where end_to_end_id = ${other.end_to_end_id}`;
    const [msg] = await db.sql`select xmin::text as xid from spi_messages where end_to_end_id = ${other.end_to_end_id}`;
    const trail = await auditOf(other.end_to_end_id);
    expect(trail.map((a) => a.action)).toEqual(['message.out']);
    expect([msg!.xid, trail[0]!.xid]).toEqual([tx!.xid, tx!.xid]);
  });

  test('a row the database refuses (check violation) fails only its op, with its own error', async () => {
    const good = sentRow();
    const bad = { ...sentRow(), amount_centavos: 0n };
    const [ok, refused] = await Promise.allSettled([
      writeOrThrow(store, { kind: 'insert-tx', row: good, messages: [message(good, 'pacs.008')] }),
      writeOrThrow(store, { kind: 'insert-tx', row: bad, messages: [message(bad, 'pacs.008')] }),
    ]);
    expect(ok.status).toBe('fulfilled');
    expect(refused.status).toBe('rejected');
    expect(String(((refused as PromiseRejectedResult).reason as { code?: string }).code)).toBe('23514');
    expect(await db.sql`select 1 from transactions where end_to_end_id = ${good.end_to_end_id}`).toHaveLength(1);
    expect(await auditOf(bad.end_to_end_id)).toHaveLength(0);
  });
});

describe('a batch of decisions', () => {
  test('BEGIN first, the audit insert then COMMIT last; the change, its posting, its message and its audit rows in one transaction', async () => {
    const row = sentRow();
    await writeOrThrow(store, { kind: 'insert-tx', row });
    captured = [];
    const r = await writeOrThrow(store, {
      kind: 'update-tx', endToEndId: row.end_to_end_id, createdAt: row.created_at, from: ['SENT'], to: 'SETTLED', pacs002Status: 'ACSC', settledAt: new Date(), at: new Date(),
      posting: { ref: `PAY:${row.end_to_end_id}`, kind: 'PAYMENT_OUT', entries: [{ accountId: funding, amountCentavos: -5n }, { accountId: clearing, amountCentavos: 5n }] },
      messages: [{ ...message(row, 'pacs.002'), direction: 'IN' }],
    });
    expect(r).toMatchObject({ applied: true, posted: true });
    expect(captured[0]).toBe('begin');
    expect(captured.slice(-2)).toEqual(['insert into audit_log', 'commit']);

    const [tx] = await db.sql`select xmin::text as xid, status from transactions where end_to_end_id = ${row.end_to_end_id}`;
    const [posting] = await db.sql`select xmin::text as xid from ledger_transactions where ref = ${'PAY:' + row.end_to_end_id}`;
    const entries = await db.sql`select xmin::text as xid from ledger_entries where ref = ${'PAY:' + row.end_to_end_id}`;
    const trail = await auditOf(row.end_to_end_id);
    expect(tx!.status).toBe('SETTLED');
    expect(trail.map((a) => a.action)).toEqual(['message.in', 'payment.settled']);
    expect(new Set([posting!.xid, ...entries.map((e) => e.xid), ...trail.map((a) => a.xid)])).toEqual(new Set([tx!.xid]));
  });
});
