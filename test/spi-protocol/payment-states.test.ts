// The payment state machine: every pair of states is tried; only the table's transitions are accepted.
import { describe, expect, test } from 'bun:test';
import { applyPaymentEvent, EVENT_SOURCES, PAYMENT_STATES, PAYMENT_TRANSITIONS, type PaymentEvent, type PaymentState } from '../../shared/spi/payment-states.ts';

const eventFor = (from: PaymentState, to: PaymentState, amountCentavos: bigint, returned: bigint): PaymentEvent => {
  switch (to) {
    case 'RESERVED': return { type: 'reserve' };
    case 'REJECTED': return { type: 'reject', reason: 'AM04' };
    case 'RELEASED': return { type: 'release', reason: 'AC03' };
    case 'SENT': return { type: 'send' };
    // the one edge into SETTLED without SPI is a book transfer's; every other is a pacs.002 ACSC
    case 'SETTLED': return from === 'RESERVED' ? { type: 'book' } : { type: 'settle' };
    case 'TIMED_OUT': return { type: 'time-out' };
    case 'PARTIALLY_RETURNED': return { type: 'return', amountCentavos: 1n };
    case 'RETURNED': return { type: 'return', amountCentavos: amountCentavos - returned };
    case 'CREATED': return { type: 'reserve' }; // no event leads back to CREATED
  }
};

describe('payment transitions', () => {
  for (const from of PAYMENT_STATES) {
    for (const to of PAYMENT_STATES) {
      const legal = (PAYMENT_TRANSITIONS[from] as readonly string[]).includes(to);
      test(`${from} → ${to} is ${legal ? 'allowed' : 'refused'}`, () => {
        const returned = from === 'PARTIALLY_RETURNED' ? 100n : 0n;
        const snapshot = { state: from, amountCentavos: 1000n, returnedCentavos: returned };
        const r = applyPaymentEvent(snapshot, eventFor(from, to, 1000n, returned));
        if (legal) {
          expect(r).toEqual({ ok: true, value: { ...snapshot, state: to, returnedCentavos: to.includes('RETURNED') ? (to === 'RETURNED' ? 1000n : returned + 1n) : returned } });
        } else if (to !== 'CREATED') {
          expect(r).toMatchObject({ ok: false, error: { code: 'Conflict', field: 'state', rule: 'transition' } });
        } else {
          // "reserve" from anywhere but CREATED is refused; CREATED is never a target
          expect(r.ok && r.value.state === 'CREATED').toBe(false);
        }
      });
    }
  }
});

describe('events confined to their source states', () => {
  const snap = (state: PaymentState) => ({ state, amountCentavos: 1000n, returnedCentavos: 0n });
  for (const [type, sources] of Object.entries(EVENT_SOURCES) as [PaymentEvent['type'], readonly PaymentState[]][]) {
    for (const from of PAYMENT_STATES) {
      const legal = sources.includes(from) && (PAYMENT_TRANSITIONS[from] as readonly string[]).includes('SETTLED');
      test(`${type} from ${from} is ${legal ? 'allowed' : 'refused'}`, () => {
        const r = applyPaymentEvent(snap(from), { type } as PaymentEvent);
        if (legal) expect(r).toEqual({ ok: true, value: { ...snap(from), state: 'SETTLED' } });
        else expect(r).toMatchObject({ ok: false, error: { code: 'Conflict', field: 'state', rule: 'transition' } });
      });
    }
  }

  test('a pacs.002 ACSC cannot settle a payment that was never sent; a book transfer is never sent', () => {
    expect(applyPaymentEvent(snap('RESERVED'), { type: 'settle' })).toMatchObject({ ok: false, error: { rule: 'transition' } });
    for (const state of ['SENT', 'TIMED_OUT'] as const) expect(applyPaymentEvent(snap(state), { type: 'book' })).toMatchObject({ ok: false, error: { rule: 'transition' } });
  });
});

describe('returns', () => {
  test('partial returns add up to the original and no further', () => {
    let p = { state: 'SETTLED' as PaymentState, amountCentavos: 1000n, returnedCentavos: 0n };
    for (const [amount, state] of [[300n, 'PARTIALLY_RETURNED'], [300n, 'PARTIALLY_RETURNED'], [400n, 'RETURNED']] as const) {
      const r = applyPaymentEvent(p, { type: 'return', amountCentavos: amount });
      if (!r.ok) throw new Error(r.error.detail);
      expect(r.value.state).toBe(state);
      p = r.value;
    }
    expect(p.returnedCentavos).toBe(1000n);
    expect(applyPaymentEvent(p, { type: 'return', amountCentavos: 1n })).toMatchObject({ ok: false, error: { rule: 'returnable' } });
  });

  test('a return above what is left, or of zero, is refused and changes nothing', () => {
    const p = { state: 'PARTIALLY_RETURNED' as PaymentState, amountCentavos: 1000n, returnedCentavos: 900n };
    expect(applyPaymentEvent(p, { type: 'return', amountCentavos: 101n })).toMatchObject({ ok: false, error: { field: 'amount', rule: 'returnable' } });
    expect(applyPaymentEvent(p, { type: 'return', amountCentavos: 0n })).toMatchObject({ ok: false, error: { rule: 'minimum' } });
    expect(p.returnedCentavos).toBe(900n);
  });

  test('a payment that never settled cannot be returned', () => {
    for (const state of ['CREATED', 'RESERVED', 'SENT', 'TIMED_OUT', 'REJECTED', 'RELEASED'] as const) {
      expect(applyPaymentEvent({ state, amountCentavos: 10n, returnedCentavos: 0n }, { type: 'return', amountCentavos: 10n })).toMatchObject({ ok: false, error: { rule: 'transition' } });
    }
  });
});
