// Settlement windows in Postgres and the step that moves them with the clock. Closing a window nets its
// settled payments (transactions.settled_at inside the window) and settled returns (spi_returns) and writes one `settlements` row per
// participant in the same transaction as the CLOSED state, so a window is never CLOSED without its
// positions. Rows are locked (FOR UPDATE SKIP LOCKED), so several instances can run the step at once.
import type { Sql } from 'postgres';
import { net, type GrossPayment, type NettingReport } from '../netting/netting.ts';
import { dueMove, moveWindow, windowAt, type SettlementWindow, type WindowState } from './window.ts';

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

async function ensureWindow(sql: Db, w: SettlementWindow): Promise<void> {
  await sql`insert into settlement_windows (id, starts_at, ends_at, state, history)
    values (${w.id}, ${w.startsAt}, ${w.endsAt}, ${w.state}, ${sql.json(w.history.map((h) => ({ state: h.state, at: h.at.toISOString() })) as never)})
    on conflict (id) do nothing`;
}

async function grossPayments(sql: Db, w: SettlementWindow): Promise<GrossPayment[]> {
  const rows = await sql<{ end_to_end_id: string; debtor_ispb: string; creditor_ispb: string; amount_centavos: bigint }[]>`
    select end_to_end_id, debtor_ispb, creditor_ispb, amount_centavos from transactions
    where settled_at >= ${w.startsAt} and settled_at < ${w.endsAt}
      and created_at >= ${new Date(w.startsAt.getTime() - CREATED_BEFORE_WINDOW_MS_MAX)} and created_at < ${w.endsAt}`;
  // a settled return (pacs.004) moves money back: from the original creditor to the original debtor
  const returns = await sql<{ return_id: string; debtor_ispb: string; creditor_ispb: string; amount_centavos: bigint }[]>`
    select r.return_id, t.creditor_ispb as debtor_ispb, t.debtor_ispb as creditor_ispb, r.amount_centavos
    from spi_returns r join transactions t on t.end_to_end_id = r.end_to_end_id
    where r.status = 'SETTLED' and r.updated_at >= ${w.startsAt} and r.updated_at < ${w.endsAt}
      and t.created_at >= ${new Date(w.startsAt.getTime() - RETURN_AFTER_PAYMENT_MS_MAX)} and t.created_at < ${w.endsAt}`;
  return [
    ...rows.map((r) => ({ endToEndId: r.end_to_end_id, debtorIspb: r.debtor_ispb, creditorIspb: r.creditor_ispb, amountCentavos: r.amount_centavos })),
    ...returns.map((r) => ({ endToEndId: r.return_id, debtorIspb: r.debtor_ispb, creditorIspb: r.creditor_ispb, amountCentavos: r.amount_centavos })),
  ];
}

/**
 * One step at `now`: the current hour's window exists, and every window whose time has come moves on
 * (OPEN → CLOSING → CLOSED with its positions). Returns the moves made.
 */
export async function advanceWindows(sql: Db, now: Date): Promise<{ id: string; to: WindowState }[]> {
  await ensureWindow(sql, windowAt(now));
  const moves: { id: string; to: WindowState }[] = [];
  await sql.begin(async (tx) => {
    const due = await tx<WindowRow[]>`
      select * from settlement_windows where state in ('OPEN', 'CLOSING') and ends_at <= ${now}
      order by starts_at limit ${WINDOWS_PER_STEP_MAX} for update skip locked`;
    for (const row of due) {
      let w = fromRow(row);
      for (let to = dueMove(w, now); to !== undefined; to = dueMove(w, now)) {
        const moved = moveWindow(w, to, now);
        if (!moved.ok) throw new Error(`window step: ${moved.error.detail}`); // dueMove only proposes legal moves
        w = { ...w, ...moved.value };
        if (to === 'CLOSED') await writePositions(tx as unknown as Db, w);
        moves.push({ id: w.id, to });
      }
      await tx`update settlement_windows set state = ${w.state}, history = ${tx.json(w.history.map((h) => ({ state: h.state, at: h.at.toISOString() })) as never)}, updated_at = ${now} where id = ${w.id}`;
    }
  });
  return moves;
}

async function writePositions(tx: Db, w: SettlementWindow): Promise<NettingReport> {
  const netting = net(await grossPayments(tx, w));
  // the transactions table only holds well-formed SPI payments; a refusal here is a broken invariant
  if (!netting.ok) throw new Error(`window ${w.id} cannot be netted: ${netting.error.detail}`);
  const date = w.startsAt.toISOString().slice(0, 10);
  for (const p of netting.value.positions) {
    await tx`insert into settlements (settlement_date, window_id, participant_ispb, net_centavos, gross_debit_centavos, gross_credit_centavos, status)
      values (${date}, ${w.id}, ${p.ispb}, ${p.netCentavos}, ${p.grossDebitCentavos}, ${p.grossCreditCentavos}, 'CLOSED')`;
  }
  await tx`update settlement_windows set payments = ${netting.value.payments}, gross_centavos = ${netting.value.grossCentavos} where id = ${w.id}`;
  return netting.value;
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

