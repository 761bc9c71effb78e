// The payment state machine (STYLE.md § State machines are data) and the return arithmetic. Pure: the
// caller supplies the event and persists the outcome; nothing here reads a clock or does I/O.
//
//   CREATED ─reserve─▶ RESERVED ─send─▶ SENT ─ACSC─▶ SETTLED ─return─▶ PARTIALLY_RETURNED ─return─▶ RETURNED
//      └─reject─▶ REJECTED   └─release─▶ RELEASED   ├─RJCT─▶ REJECTED
//                                                    └─deadline─▶ TIMED_OUT ─late ACSC / RJCT─▶ SETTLED / REJECTED
//                                                                  └─status query: SPI never got it─▶ RELEASED
//   Book transfer (payee at our own ISPB, PIX.md § Keys: never reaches SPI):
//   CREATED ─reserve─▶ RESERVED ─book─▶ SETTLED   (payee refuses, AC03/AC06/BE01: RESERVED ─release─▶ RELEASED)
import { fail, ok, type Result } from '../result.ts';

export const PAYMENT_TRANSITIONS = {
  CREATED: ['RESERVED', 'REJECTED'],
  RESERVED: ['SENT', 'RELEASED', 'SETTLED'], // → SETTLED only by `book` (EVENT_SOURCES)
  SENT: ['SETTLED', 'REJECTED', 'TIMED_OUT'],
  // a late pacs.002, or SPI's answer to our status query (pacs.028), decides; RELEASED when SPI never
  // received the payment (payments/resolver.ts)
  TIMED_OUT: ['SETTLED', 'REJECTED', 'RELEASED'],
  SETTLED: ['PARTIALLY_RETURNED', 'RETURNED'],
  PARTIALLY_RETURNED: ['PARTIALLY_RETURNED', 'RETURNED'],
  REJECTED: [],
  RELEASED: [],
  RETURNED: [],
} as const satisfies Record<string, readonly string[]>;

export type PaymentState = keyof typeof PAYMENT_TRANSITIONS;

/**
 * Events that may only leave some states, on top of the table: a pacs.002 ACSC (`settle`) decides only a
 * payment that went to SPI, and `book` (settled in our own ledger) only one that never did. So the
 * RESERVED → SETTLED edge belongs to book transfers alone, and a book transfer can never be "sent".
 */
export const EVENT_SOURCES: Partial<Record<PaymentEvent['type'], readonly PaymentState[]>> = {
  settle: ['SENT', 'TIMED_OUT'],
  book: ['RESERVED'],
};
export const PAYMENT_STATES = Object.keys(PAYMENT_TRANSITIONS) as PaymentState[];
export const FINAL_PAYMENT_STATES: readonly PaymentState[] = PAYMENT_STATES.filter((s) => PAYMENT_TRANSITIONS[s].length === 0);

export interface PaymentSnapshot {
  state: PaymentState;
  amountCentavos: bigint;
  /** sum of the returns already settled */
  returnedCentavos: bigint;
}

/** What happened to the payment; each event names the state it leads to (or, for a return, computes it). */
export type PaymentEvent =
  | { type: 'reserve' }
  | { type: 'reject'; reason: string }
  | { type: 'release'; reason: string }
  | { type: 'send' }
  | { type: 'settle' }
  | { type: 'book' }
  | { type: 'time-out' }
  | { type: 'return'; amountCentavos: bigint };

export function canTransition(from: PaymentState, to: PaymentState): boolean {
  return (PAYMENT_TRANSITIONS[from] as readonly PaymentState[]).includes(to);
}

/** How much of a settled payment can still be returned (PIX.md: returns never exceed the original). */
export function returnableCentavos(p: PaymentSnapshot): bigint {
  return p.amountCentavos - p.returnedCentavos;
}

function targetOf(p: PaymentSnapshot, e: PaymentEvent): Result<PaymentState> {
  switch (e.type) {
    case 'reserve': return ok('RESERVED');
    case 'reject': return ok('REJECTED');
    case 'release': return ok('RELEASED');
    case 'send': return ok('SENT');
    case 'settle': return ok('SETTLED');
    case 'book': return ok('SETTLED');
    case 'time-out': return ok('TIMED_OUT');
    case 'return': {
      if (e.amountCentavos <= 0n) return fail('InvalidRequest', 'a return moves a positive amount', 'amount', 'minimum');
      const left = returnableCentavos(p);
      if (e.amountCentavos > left) return fail('InvalidRequest', `the return exceeds what is left of the payment (${left} centavos)`, 'amount', 'returnable');
      return ok(e.amountCentavos === left ? 'RETURNED' : 'PARTIALLY_RETURNED');
    }
  }
}

/** Applies one event; any transition not in the table is refused (code `InvalidStateTransition`-like conflict). */
export function applyPaymentEvent(p: PaymentSnapshot, e: PaymentEvent): Result<PaymentSnapshot> {
  const target = targetOf(p, e);
  if (!target.ok) return target;
  const sources = EVENT_SOURCES[e.type];
  if (!canTransition(p.state, target.value) || (sources && !sources.includes(p.state))) {
    return fail('Conflict', `a payment in ${p.state} cannot become ${target.value} (${e.type})`, 'state', 'transition');
  }
  const returnedCentavos = e.type === 'return' ? p.returnedCentavos + e.amountCentavos : p.returnedCentavos;
  // the invariant the ledger relies on: never more returned than paid
  if (returnedCentavos > p.amountCentavos || returnedCentavos < 0n) throw new Error('payment return invariant broken');
  return ok({ state: target.value, amountCentavos: p.amountCentavos, returnedCentavos });
}
