import { describe, expect, test } from 'bun:test';
import { admit, BREAKER_FAILURES_MAX, BREAKER_OPEN_MS, BREAKER_TRANSITIONS, newBreaker, onFailure, onSuccess, type Breaker, type BreakerState } from '../../services/settlement/routing/breaker.ts';
import { channelsOf, matches } from '../../services/settlement/ws/channels.ts';
import { formatCursor, parseCursor } from '../../services/settlement/ws/cursor.ts';

/** A breaker driven into `state` through its public moves only. */
function inState(state: BreakerState): Breaker {
  const b = newBreaker();
  if (state === 'CLOSED') return b;
  for (let i = 0; i < BREAKER_FAILURES_MAX; i++) onFailure(b, 0);
  if (state === 'OPEN') return b;
  expect(admit(b, BREAKER_OPEN_MS)).toBe('probe');
  return b;
}

describe('circuit breaker transitions', () => {
  test('the table is the one the module enforces: every state reaches exactly its listed successors', () => {
    const reached: Record<BreakerState, Set<BreakerState>> = { CLOSED: new Set(), OPEN: new Set(), HALF_OPEN: new Set() };
    for (const from of Object.keys(BREAKER_TRANSITIONS) as BreakerState[]) {
      for (const act of [(b: Breaker) => onSuccess(b), (b: Breaker) => onFailure(b, 1), (b: Breaker) => { for (let i = 0; i < BREAKER_FAILURES_MAX; i++) onFailure(b, 1); }, (b: Breaker) => admit(b, 10 * BREAKER_OPEN_MS)]) {
        const b = inState(from);
        act(b);
        if (b.state !== from) reached[from].add(b.state);
      }
    }
    for (const from of Object.keys(BREAKER_TRANSITIONS) as BreakerState[]) {
      expect([...reached[from]].sort()).toEqual([...BREAKER_TRANSITIONS[from]].sort());
    }
  });

  test(`${BREAKER_FAILURES_MAX} consecutive failures open it; a success in between starts the count again`, () => {
    const b = newBreaker();
    for (let i = 0; i < BREAKER_FAILURES_MAX - 1; i++) onFailure(b, 0);
    onSuccess(b);
    for (let i = 0; i < BREAKER_FAILURES_MAX - 1; i++) onFailure(b, 0);
    expect(b.state).toBe('CLOSED');
    onFailure(b, 0);
    expect(b.state).toBe('OPEN');
  });

  test('open: refused until the open period ends, then exactly one probe at a time', () => {
    const b = inState('OPEN');
    expect(admit(b, BREAKER_OPEN_MS - 1)).toBe('refuse');
    expect(admit(b, BREAKER_OPEN_MS)).toBe('probe');
    expect(admit(b, BREAKER_OPEN_MS)).toBe('refuse');
    onFailure(b, BREAKER_OPEN_MS);
    expect(b.state).toBe('OPEN');
    expect(admit(b, 2 * BREAKER_OPEN_MS - 1)).toBe('refuse');
    expect(admit(b, 2 * BREAKER_OPEN_MS)).toBe('probe');
    onSuccess(b);
    expect(b).toEqual({ state: 'CLOSED', failures: 0, openedAtMs: BREAKER_OPEN_MS, probeInFlight: false });
  });
});

describe('event channels and cursors', () => {
  test('a payment belongs to its initiator and to both accounts; a key event to the key\'s account', () => {
    expect(channelsOf({ initiatedBy: 'u-1', debtor: { ispb: '12345678', branch: '0001', accountNumber: '123' }, creditor: { ispb: '10000001', account: { branch: '0002', number: '9' } } }).sort())
      .toEqual(['account:10000001:0002:9', 'account:12345678:0001:123', 'user:u-1']);
    expect(channelsOf({ event: 'created', participant: '12345678', branch: '0001', accountNumber: '555' })).toEqual(['account:12345678:0001:555']);
    expect(channelsOf('not an object')).toEqual([]);
  });

  test('an SPI payment event reaches both accounts of the payment it carries, the payer\'s ISPB read from the EndToEndId', () => {
    const event = {
      eventId: 'E12345678202611251643abcdefghijk.SETTLED', type: 'payment.settled', at: '2026-11-25T16:43:00.000Z',
      payment: {
        endToEndId: 'E12345678202611251643abcdefghijk', status: 'SETTLED', amount: '1.00',
        debtor: { branch: '0909', number: '5625080442' },
        creditor: { ispb: '10000001', branch: '0001', number: '77', accountType: 'CACC', name: 'Ana', taxId: '***.456.789-**' },
      },
    };
    const channels = channelsOf(event);
    expect(channels.sort()).toEqual(['account:10000001:0001:77', 'account:12345678:0909:5625080442']);
    expect(matches(new Set(['account:12345678:0909:5625080442']), channels)).toBe(true);
    expect(matches(new Set(['account:12345678:0909:1']), channels)).toBe(false);
  });

  test('a connection sees events of its channels only; `all` (admin) sees every one', () => {
    expect(matches(new Set(['user:a']), ['user:b', 'account:1:2:3'])).toBe(false);
    expect(matches(new Set(['user:a', 'account:1:2:3']), ['account:1:2:3'])).toBe(true);
    expect(matches(new Set(['all']), [])).toBe(true);
  });

  test('a cursor round-trips, and anything else is not a cursor', () => {
    const c = { payments: 120, keys: 0, settlement: 7 };
    expect(formatCursor(c)).toBe('p120.k0.s7');
    expect(parseCursor('p120.k0.s7')).toEqual(c);
    for (const bad of ['', 'p1.k2', 'p-1.k0.s0', 'p1.k2.s3.x', 'x1.k2.s3']) expect(parseCursor(bad)).toBeUndefined();
  });
});
