// Settlement windows in Postgres and the step that moves them with the clock. Closing a window nets the
// gross positions the positions consumer built from SPI's settled-payment events (settlement_positions,
// positions/consumer.ts) plus the settled returns (spi_returns: SPI publishes no event for a pacs.004),
// and writes one `settlements` row per participant in the same transaction as the CLOSED state, so a
// window is never CLOSED without its positions. A window closes only once the consumer has caught up
// (positionsCaughtUp), and the event positions are compared with the transactions table at that moment
// (a difference is reported, not hidden). Rows are locked (FOR UPDATE SKIP LOCKED), so several
// instances can run the step at once. Every move is audited (issue 9) in the same transaction, last: a
// window.closed row carries the net positions written with it.
import type { Sql } from 'postgres';
import { appendAuditRows, type AuditRecord } from '../../../shared/audit.ts';
import { grossPositions, mergeGross, netGross, type GrossPayment, type GrossPosition, type NettingReport } from '../netting/netting.ts';
import { eventPositions } from '../positions/store.ts';
import { dueMove, moveWindow, windowAt, WINDOW_GRACE_MS, type SettlementWindow, type WindowState } from './window.ts';

/** Windows moved per step: a service down for two days catches up 48 windows in a few steps. */
export const WINDOWS_PER_STEP_MAX = 16;
/** A payment settled in a window was created at most this long before the window's start (partition pruning). */
const CREATED_BEFORE_WINDOW_MS_MAX = 24 * 60 * 60 * 1000;
/** A return follows its payment within 90 days (MED refunds: 80 days, PIX.md), so older payments are not scanned. */
const RETURN_AFTER_PAYMENT_MS_MAX = 90 * 24 * 60 * 60 * 1000;

type Db = Sql<{ bigint: bigint }>;

interface WindowRow {
  id: string;
  starts_at: Date;
  ends_at: Date;
  state: WindowState;
  history: { state: WindowState; at: string }[];
  payments: number;
  gross_centavos: bigint;
}

const fromRow = (r: WindowRow): SettlementWindow & { payments: number; grossCentavos: bigint } => ({
  id: r.id, startsAt: r.starts_at, endsAt: r.ends_at, state: r.state,
  history: r.history.map((h) => ({ state: h.state, at: new Date(h.at) })),
  payments: r.payments, grossCentavos: r.gross_centavos,
});

export async function ensureWindow(sql: Db, w: SettlementWindow): Promise<void> {
  await sql`insert into settlement_windows (id, starts_at, ends_at, state, history)
    values (${w.id}, ${w.startsAt}, ${w.endsAt}, ${w.state}, ${sql.json(w.history.map((h) => ({ state: h.state, at: h.at.toISOString() })) as never)})
    on conflict (id) do nothing`;
}

/** Payments settled inside the window, as SPI recorded them in `transactions`: the reference the events are checked against. */
export async function settledPayments(sql: Db, w: Pick<SettlementWindow, 'startsAt' | 'endsAt'>): Promise<GrossPayment[]> {
  const rows = await sql<{ end_to_end_id: string; debtor_ispb: string; creditor_ispb: string; amount_centavos: bigint }[]>`
    select end_to_end_id, debtor_ispb, creditor_ispb, amount_centavos from transactions
    where settled_at >= ${w.startsAt} and settled_at < ${w.endsAt}
      and created_at >= ${new Date(w.startsAt.getTime() - CREATED_BEFORE_WINDOW_MS_MAX)} and created_at < ${w.endsAt}`;
  return rows.map((r) => ({ endToEndId: r.end_to_end_id, debtorIspb: r.debtor_ispb, creditorIspb: r.creditor_ispb, amountCentavos: r.amount_centavos }));
}

/** Returns (pacs.004) settled inside the window: money back from the original creditor to the original debtor. */
export async function settledReturns(sql: Db, w: Pick<SettlementWindow, 'startsAt' | 'endsAt'>): Promise<GrossPayment[]> {
  const returns = await sql<{ return_id: string; debtor_ispb: string; creditor_ispb: string; amount_centavos: bigint }[]>`
    select r.return_id, t.creditor_ispb as debtor_ispb, t.debtor_ispb as creditor_ispb, r.amount_centavos
    from spi_returns r join transactions t on t.end_to_end_id = r.end_to_end_id
    where r.status = 'SETTLED' and r.updated_at >= ${w.startsAt} and r.updated_at < ${w.endsAt}
      and t.created_at >= ${new Date(w.startsAt.getTime() - RETURN_AFTER_PAYMENT_MS_MAX)} and t.created_at < ${w.endsAt}`;
  return returns.map((r) => ({ endToEndId: r.return_id, debtorIspb: r.debtor_ispb, creditorIspb: r.creditor_ispb, amountCentavos: r.amount_centavos }));
}

export interface AdvanceOptions {
  /** the positions consumer has counted every event stored before `until`; false keeps the window CLOSING until it has */
  positionsCaughtUp?: (until: Date) => Promise<boolean>;
  /** audit_log.actor of the moves: the operator who asked for the step (default: the ticker, WINDOW_AUDIT_ACTOR) */
  actor?: string;
}

export const WINDOW_AUDIT_ACTOR = 'settlement-windows';

/** The audit row of one window move; `detail` adds what the move wrote (the netting of a close). */
export function windowAudit(actor: string, w: SettlementWindow, from: WindowState, detail: Record<string, unknown> = {}): AuditRecord {
  return {
    actor, action: `window.${w.state.toLowerCase()}`, entityType: 'settlement_window', entityId: w.id,
    detail: { from, to: w.state, startsAt: w.startsAt.toISOString(), endsAt: w.endsAt.toISOString(), ...detail },
  };
}

export interface WindowMove {
  id: string;
  to: WindowState;
  /** on CLOSED: participants whose event positions differ from the transactions table (absent when they agree) */
  positionsDiffer?: string[];
}

/**
 * One step at `now`: the current hour's window exists, and every window whose time has come moves on
 * (OPEN → CLOSING → CLOSED with its positions). Returns the moves made.
 */
export async function advanceWindows(sql: Db, now: Date, opts: AdvanceOptions = {}): Promise<WindowMove[]> {
  await ensureWindow(sql, windowAt(now));
  const moves: WindowMove[] = [];
  const actor = opts.actor ?? WINDOW_AUDIT_ACTOR;
  await sql.begin(async (tx) => {
    const trail: AuditRecord[] = [];
    const due = await tx<WindowRow[]>`
      select * from settlement_windows where state in ('OPEN', 'CLOSING') and ends_at <= ${now}
      order by starts_at limit ${WINDOWS_PER_STEP_MAX} for update skip locked`;
    for (const row of due) {
      let w = fromRow(row);
      for (let to = dueMove(w, now); to !== undefined; to = dueMove(w, now)) {
        // SPI publishes a settlement within seconds of it, so events stored by the end of the grace period
        // include the window's; until they are counted the window stays CLOSING and the next step asks again
        if (to === 'CLOSED' && opts.positionsCaughtUp !== undefined && !(await opts.positionsCaughtUp(new Date(w.endsAt.getTime() + WINDOW_GRACE_MS)))) break;
        const from = w.state;
        const moved = moveWindow(w, to, now);
        if (!moved.ok) throw new Error(`window step: ${moved.error.detail}`); // dueMove only proposes legal moves
        w = { ...w, ...moved.value };
        if (to !== 'CLOSED') {
          moves.push({ id: w.id, to });
          trail.push(windowAudit(actor, w, from));
        } else {
          const { differ, netting } = await writePositions(tx as unknown as Db, w);
          moves.push(differ.length === 0 ? { id: w.id, to } : { id: w.id, to, positionsDiffer: differ });
          trail.push(windowAudit(actor, w, from, {
            payments: netting.payments, grossCentavos: netting.grossCentavos.toString(), settledCentavos: netting.settledCentavos.toString(),
            positions: netting.positions.map((p) => ({
              ispb: p.ispb, grossDebitCentavos: p.grossDebitCentavos.toString(), grossCreditCentavos: p.grossCreditCentavos.toString(), netCentavos: p.netCentavos.toString(),
            })),
            ...(differ.length === 0 ? {} : { positionsDiffer: differ }),
          }));
        }
      }
      await tx`update settlement_windows set state = ${w.state}, history = ${tx.json(w.history.map((h) => ({ state: h.state, at: h.at.toISOString() })) as never)}, updated_at = ${now} where id = ${w.id}`;
    }
    // last: the chain head stays locked from here until commit
    await appendAuditRows(tx, trail, now);
  });
  return moves;
}

/** Nets the window and stores its positions; returns the netting and the ISPBs whose event positions disagree with the transactions table. */
async function writePositions(tx: Db, w: SettlementWindow): Promise<{ differ: string[]; netting: NettingReport }> {
  const fromEvents = await eventPositions(tx, w.id);
  const returns = grossPositions(await settledReturns(tx, w));
  const fromTable = grossPositions(await settledPayments(tx, w));
  // the tables only hold well-formed SPI payments and returns; a refusal here is a broken invariant
  if (!returns.ok) throw new Error(`window ${w.id}: returns cannot be netted: ${returns.error.detail}`);
  if (!fromTable.ok) throw new Error(`window ${w.id}: payments cannot be netted: ${fromTable.error.detail}`);
  const netting: NettingReport = netGross(mergeGross(fromEvents, returns.value));
  const date = w.startsAt.toISOString().slice(0, 10);
  for (const p of netting.positions) {
    await tx`insert into settlements (settlement_date, window_id, participant_ispb, net_centavos, gross_debit_centavos, gross_credit_centavos, status)
      values (${date}, ${w.id}, ${p.ispb}, ${p.netCentavos}, ${p.grossDebitCentavos}, ${p.grossCreditCentavos}, 'CLOSED')`;
  }
  await tx`update settlement_windows set payments = ${netting.payments}, gross_centavos = ${netting.grossCentavos} where id = ${w.id}`;
  return { differ: differingIspbs(fromEvents, fromTable.value), netting };
}

function differingIspbs(a: readonly GrossPosition[], b: readonly GrossPosition[]): string[] {
  const key = (p: GrossPosition) => `${p.grossDebitCentavos}:${p.grossCreditCentavos}:${p.payments}`;
  const left = new Map(a.map((p) => [p.ispb, key(p)]));
  const right = new Map(b.map((p) => [p.ispb, key(p)]));
  return [...new Set([...left.keys(), ...right.keys()])].filter((ispb) => left.get(ispb) !== right.get(ispb)).sort();
}

export async function listWindows(sql: Db, limit: number) {
  return (await sql<WindowRow[]>`select * from settlement_windows order by starts_at desc limit ${limit}`).map(fromRow);
}

export interface WindowReport {
  window: ReturnType<typeof fromRow>;
  positions: { ispb: string; grossDebitCentavos: bigint; grossCreditCentavos: bigint; netCentavos: bigint }[];
  /** Σ net over the positions: 0 for every closed window */
  netSumCentavos: bigint;
}

export async function windowReport(sql: Db, id: string): Promise<WindowReport | undefined> {
  const [row] = await sql<WindowRow[]>`select * from settlement_windows where id = ${id}`;
  if (row === undefined) return undefined;
  const positions = await sql<{ participant_ispb: string; net_centavos: bigint; gross_debit_centavos: bigint; gross_credit_centavos: bigint }[]>`
    select participant_ispb, net_centavos, gross_debit_centavos, gross_credit_centavos from settlements
    where settlement_date = ${row.starts_at.toISOString().slice(0, 10)} and window_id = ${id} order by participant_ispb`;
  const mapped = positions.map((p) => ({ ispb: p.participant_ispb, grossDebitCentavos: p.gross_debit_centavos, grossCreditCentavos: p.gross_credit_centavos, netCentavos: p.net_centavos }));
  return { window: fromRow(row), positions: mapped, netSumCentavos: mapped.reduce((s, p) => s + p.netCentavos, 0n) };
}

