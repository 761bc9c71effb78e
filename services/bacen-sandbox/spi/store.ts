// SQL for the sandbox SPI. Settlement is gross and real time, but written in batches: one statement
// (spi_settle, sql/sandbox/0004_sandbox_settle.sql) locks every PI account a batch touches (FOR UPDATE, in
// ISPB order, so two batches never deadlock), decides each item in arrival order against the running
// balances, and writes balances, payments, returns and ledger entries in the same implicit transaction.
import type { Sql } from 'postgres';

export type Outcome = { status: 'SETTLED' } | { status: 'REJECTED'; reason: string };

export interface PaymentItem {
  kind: 'payment';
  endToEndId: string;
  msgId: string;
  debtorIspb: string;
  creditorIspb: string;
  amountCentavos: bigint;
  /** decided before settlement (receiver rejected or timed out): recorded as rejected, nothing moves */
  rejected?: string;
}

export interface ReturnItem {
  kind: 'return';
  returnId: string;
  endToEndId: string;
  returnerIspb: string;
  receiverIspb: string;
  amountCentavos: bigint;
  reason: string;
}

export type SettleItem = PaymentItem | ReturnItem;

interface Entry {
  ispb: string;
  reference: string;
  kind: 'PACS008' | 'PACS004' | 'STR';
  direction: 'CRDT' | 'DBIT';
  amount: bigint;
}

/** One item as sql/sandbox/0004_sandbox_settle.sql's spi_settle reads it. */
function settleInput(i: SettleItem): Record<string, string> {
  if (i.kind === 'payment') {
    return { k: 'p', e2e: i.endToEndId, msg: i.msgId, d: i.debtorIspb, c: i.creditorIspb, amt: String(i.amountCentavos), ...(i.rejected ? { rej: i.rejected } : {}) };
  }
  return { k: 'r', id: i.returnId, e2e: i.endToEndId, d: i.returnerIspb, c: i.receiverIspb, amt: String(i.amountCentavos), why: i.reason };
}

/**
 * Settles a batch in one statement (one round trip, one commit): the decisions are spi_settle's, in SQL.
 * Measured (loadtest/payments.ts at 80/s, interleaved A/B): the sandbox process went from ~27 to ~20 % of a
 * core; Postgres' own CPU did not measurably change (the work inside the function is the same statements
 * without their protocol round trips), whatever 0004's header comment expected.
 */
export async function settleBatch(sql: Sql<{ bigint: bigint }>, items: SettleItem[], at: Date): Promise<Outcome[]> {
  const rows = await sql<{ ord: number; outcome: 'SETTLED' | 'REJECTED'; reason: string | null }[]>`
    select ord, outcome, reason from spi_settle(${sql.json(items.map(settleInput))}, ${at})`;
  // one outcome per item, in order: anything else is a bug in spi_settle
  if (rows.length !== items.length || rows.some((r, i) => r.ord !== i + 1)) throw new Error(`spi_settle answered ${rows.length} outcomes for ${items.length} items`);
  return rows.map((r) => (r.outcome === 'SETTLED' ? { status: 'SETTLED' } : { status: 'REJECTED', reason: r.reason! }));
}

async function insertEntries(sql: Sql<{ bigint: bigint }>, entries: Entry[], at: Date): Promise<void> {
  if (!entries.length) return;
  await sql`insert into spi_entries (ispb, reference, kind, direction, amount_centavos, booked_at)
    select * from unnest(${entries.map((e) => e.ispb)}::text[], ${entries.map((e) => e.reference)}::text[], ${entries.map((e) => e.kind)}::text[],
      ${entries.map((e) => e.direction)}::text[], ${entries.map((e) => String(e.amount))}::bigint[], array_fill(${at}::timestamptz, array[${entries.length}::int]))`;
}

/** Sets a PI balance (control API); the difference is booked as an STR entry so statements still add up. */
export async function setBalance(sql: Sql<{ bigint: bigint }>, ispb: string, centavos: bigint, at: Date, reference: string): Promise<boolean> {
  return sql.begin(async (tx) => {
    const [row] = await tx<{ balance_centavos: bigint }[]>`select balance_centavos from spi_accounts where ispb = ${ispb} for update`;
    if (!row) return false;
    const diff = centavos - row.balance_centavos;
    await tx`update spi_accounts set balance_centavos = ${String(centavos)}::bigint where ispb = ${ispb}`;
    if (diff !== 0n) {
      await insertEntries(tx as unknown as Sql<{ bigint: bigint }>, [{ ispb, reference, kind: 'STR', direction: diff > 0n ? 'CRDT' : 'DBIT', amount: diff > 0n ? diff : -diff }], at);
    }
    return true;
  }) as Promise<boolean>;
}

export interface StrResult {
  piCentavos: bigint;
  reserveCentavos: bigint;
  replayed: boolean;
}

/** Moves money between a participant's reserve (STR) and PI accounts; idempotent on the transfer id. */
export async function strTransfer(sql: Sql<{ bigint: bigint }>, t: { id: string; ispb: string; direction: 'TO_PI' | 'TO_RESERVE'; amountCentavos: bigint }, at: Date): Promise<StrResult | { refused: string }> {
  return sql.begin(async (tx) => {
    const [pi] = await tx<{ balance_centavos: bigint }[]>`select balance_centavos from spi_accounts where ispb = ${t.ispb} for update`;
    const [reserve] = await tx<{ balance_centavos: bigint }[]>`select balance_centavos from spi_reserves where ispb = ${t.ispb} for update`;
    if (!pi || !reserve) return { refused: `no PI/reserve account for ${t.ispb}` };
    const [seen] = await tx<{ ispb: string; direction: string; amount_centavos: bigint }[]>`select ispb, direction, amount_centavos from spi_str_transfers where id = ${t.id}`;
    if (seen) {
      if (seen.ispb !== t.ispb || seen.direction !== t.direction || seen.amount_centavos !== t.amountCentavos) return { refused: `transfer id ${t.id} was already used for a different transfer` };
      return { piCentavos: pi.balance_centavos, reserveCentavos: reserve.balance_centavos, replayed: true };
    }
    const from = t.direction === 'TO_PI' ? reserve.balance_centavos : pi.balance_centavos;
    if (from < t.amountCentavos) return { refused: `insufficient ${t.direction === 'TO_PI' ? 'reserve' : 'PI'} balance` };
    const sign = t.direction === 'TO_PI' ? 1n : -1n;
    const piAfter = pi.balance_centavos + sign * t.amountCentavos;
    const reserveAfter = reserve.balance_centavos - sign * t.amountCentavos;
    await tx`update spi_accounts set balance_centavos = ${String(piAfter)}::bigint where ispb = ${t.ispb}`;
    await tx`update spi_reserves set balance_centavos = ${String(reserveAfter)}::bigint where ispb = ${t.ispb}`;
    await tx`insert into spi_str_transfers (id, ispb, direction, amount_centavos, at) values (${t.id}, ${t.ispb}, ${t.direction}, ${String(t.amountCentavos)}::bigint, ${at})`;
    await insertEntries(tx as unknown as Sql<{ bigint: bigint }>, [{ ispb: t.ispb, reference: t.id, kind: 'STR', direction: t.direction === 'TO_PI' ? 'CRDT' : 'DBIT', amount: t.amountCentavos }], at);
    return { piCentavos: piAfter, reserveCentavos: reserveAfter, replayed: false };
  }) as Promise<StrResult | { refused: string }>;
}

export interface InboxRow {
  seq: bigint;
  msg_type: string;
  msg_id: string;
  xml: string;
}

export async function insertInbox(sql: Sql<{ bigint: bigint }>, rows: { ispb: string; type: string; msgId: string; xml: string; availableAt: Date }[]): Promise<void> {
  if (!rows.length) return;
  await sql`insert into spi_inbox (ispb, msg_type, msg_id, xml, available_at)
    select * from unnest(${rows.map((r) => r.ispb)}::text[], ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.msgId)}::text[],
      ${rows.map((r) => r.xml)}::text[], ${rows.map((r) => r.availableAt.toISOString())}::timestamptz[])`;
}

/**
 * Acknowledges the lease `ackLease` (its messages are removed) and leases up to `max` more to `newLease`,
 * in one statement (one round trip per poll instead of two). The acknowledged rows are excluded from the
 * new lease even when their lease has run out: one statement must not both delete and re-lease a row.
 */
export async function pollInbox(sql: Sql<{ bigint: bigint }>, p: { ispb: string; ackLease: string | null; newLease: string; max: number; now: Date; leaseUntil: Date }): Promise<{ acked: number; rows: InboxRow[] }> {
  if (p.max === 0) {
    const acked = p.ackLease ? (await sql`delete from spi_inbox where lease_id = ${p.ackLease} and ispb = ${p.ispb}`).count : 0;
    return { acked, rows: [] };
  }
  const ack = p.ackLease ?? '';
  // SKIP LOCKED: concurrent pollers take disjoint batches instead of queueing behind each other
  const found = await sql<(InboxRow & { acked: number })[]>`
    with acked as (delete from spi_inbox where lease_id = ${ack} and ispb = ${p.ispb} returning 1),
    leased as (
      update spi_inbox set lease_id = ${p.newLease}, leased_until = ${p.leaseUntil}
      where seq in (
        select seq from spi_inbox
        where ispb = ${p.ispb} and available_at <= ${p.now} and (leased_until is null or leased_until < ${p.now}) and lease_id is distinct from ${ack}
        order by seq limit ${p.max} for update skip locked)
      returning seq, msg_type, msg_id, xml)
    select a.n as acked, l.seq, l.msg_type, l.msg_id, l.xml
    from (select count(*)::int as n from acked) a left join leased l on true`;
  const acked = found[0]?.acked ?? 0;
  const rows: InboxRow[] = [];
  for (const r of found) if (r.seq !== null) rows.push({ seq: r.seq, msg_type: r.msg_type, msg_id: r.msg_id, xml: r.xml });
  rows.sort((a, b) => (a.seq < b.seq ? -1 : 1));
  return { acked, rows };
}
