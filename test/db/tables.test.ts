import { afterAll, beforeAll, expect, test } from 'bun:test';
import { eq, getTableColumns, getTableName } from 'drizzle-orm';
import { ManualClock } from '../../shared/clock.ts';
import { ensurePartitions } from '../../shared/db/partitions.ts';
import * as schema from '../../shared/db/schema.ts';
import { settlements, transactions } from '../../shared/db/schema.ts';
import { migratedTestDb, transactionRow, type TestDb } from './support.ts';

const NOV = new Date('2026-11-25T12:00:00Z');
/** above Number.MAX_SAFE_INTEGER: a float would round it */
const HUGE_CENTAVOS = 9_007_199_254_740_993n;
let t: TestDb;

beforeAll(async () => {
  t = await migratedTestDb('tables');
  await ensurePartitions(t.sql, { clock: new ManualClock(NOV) });
});
afterAll(async () => {
  await t.cleanup();
});

test('amounts come back as exact bigint centavos through postgres.js and drizzle', async () => {
  await t.sql`insert into transactions ${t.sql(transactionRow(NOV, 'money', HUGE_CENTAVOS))}`;
  const [raw] = await t.sql`select amount_centavos from transactions where end_to_end_id like '%money%'`;
  expect(raw?.amount_centavos).toBe(HUGE_CENTAVOS);
  const [viaDrizzle] = await t.db.select({ amount: transactions.amountCentavos, at: transactions.createdAt }).from(transactions)
    .where(eq(transactions.endToEndId, transactionRow(NOV, 'money').end_to_end_id));
  expect(viaDrizzle).toEqual({ amount: HUGE_CENTAVOS, at: NOV });
});

test('raw postgres.js keeps Date parameters and results even though drizzle is in use', async () => {
  const [row] = await t.sql`select ${NOV}::timestamptz as at`;
  expect(row?.at).toEqual(NOV);
});

test('a zero or negative amount is refused', async () => {
  await expect(t.sql`insert into transactions ${t.sql(transactionRow(NOV, 'zero', 0n))}`).rejects.toThrow(/amount_centavos_check/);
  await expect(t.sql`insert into transactions ${t.sql(transactionRow(NOV, 'neg', -1n))}`).rejects.toThrow(/amount_centavos_check/);
});

test('the same EndToEndId twice within a month is refused, even with a different created_at', async () => {
  const first = transactionRow(NOV, 'dup');
  await t.sql`insert into transactions ${t.sql(first)}`;
  await expect(t.sql`insert into transactions ${t.sql(first)}`).rejects.toThrow(/duplicate key/);
  const later = { ...first, created_at: new Date('2026-11-27T09:00:00Z') };
  await expect(t.sql`insert into transactions ${t.sql(later)}`).rejects.toThrow(/transactions_y2026m11_e2e_key/);
});

test('an EndToEndId that does not match E + ISPB + yyyyMMddHHmm + 11 is refused', async () => {
  const bad = { ...transactionRow(NOV, 'shape'), end_to_end_id: 'X'.repeat(32) };
  await expect(t.sql`insert into transactions ${t.sql(bad)}`).rejects.toThrow(/end_to_end_id_check/);
});

test('audit_log refuses UPDATE, DELETE and TRUNCATE; inserts still work', async () => {
  await t.sql`insert into audit_log (at, actor, action, entity_type, entity_id) values (${NOV}, 'u1', 'LOGIN', 'user', 'u1')`;
  await expect(t.sql`update audit_log set actor = 'someone else'`).rejects.toThrow('audit_log is append-only: UPDATE refused');
  await expect(t.sql`delete from audit_log`).rejects.toThrow('audit_log is append-only: DELETE refused');
  await expect(t.sql`truncate audit_log`).rejects.toThrow('audit_log is append-only: TRUNCATE refused');
  await expect(t.sql`truncate audit_log_default`).rejects.toThrow('audit_log is append-only: TRUNCATE refused');
  const [n] = await t.sql`select count(*) as n from audit_log`;
  expect(n?.n).toBe(1n);
});

test('a settlement row whose net is not credit minus debit is refused', async () => {
  const row = { settlementDate: '2026-11-25', windowId: 'w1', participantIspb: '10000001', status: 'OPEN' };
  await t.db.insert(settlements).values({ ...row, netCentavos: 500n, grossCreditCentavos: 800n, grossDebitCentavos: 300n });
  const unbalanced = await t.db
    .insert(settlements)
    .values({ ...row, windowId: 'w2', netCentavos: 501n, grossCreditCentavos: 800n, grossDebitCentavos: 300n })
    .execute()
    .then(() => null, (e: Error) => e.cause as { constraint_name?: string });
  expect(unbalanced?.constraint_name).toBe('settlements_net_balances');
  const [back] = await t.db.select().from(settlements);
  expect(back).toMatchObject({ settlementDate: '2026-11-25', netCentavos: 500n });
});

test('pix keys land in the partition of their type and a key that does not fit its type is refused', async () => {
  const entry = {
    key: '+5511987654321', key_type: 'PHONE', participant_ispb: '12345678', branch: '0001', account_number: '123456',
    account_type: 'CACC', account_opened_at: NOV, owner_type: 'NATURAL_PERSON', owner_tax_id: '52998224725',
    owner_name: 'Fulano de Tal', cid: 'a'.repeat(64), request_id: crypto.randomUUID(), key_owned_since: NOV,
  };
  await t.sql`insert into pix_keys ${t.sql(entry)}`;
  const [row] = await t.sql`select tableoid::regclass::text as part from pix_keys where key = ${entry.key}`;
  expect(row?.part).toBe('pix_keys_phone');
  await expect(t.sql`insert into pix_keys ${t.sql({ ...entry, key: '5511987654321' })}`).rejects.toThrow(/pix_keys_key_format/);
});

test('every table drizzle describes has exactly the columns the migrations create (no drift either way)', async () => {
  const tables = Object.values(schema).filter((v): v is Extract<(typeof schema)[keyof typeof schema], { _: unknown }> =>
    typeof v === 'object' && v !== null && 'getSQL' in v && getTableName(v as never) !== undefined);
  expect(tables.length).toBeGreaterThanOrEqual(5);
  for (const table of tables) {
    const name = getTableName(table as never);
    const described = Object.values(getTableColumns(table as never)).map((c) => (c as { name: string }).name).sort();
    const rows = await t.sql<{ column_name: string }[]>`
      select column_name from information_schema.columns where table_schema = current_schema() and table_name = ${name}`;
    expect({ table: name, columns: described }).toEqual({ table: name, columns: rows.map((r) => r.column_name).sort() });
  }
});

test('an audit row read through drizzle carries its chain position and SHA-256 hashes', async () => {
  await t.sql`insert into audit_log (at, actor, action, entity_type, entity_id, detail) values (${NOV}, 'test', 'probe', 'none', 'x', '{}')`;
  const [row] = await t.db.select().from(schema.auditLog).where(eq(schema.auditLog.action, 'probe'));
  expect(typeof row?.chainSeq).toBe('bigint');
  expect(row?.hash).toBeInstanceOf(Uint8Array);
  expect(row?.hash.length).toBe(32);
  expect(row?.prevHash.length).toBe(32);
});
