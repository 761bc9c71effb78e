// Daily reconciliation: once a UTC day has ended, it is reconciled against BACEN's camt.053 (once; an
// on-demand run can repeat it), and the day's closed settlement windows follow the outcome: CLOSED →
// SETTLED when nothing is unexplained, → RECONCILIATION_FAILED otherwise. A failed window that a later
// clean run covers goes back through CLOSED to SETTLED (the transition table allows no shortcut).
// Each move is audited in the transaction that makes it, last (issue 9), naming the reconciliation run.
import type { Sql } from 'postgres';
import { appendAuditRows, type AuditRecord } from '../../../shared/audit.ts';
import type { Clock } from '../../../shared/clock.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import type { SettlementBacen } from '../str/client.ts';
import { windowAudit } from '../windows/store.ts';
import { moveWindow, type SettlementWindow, type WindowState } from '../windows/window.ts';
import { dayPeriod, runReconciliation } from './run.ts';

type Db = Sql<{ bigint: bigint }>;
/** How often the daily job looks for an unreconciled day: hourly is plenty for a once-a-day task. */
export const RECON_CHECK_MS = 60 * 60 * 1000;
/** The statement of a day is asked for this long after the day ends, so late bookings are in it. */
export const RECON_DELAY_MS = 10 * 60 * 1000;

export const RECON_AUDIT_ACTOR = 'settlement-recon';

/** Moves the windows inside [from, to) that reconciliation decides; returns the moves. Call it inside a transaction: it writes the audit rows last. */
export async function markWindows(sql: Db, period: { from: Date; to: Date }, clean: boolean, now: Date, runId: number | null = null): Promise<{ id: string; to: WindowState }[]> {
  const rows = await sql<{ id: string; starts_at: Date; ends_at: Date; state: WindowState; history: { state: WindowState; at: string }[] }[]>`
    select id, starts_at, ends_at, state, history from settlement_windows
    where starts_at >= ${period.from} and ends_at <= ${period.to} and state in ('CLOSED', 'RECONCILIATION_FAILED') for update`;
  const moves: { id: string; to: WindowState }[] = [];
  const trail: AuditRecord[] = [];
  for (const r of rows) {
    let w: SettlementWindow = { id: r.id, startsAt: r.starts_at, endsAt: r.ends_at, state: r.state, history: r.history.map((h) => ({ state: h.state, at: new Date(h.at) })) };
    const path: WindowState[] = clean ? (w.state === 'RECONCILIATION_FAILED' ? ['CLOSED', 'SETTLED'] : ['SETTLED']) : w.state === 'CLOSED' ? ['RECONCILIATION_FAILED'] : [];
    for (const to of path) {
      const from = w.state;
      const moved = moveWindow(w, to, now);
      if (!moved.ok) throw new Error(`reconciliation: ${moved.error.detail}`); // the paths above are legal by construction
      w = moved.value;
      moves.push({ id: w.id, to });
      trail.push(windowAudit(RECON_AUDIT_ACTOR, w, from, { reconRunId: runId, clean }));
    }
    if (path.length === 0) continue;
    await sql`update settlement_windows set state = ${w.state}, history = ${sql.json(w.history.map((h) => ({ state: h.state, at: h.at.toISOString() })) as never)}, updated_at = ${now} where id = ${w.id}`;
    await sql`update settlements set status = ${w.state} where settlement_date = ${w.startsAt.toISOString().slice(0, 10)} and window_id = ${w.id}`;
  }
  await appendAuditRows(sql, trail, now);
  return moves;
}

/** Reconciles the UTC day `date` and moves its windows accordingly. */
export async function reconcileDay(deps: { sql: Db; bacen: SettlementBacen; clock: Clock; logger: Logger }, date: string) {
  const period = dayPeriod(date);
  const run = await runReconciliation(deps, period);
  if (!run.ok) return run;
  const moves = await deps.sql.begin((tx) => markWindows(tx as unknown as Db, period, run.value.unexplained === 0, deps.clock.now(), run.value.id));
  deps.logger.info({ date, matched: run.value.matched, unexplained: run.value.unexplained, windows: moves.length }, 'day reconciled');
  return run;
}

export function startDailyReconciliation(deps: { sql: Db; bacen: SettlementBacen; clock: Clock; logger: Logger }): () => Promise<void> {
  let running: Promise<unknown> | undefined;
  const tick = () => {
    if (running !== undefined) return;
    const yesterday = new Date(deps.clock.nowMs() - RECON_DELAY_MS - 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
    running = (async () => {
      const [done] = await deps.sql`select 1 from recon_runs where statement_from = ${dayPeriod(yesterday).from} limit 1`;
      if (done !== undefined) return;
      const r = await reconcileDay(deps, yesterday);
      if (!r.ok) deps.logger.error({ date: yesterday, err: r.error.detail }, 'daily reconciliation could not run; retried next hour');
    })().catch((err: unknown) => deps.logger.error({ err }, 'daily reconciliation failed')).finally(() => { running = undefined; });
  };
  tick();
  const timer = setInterval(tick, RECON_CHECK_MS);
  return async () => {
    clearInterval(timer);
    await running;
  };
}
