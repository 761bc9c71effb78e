// One reconciliation run: BACEN's camt.053 for [from, to), our side from transactions (payments),
// spi_returns (returns) and str_transfers (STR), compared by reconcile() and stored in recon_runs.
import type { Sql } from 'postgres';
import type { Clock } from '../../../shared/clock.ts';
import { ok, type Result } from '../../../shared/result.ts';
import type { SettlementBacen } from '../str/client.ts';
import { reconcile, type OurEntry, type ReconResult } from './reconcile.ts';

type Db = Sql<{ bigint: bigint }>;
const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * A payment settled in the period was created at most this long before it (partition pruning). Payments
 * settle within seconds; 35 days also covers the previous month's partition, where a duplicate EndToEndId
 * (unique only per month) would sit.
 */
const CREATED_BEFORE_PERIOD_MS_MAX = 35 * DAY_MS;

/** The UTC day `date` (yyyy-mm-dd) as a statement period. */
export function dayPeriod(date: string): { from: Date; to: Date } {
  const from = new Date(`${date}T00:00:00.000Z`);
  if (Number.isNaN(from.getTime()) || !/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new RangeError(`not a date: ${date}`);
  return { from, to: new Date(from.getTime() + DAY_MS) };
}

export async function ourEntries(sql: Db, from: Date, to: Date, references: string[]): Promise<OurEntry[]> {
  const since = new Date(from.getTime() - CREATED_BEFORE_PERIOD_MS_MAX);
  const payments = await sql<{ reference: string; direction: string; amount_centavos: bigint; status: string; settled: boolean }[]>`
    select end_to_end_id as reference, direction, amount_centavos, status, settled_at is not null as settled from transactions
    where created_at >= ${since} and created_at < ${to}
      and ((settled_at >= ${from} and settled_at < ${to}) or end_to_end_id = any(${references}::text[]))`;
  const returns = await sql<{ reference: string; direction: string; amount_centavos: bigint; status: string }[]>`
    select return_id as reference, direction, amount_centavos, status from spi_returns
    where (status = 'SETTLED' and updated_at >= ${from} and updated_at < ${to}) or return_id = any(${references}::text[])`;
  const transfers = await sql<{ reference: string; direction: string; amount_centavos: bigint; status: string }[]>`
    select id as reference, direction, amount_centavos, status from str_transfers
    where (applied_at >= ${from} and applied_at < ${to}) or id = any(${references}::text[])`;
  return [
    // a payment of ours is a debit of our PI account; one we receive, a credit
    ...payments.map((p): OurEntry => ({ reference: p.reference, kind: 'PACS008', direction: p.direction === 'OUTBOUND' ? 'DBIT' : 'CRDT', amountCentavos: p.amount_centavos, status: p.settled ? 'SETTLED' : p.status })),
    ...returns.map((r): OurEntry => ({ reference: r.reference, kind: 'PACS004', direction: r.direction === 'OUTBOUND' ? 'DBIT' : 'CRDT', amountCentavos: r.amount_centavos, status: r.status })),
    ...transfers.map((t): OurEntry => ({ reference: t.reference, kind: 'STR', direction: t.direction === 'TO_PI' ? 'CRDT' : 'DBIT', amountCentavos: t.amount_centavos, status: t.status })),
  ];
}

export interface ReconRun extends ReconResult {
  id: number;
  from: Date;
  to: Date;
}

export async function runReconciliation(deps: { sql: Db; bacen: SettlementBacen; clock: Clock }, period: { from: Date; to: Date }): Promise<Result<ReconRun>> {
  const { sql, bacen, clock } = deps;
  const to = new Date(Math.min(period.to.getTime(), clock.nowMs()));
  const statement = await bacen.statement(period.from, to);
  if (!statement.ok) return statement;
  const ours = await ourEntries(sql, period.from, to, statement.value.entries.map((e) => e.reference));
  const result = reconcile(ours, statement.value.entries);
  const json = (v: unknown) => sql.json(JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x))) as never);
  const [row] = await sql<{ id: number }[]>`
    insert into recon_runs (statement_from, statement_to, ran_at, matched, unexplained, summary, mismatches)
    values (${period.from}, ${to}, ${clock.now()}, ${result.matched}, ${result.unexplained}, ${json(result.summary)}, ${json(result.mismatches)})
    returning id`;
  return ok({ ...result, id: Number(row!.id), from: period.from, to });
}
