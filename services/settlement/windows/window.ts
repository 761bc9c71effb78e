// Settlement windows: the period whose payments are netted together. Pure: types, the transition
// table and the one function that applies it (STYLE.md: state machines are data).
//   OPEN                   payments settled in SPI are attributed to it
//   CLOSING                its end has passed; payments still awaiting their pacs.002 may still land in it
//   CLOSED                 nothing more can land: net positions are computed and stored
//   SETTLED                reconciled against BACEN's statement (camt.053) without unexplained mismatch
//   RECONCILIATION_FAILED  the statement disagrees; after repair it goes back to CLOSED and is reconciled again
import { fail, ok, type Result } from '../../../shared/result.ts';

export const WINDOW_TRANSITIONS = {
  OPEN: ['CLOSING'],
  CLOSING: ['CLOSED'],
  CLOSED: ['SETTLED', 'RECONCILIATION_FAILED'],
  RECONCILIATION_FAILED: ['CLOSED'],
  SETTLED: [],
} as const satisfies Record<string, readonly string[]>;

export type WindowState = keyof typeof WINDOW_TRANSITIONS;
export const WINDOW_STATES = Object.keys(WINDOW_TRANSITIONS) as WindowState[];

/** A window is one hour of UTC time: short enough for intraday liquidity, few enough rows per day (24). */
export const WINDOW_MS = 60 * 60 * 1000;
/** After its end a window stays CLOSING this long: the sandbox answers a pacs.008 within 10 s, so 30 s covers stragglers. */
export const WINDOW_GRACE_MS = 30_000;

export interface SettlementWindow {
  /** `W` + yyyyMMddHH (UTC) of its start */
  id: string;
  startsAt: Date;
  endsAt: Date;
  state: WindowState;
  /** when each state was entered */
  history: { state: WindowState; at: Date }[];
}

export function windowIdOf(at: Date): string {
  return `W${at.toISOString().slice(0, 13).replace(/[-T]/g, '')}`;
}

/** The window a moment belongs to: [start of its UTC hour, + WINDOW_MS). */
export function windowAt(at: Date): SettlementWindow {
  const startMs = Math.floor(at.getTime() / WINDOW_MS) * WINDOW_MS;
  const startsAt = new Date(startMs);
  return { id: windowIdOf(startsAt), startsAt, endsAt: new Date(startMs + WINDOW_MS), state: 'OPEN', history: [{ state: 'OPEN', at: startsAt }] };
}

export function canMove(from: WindowState, to: WindowState): boolean {
  return (WINDOW_TRANSITIONS[from] as readonly WindowState[]).includes(to);
}

/** The window in state `to`, or WindowTransitionInvalid naming both states. */
export function moveWindow(w: SettlementWindow, to: WindowState, at: Date): Result<SettlementWindow> {
  if (!canMove(w.state, to)) return fail('Conflict', `window ${w.id} cannot go from ${w.state} to ${to}`, 'state', 'transition');
  if (to === 'CLOSING' && at.getTime() < w.endsAt.getTime()) return fail('Conflict', `window ${w.id} ends at ${w.endsAt.toISOString()}; it cannot close before`, 'state', 'not-ended');
  return ok({ ...w, state: to, history: [...w.history, { state: to, at }] });
}

/**
 * What the clock says should happen to a window now: OPEN → CLOSING at its end, CLOSING → CLOSED after
 * the grace period. Later moves depend on netting and reconciliation, not on time.
 */
export function dueMove(w: SettlementWindow, now: Date): WindowState | undefined {
  if (w.state === 'OPEN' && now.getTime() >= w.endsAt.getTime()) return 'CLOSING';
  if (w.state === 'CLOSING' && now.getTime() >= w.endsAt.getTime() + WINDOW_GRACE_MS) return 'CLOSED';
  return undefined;
}
