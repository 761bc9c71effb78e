import { describe, expect, test } from 'bun:test';
import { canMove, dueMove, moveWindow, windowAt, WINDOW_GRACE_MS, WINDOW_MS, WINDOW_STATES, WINDOW_TRANSITIONS, type SettlementWindow, type WindowState } from '../../services/settlement/windows/window.ts';

const T0 = new Date(Date.UTC(2026, 10, 25, 12, 0, 0));
const afterEnd = new Date(T0.getTime() + WINDOW_MS + 1);
const inState = (state: WindowState): SettlementWindow => ({ ...windowAt(T0), state });

describe('settlement window state machine', () => {
  for (const from of WINDOW_STATES) {
    for (const to of WINDOW_STATES) {
      const legal = (WINDOW_TRANSITIONS[from] as readonly string[]).includes(to);
      test(`${from} → ${to} is ${legal ? 'allowed' : 'refused'}`, () => {
        const r = moveWindow(inState(from), to, afterEnd);
        expect(r.ok).toBe(legal);
        expect(canMove(from, to)).toBe(legal);
        if (r.ok) {
          expect(r.value.state).toBe(to);
          expect(r.value.history.at(-1)).toEqual({ state: to, at: afterEnd });
        } else {
          expect(r.error).toMatchObject({ code: 'Conflict', field: 'state', rule: 'transition' });
        }
      });
    }
  }

  test('nothing leaves SETTLED', () => {
    expect(WINDOW_TRANSITIONS.SETTLED).toEqual([]);
  });

  test('a window cannot start closing before its end', () => {
    const r = moveWindow(windowAt(T0), 'CLOSING', new Date(T0.getTime() + WINDOW_MS - 1));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.rule).toBe('not-ended');
  });

  test('windows are UTC hours named W + yyyyMMddHH', () => {
    const w = windowAt(new Date(Date.UTC(2026, 10, 25, 12, 59, 59, 999)));
    expect(w).toMatchObject({ id: 'W2026112512', startsAt: T0, endsAt: new Date(T0.getTime() + WINDOW_MS), state: 'OPEN' });
    expect(windowAt(new Date(T0.getTime() + WINDOW_MS)).id).toBe('W2026112513');
  });

  test('the clock moves a window to CLOSING at its end and to CLOSED after the grace period, and no further', () => {
    const w = windowAt(T0);
    expect(dueMove(w, new Date(w.endsAt.getTime() - 1))).toBeUndefined();
    expect(dueMove(w, w.endsAt)).toBe('CLOSING');
    const closing = { ...w, state: 'CLOSING' as const };
    expect(dueMove(closing, new Date(w.endsAt.getTime() + WINDOW_GRACE_MS - 1))).toBeUndefined();
    expect(dueMove(closing, new Date(w.endsAt.getTime() + WINDOW_GRACE_MS))).toBe('CLOSED');
    expect(dueMove({ ...w, state: 'CLOSED' }, new Date(w.endsAt.getTime() + 10 * WINDOW_MS))).toBeUndefined();
  });
});
