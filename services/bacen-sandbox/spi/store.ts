// SQL for the sandbox SPI. Settlement is gross and real time, but written in batches: one transaction
// locks every PI account a batch touches (FOR UPDATE, in ISPB order, so two batches never deadlock),
// decides each item in arrival order against the running balances, and writes balances, payments,
// returns and ledger entries with one statement each.
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

export async function settleBatch(sql: Sql<{ bigint: bigint }>, items: SettleItem[], at: Date): Promise<Outcome[]> {
  return sql.begin(async (tx) => {
    const ispbs = [...new Set(items.flatMap((i) => (i.kind === 'payment' ? [i.debtorIspb, i.creditorIspb] : [i.returnerIspb, i.receiverIspb])))].sort();
    const accounts = await tx<{ ispb: string; balance_centavos: bigint }[]>`
      select ispb, balance_centavos from spi_accounts where ispb = any(${ispbs}) order by ispb for update`;
    const balance = new Map(accounts.map((a) => [a.ispb, a.balance_centavos]));
    const e2es = items.filter((i) => i.kind === 'payment').map((i) => i.endToEndId);
    const existing = new Set(e2es.length ? (await tx<{ id: string }[]>`select end_to_end_id as id from spi_payments where end_to_end_id = any(${e2es})`).map((r) => r.id) : []);
    const returnIds = items.filter((i): i is ReturnItem => i.kind === 'return').map((i) => i.returnId);
    const originalIds = items.filter((i): i is ReturnItem => i.kind === 'return').map((i) => i.endToEndId);
    const usedReturnIds = new Set(returnIds.length ? (await tx<{ id: string }[]>`select return_id as id from spi_returns where return_id = any(${returnIds})`).map((r) => r.id) : []);
    const originals = new Map(
      (originalIds.length
        ? await tx<{ end_to_end_id: string; debtor_ispb: string; creditor_ispb: string; amount_centavos: bigint; returned_centavos: bigint; status: string }[]>`
            select end_to_end_id, debtor_ispb, creditor_ispb, amount_centavos, returned_centavos, status
            from spi_payments where end_to_end_id = any(${originalIds}) order by end_to_end_id for update`
        : []
      ).map((p) => [p.end_to_end_id, p]),
    );

    const outcomes: Outcome[] = [];
    const payments: { e2e: string; msg: string; d: string; c: string; amt: bigint; status: string; reason: string | null }[] = [];
    const returns: { id: string; e2e: string; r: string; v: string; amt: bigint; reason: string; status: string; rej: string | null }[] = [];
    const entries: Entry[] = [];
    const move = (from: string, to: string, amount: bigint, reference: string, kind: Entry['kind']) => {
      balance.set(from, balance.get(from)! - amount);
      balance.set(to, balance.get(to)! + amount);
      entries.push({ ispb: from, reference, kind, direction: 'DBIT', amount }, { ispb: to, reference, kind, direction: 'CRDT', amount });
    };

    for (const item of items) {
      if (item.kind === 'payment') {
        let outcome: Outcome;
        if (existing.has(item.endToEndId)) outcome = { status: 'REJECTED', reason: 'AM05' };
        else if (item.rejected) outcome = { status: 'REJECTED', reason: item.rejected };
        else if (!balance.has(item.debtorIspb) || !balance.has(item.creditorIspb)) outcome = { status: 'REJECTED', reason: 'AC03' };
        else if (balance.get(item.debtorIspb)! < item.amountCentavos) outcome = { status: 'REJECTED', reason: 'AM04' };
        else {
          move(item.debtorIspb, item.creditorIspb, item.amountCentavos, item.endToEndId, 'PACS008');
          outcome = { status: 'SETTLED' };
        }
        // a duplicate is answered but not recorded: the first payment owns the EndToEndId
        if (!existing.has(item.endToEndId)) {
          existing.add(item.endToEndId);
          payments.push({ e2e: item.endToEndId, msg: item.msgId, d: item.debtorIspb, c: item.creditorIspb, amt: item.amountCentavos, status: outcome.status, reason: outcome.status === 'REJECTED' ? outcome.reason : null });
        }
        outcomes.push(outcome);
      } else {
        const original = originals.get(item.endToEndId);
        let outcome: Outcome;
        if (usedReturnIds.has(item.returnId)) outcome = { status: 'REJECTED', reason: 'AM05' };
        else if (!original || original.status !== 'SETTLED' || original.creditor_ispb !== item.returnerIspb || original.debtor_ispb !== item.receiverIspb) outcome = { status: 'REJECTED', reason: 'FF07' };
        else if (original.returned_centavos + item.amountCentavos > original.amount_centavos) outcome = { status: 'REJECTED', reason: 'AM09' };
        else if (balance.get(item.returnerIspb)! < item.amountCentavos) outcome = { status: 'REJECTED', reason: 'AM04' };
        else {
          original.returned_centavos += item.amountCentavos;
          move(item.returnerIspb, item.receiverIspb, item.amountCentavos, item.returnId, 'PACS004');
          outcome = { status: 'SETTLED' };
        }
        if (!usedReturnIds.has(item.returnId)) {
          usedReturnIds.add(item.returnId);
          returns.push({ id: item.returnId, e2e: item.endToEndId, r: item.returnerIspb, v: item.receiverIspb, amt: item.amountCentavos, reason: item.reason, status: outcome.status, rej: outcome.status === 'REJECTED' ? outcome.reason : null });
        }
        outcomes.push(outcome);
      }
    }

    // the invariant the CHECK also enforces: no PI account goes negative
    for (const [ispb, b] of balance) if (b < 0n) throw new Error(`PI account ${ispb} would go negative`);
    const changed = accounts.filter((a) => balance.get(a.ispb) !== a.balance_centavos);
    if (changed.length) {
      await tx`update spi_accounts a set balance_centavos = v.b::bigint
        from (select unnest(${changed.map((a) => a.ispb)}::text[]) as ispb, unnest(${changed.map((a) => String(balance.get(a.ispb)))}::text[]) as b) v
        where a.ispb = v.ispb`;
    }
    if (payments.length) {
      await tx`insert into spi_payments (end_to_end_id, msg_id, debtor_ispb, creditor_ispb, amount_centavos, status, reason, decided_at)
        select * from unnest(${payments.map((p) => p.e2e)}::text[], ${payments.map((p) => p.msg)}::text[], ${payments.map((p) => p.d)}::text[],
          ${payments.map((p) => p.c)}::text[], ${payments.map((p) => String(p.amt))}::bigint[], ${payments.map((p) => p.status)}::text[],
          ${payments.map((p) => p.reason) as string[]}::text[], array_fill(${at}::timestamptz, array[${payments.length}::int]))`;
    }
    if (returns.length) {
      await tx`insert into spi_returns (return_id, end_to_end_id, returner_ispb, receiver_ispb, amount_centavos, reason, status, reject_reason, decided_at)
        select * from unnest(${returns.map((r) => r.id)}::text[], ${returns.map((r) => r.e2e)}::text[], ${returns.map((r) => r.r)}::text[],
          ${returns.map((r) => r.v)}::text[], ${returns.map((r) => String(r.amt))}::bigint[], ${returns.map((r) => r.reason)}::text[],
          ${returns.map((r) => r.status)}::text[], ${returns.map((r) => r.rej) as string[]}::text[], array_fill(${at}::timestamptz, array[${returns.length}::int]))`;
      const touched = [...originals.values()];
      await tx`update spi_payments p set returned_centavos = v.r::bigint
        from (select unnest(${touched.map((o) => o.end_to_end_id)}::text[]) as id, unnest(${touched.map((o) => String(o.returned_centavos))}::text[]) as r) v
        where p.end_to_end_id = v.id`;
    }
    await insertEntries(tx as unknown as Sql<{ bigint: bigint }>, entries, at);
    return outcomes;
  }) as Promise<Outcome[]>;
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

/** Acknowledges the lease `ackLease` (its messages are removed) and leases up to `max` more to `newLease`. */
export async function pollInbox(sql: Sql<{ bigint: bigint }>, p: { ispb: string; ackLease: string | null; newLease: string; max: number; now: Date; leaseUntil: Date }): Promise<{ acked: number; rows: InboxRow[] }> {
  let acked = 0;
  if (p.ackLease) acked = (await sql`delete from spi_inbox where lease_id = ${p.ackLease} and ispb = ${p.ispb}`).count;
  if (p.max === 0) return { acked, rows: [] };
  // SKIP LOCKED: concurrent pollers take disjoint batches instead of queueing behind each other
  const rows = await sql<InboxRow[]>`
    update spi_inbox set lease_id = ${p.newLease}, leased_until = ${p.leaseUntil}
    where seq in (
      select seq from spi_inbox
      where ispb = ${p.ispb} and available_at <= ${p.now} and (leased_until is null or leased_until < ${p.now})
      order by seq limit ${p.max} for update skip locked)
    returning seq, msg_type, msg_id, xml`;
  rows.sort((a, b) => (a.seq < b.seq ? -1 : 1));
  return { acked, rows };
}
