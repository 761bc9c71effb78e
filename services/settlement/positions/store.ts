// Position events and the per-window gross positions they add up to, in Postgres. One transaction per
// batch: the events are inserted by id (a redelivered one conflicts and is left out), and only the newly
// inserted ones are added to settlement_positions, so a position never counts an event twice.
import type { Sql } from 'postgres';
import type { GrossPosition } from '../netting/netting.ts';
import { ensureWindow } from '../windows/store.ts';
import { windowAt, windowIdOf } from '../windows/window.ts';
import { deltasOf, type PositionEvent } from './event.ts';

type Db = Sql<{ bigint: bigint }>;

/**
 * Event ids are kept 8 days: PIX_PAYMENTS keeps messages 7 days (shared/nats/streams.ts), so no
 * redelivery can come for an event older than that, and a day of margin covers a consumer stopped a while.
 */
export const POSITION_EVENTS_KEPT_MS = 8 * 24 * 60 * 60 * 1000;

export interface Recorded {
  /** events added to positions now */
  counted: number;
  /** events already counted before (redeliveries, SPI re-publishing): added nothing */
  repeated: number;
  /** windows that had already closed when one of their events was counted: their netting misses it */
  lateWindows: string[];
}

export async function recordPositionEvents(sql: Db, events: readonly PositionEvent[], now: Date): Promise<Recorded> {
  const distinct = [...new Map(events.map((e) => [e.eventId, e])).values()];
  if (distinct.length === 0) return { counted: 0, repeated: 0, lateWindows: [] };
  return sql.begin(async (tx) => {
    const rows = distinct.map((e) => ({
      event_id: e.eventId, window_id: e.windowId, end_to_end_id: e.endToEndId, debtor_ispb: e.debtorIspb, creditor_ispb: e.creditorIspb,
      amount_centavos: e.amountCentavos, settled_at: e.settledAt, received_at: now,
    }));
    const inserted = await tx<{ event_id: string }[]>`insert into settlement_position_events ${tx(rows)} on conflict (event_id) do nothing returning event_id`;
    const fresh = new Set(inserted.map((r) => r.event_id));
    const counted = distinct.filter((e) => fresh.has(e.eventId));
    const deltas = deltasOf(counted);
    if (deltas.length === 0) return { counted: 0, repeated: distinct.length, lateWindows: [] };
    await tx`insert into settlement_positions ${tx(deltas.map((d) => ({
      window_id: d.windowId, participant_ispb: d.ispb, gross_debit_centavos: d.debitCentavos, gross_credit_centavos: d.creditCentavos, payments: d.payments, updated_at: now,
    })))}
      on conflict (window_id, participant_ispb) do update set
        gross_debit_centavos = settlement_positions.gross_debit_centavos + excluded.gross_debit_centavos,
        gross_credit_centavos = settlement_positions.gross_credit_centavos + excluded.gross_credit_centavos,
        payments = settlement_positions.payments + excluded.payments,
        updated_at = excluded.updated_at`;
    // every window that saw a payment exists, so the window step closes it even if no instance ran in its hour
    const windows = [...new Map(counted.map((e) => [e.windowId, e.settledAt])).values()];
    for (const at of windows) await ensureWindow(tx as unknown as Db, windowAt(at));
    const late = await tx<{ id: string }[]>`select id from settlement_windows where id in ${tx(windows.map((at) => windowAt(at).id))} and state not in ('OPEN', 'CLOSING')`;
    return { counted: counted.length, repeated: distinct.length - counted.length, lateWindows: late.map((r) => r.id) };
  });
}

/** The gross positions of one window as the events built them, in ISPB order. */
export async function eventPositions(sql: Db, windowId: string): Promise<GrossPosition[]> {
  const rows = await sql<{ participant_ispb: string; gross_debit_centavos: bigint; gross_credit_centavos: bigint; payments: number }[]>`
    select participant_ispb, gross_debit_centavos, gross_credit_centavos, payments from settlement_positions
    where window_id = ${windowId} order by participant_ispb`;
  return rows.map((r) => ({ ispb: r.participant_ispb, grossDebitCentavos: r.gross_debit_centavos, grossCreditCentavos: r.gross_credit_centavos, payments: r.payments }));
}

/** Forgets event ids no redelivery can bring back any more; returns how many went. */
export async function prunePositionEvents(sql: Db, now: Date): Promise<number> {
  const before = windowIdOf(new Date(now.getTime() - POSITION_EVENTS_KEPT_MS));
  const gone = await sql`delete from settlement_position_events where window_id < ${before}`;
  return gone.count;
}
