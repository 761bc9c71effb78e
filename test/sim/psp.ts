// Our SPI service as the simulation runs it. Every decision is the real code's: the transition table and
// applyPaymentEvent (shared/spi/payment-states.ts), what a pacs.002 means (eventOfPacs002, isDecided in
// services/spi/payments/payment.ts), the resend bounds (engine.ts), the idempotency TTL and wait margin.
// What is modelled: durable state (Postgres: payments, idempotency index, ledger, inbox cursor, event
// outbox), Redis (the idempotency store's Lua scripts: separate process, survives our crash) and the
// volatile state a crash wipes (deadlines, resend timers, pollers).
import { IDEMPOTENCY_IN_FLIGHT_TTL_MS } from '../../shared/redis/idempotency.ts';
import { applyPaymentEvent, type PaymentEvent, type PaymentSnapshot } from '../../shared/spi/payment-states.ts';
import { stampUtc } from '../../shared/ids.ts';
import type { Pacs002 } from '../../shared/spi/pacs002.ts';
import { RESEND_DELAY_MS, SEND_ATTEMPTS_MAX } from '../../services/spi/payments/engine.ts';
import { eventIdOf } from '../../services/spi/payments/events.ts';
import { eventOfPacs002, isDecided } from '../../services/spi/payments/payment.ts';
import { IDEMPOTENCY_WAIT_MARGIN_MS } from '../../services/spi/payments/routes.ts';
import { Crash, type World } from './world.ts';

export const OUR_ISPB = '12345678';
export const SYNC_WAIT_MS = 200;
export const ANSWER_TIMEOUT_MS = 2_000;
export const POLL_INTERVAL_MS = 100;
export const PULL_REPORTS_MAX = 8;
export const PUBLISH_RETRY_MS = 300;
export const RESTART_DELAY_MS_MAX = 400;

export interface Report { seq: number; e2e: string; status: Pacs002['status']; reason: Pacs002['reason'] }
export interface Answer { status: number; body: string }
export interface StoredPayment { e2e: string; key: string; hash: string; snap: PaymentSnapshot }
interface Claim { s: 'p' | 'd'; h: string; r: Answer | null; expiresAt: number }

/** What survives a crash of our process. */
export class PspDurable {
  payments = new Map<string, StoredPayment>();
  /** Postgres behind Redis: one payment per Idempotency-Key */
  byKey = new Map<string, string>();
  account = { availableCentavos: 0n, heldCentavos: 0n, debitedCentavos: 0n };
  debitsByE2e = new Map<string, number>();
  inboxCursor = 0;
  /** payment events committed with their change, published afterwards (at least once) */
  outbox = new Map<string, { msgId: string; e2e: string; status: string; amountCentavos: bigint }>();
  /** Redis: the idempotency store */
  claims = new Map<string, Claim>();
}

/** The Lua scripts of shared/redis/idempotency.ts, over the fake clock. */
function begin(d: PspDurable, now: number, key: string, hash: string): { state: 'new' } | { state: 'replay'; r: Answer } | { state: 'conflict' } | { state: 'in-flight' } {
  const c = d.claims.get(key);
  if (c === undefined || c.expiresAt <= now) {
    d.claims.set(key, { s: 'p', h: hash, r: null, expiresAt: now + IDEMPOTENCY_IN_FLIGHT_TTL_MS });
    return { state: 'new' };
  }
  if (c.h !== hash) return { state: 'conflict' };
  if (c.s === 'p') return { state: 'in-flight' };
  return { state: 'replay', r: c.r! };
}
function complete(d: PspDurable, key: string, hash: string, r: Answer): void {
  const c = d.claims.get(key);
  if (c?.s === 'd' || (c && c.h !== hash)) return;
  d.claims.set(key, { s: 'd', h: hash, r, expiresAt: Number.MAX_SAFE_INTEGER });
}

interface Open { deadlineMs: number; attempts: number }

export interface PspOptions {
  /** a deliberately wrong decision, to prove the invariants catch it (test only) */
  bug?: 'am05-rejects' | 'no-idempotency-index';
}

export class Psp {
  epoch = 0;
  #open = new Map<string, Open>();
  #polling = false;
  #publishing = false;
  #e2eCounter = 0;

  constructor(readonly w: World, readonly d: PspDurable, readonly opts: PspOptions = {}) {
    w.register('psp', (m, from) => this.#guard(() => this.#receive(m as any, from)));
  }

  /** Runs a handler; a Crash inside takes the process down and schedules the restart. */
  #guard(fn: () => void): void {
    if (!this.w.isUp('psp')) return;
    try {
      fn();
    } catch (e) {
      if (!(e instanceof Crash)) throw e;
      this.crash();
    }
  }

  crash(): void {
    this.w.log('psp CRASH');
    this.w.setUp('psp', false);
    this.epoch++;
    this.#open.clear();
    this.#polling = false;
    this.#publishing = false;
    this.w.at(this.w.rng.int(10, RESTART_DELAY_MS_MAX), () => this.#restart());
  }

  /** engine.recover(): every payment still SENT/TIMED_OUT is re-sent (same bytes) with a fresh deadline. */
  #restart(): void {
    this.w.setUp('psp', true);
    this.w.log('psp restart');
    this.#guard(() => {
      for (const p of this.d.payments.values()) {
        if (p.snap.state === 'SENT' || p.snap.state === 'TIMED_OUT') this.#send(p, 0);
      }
      this.#ensurePolling();
      this.#ensurePublishing();
    });
  }

  #later(delayMs: number, fn: () => void): void {
    const epoch = this.epoch;
    this.w.at(delayMs, () => {
      if (epoch === this.epoch) this.#guard(fn);
    });
  }

  #receive(m: any, from: string): void {
    switch (m.kind) {
      case 'submit': return this.#submit(m.key, m.hash, m.amountCentavos);
      case 'pulled': return this.#pulled(m.reports as Report[]);
      case 'puback': {
        this.d.outbox.delete(m.msgId);
        return;
      }
      default: throw new Error(`psp: unexpected ${m.kind} from ${from}`);
    }
  }

  // POST /payments (routes.ts): claim the key, else replay / 422 / wait-then-409.
  #submit(key: string, hash: string, amountCentavos: bigint): void {
    const claim = begin(this.d, this.w.now(), key, hash);
    if (claim.state === 'replay') return this.#answer(key, hash, claim.r);
    if (claim.state === 'conflict') return this.#answer(key, hash, { status: 422, body: 'IdempotencyKeyReused' });
    if (claim.state === 'in-flight') {
      return this.#later(SYNC_WAIT_MS + IDEMPOTENCY_WAIT_MARGIN_MS, () => {
        const again = begin(this.d, this.w.now(), key, hash);
        if (again.state === 'replay') return this.#answer(key, hash, again.r);
        if (again.state === 'new') return this.#execute(key, hash, amountCentavos);
        this.#answer(key, hash, { status: 409, body: 'IdempotencyKeyInFlight' });
      });
    }
    this.w.maybeCrash('psp');
    this.#execute(key, hash, amountCentavos);
  }

  // engine.submit: hold + write-ahead insert (status SENT) in one transaction, then send over mTLS.
  #execute(key: string, hash: string, amountCentavos: bigint): void {
    const existing = this.opts.bug === 'no-idempotency-index' ? undefined : this.d.byKey.get(key);
    let p: StoredPayment;
    if (existing !== undefined) {
      p = this.d.payments.get(existing)!;
    } else {
      const e2e = this.#newE2e();
      let snap: PaymentSnapshot = { state: 'CREATED', amountCentavos, returnedCentavos: 0n };
      const funded = this.d.account.availableCentavos >= amountCentavos;
      snap = mustApply(snap, funded ? { type: 'reserve' } : { type: 'reject', reason: 'AM04' });
      if (funded) snap = mustApply(snap, { type: 'send' });
      p = { e2e, key, hash, snap };
      // one transaction: the row, its idempotency row, the hold
      this.d.payments.set(e2e, p);
      this.d.byKey.set(key, e2e);
      if (funded) {
        this.d.account.availableCentavos -= amountCentavos;
        this.d.account.heldCentavos += amountCentavos;
      }
      this.w.maybeCrash('psp');
      if (funded) this.#send(p, 0);
    }
    // the answer waits for the decision up to the sync wait, then says what the payment is now
    this.#later(existing === undefined ? SYNC_WAIT_MS : 0, () => {
      const now = this.d.payments.get(p.e2e)!;
      const answer = { status: isDecided(now.snap.state) ? 201 : 202, body: JSON.stringify({ endToEndId: now.e2e, status: now.snap.state }) };
      this.w.maybeCrash('psp');
      complete(this.d, key, hash, answer);
      this.#answer(key, hash, answer);
    });
  }

  #answer(key: string, hash: string, a: Answer): void {
    this.w.send('psp', 'client', { kind: 'answer', key, hash, ...a });
  }

  #send(p: StoredPayment, attempt: number): void {
    this.w.send('psp', 'spi', { kind: 'pacs008', e2e: p.e2e, amountCentavos: p.snap.amountCentavos });
    const open = this.#open.get(p.e2e) ?? { deadlineMs: this.w.now() + ANSWER_TIMEOUT_MS, attempts: 0 };
    open.attempts = attempt + 1;
    this.#open.set(p.e2e, open);
    if (open.attempts < SEND_ATTEMPTS_MAX) {
      this.#later(RESEND_DELAY_MS, () => {
        if (this.d.payments.get(p.e2e)?.snap.state === 'SENT') this.#send(p, open.attempts);
      });
    }
    this.#later(open.deadlineMs - this.w.now(), () => {
      const now = this.d.payments.get(p.e2e)!;
      if (now.snap.state === 'SENT') this.#decide(now, { type: 'time-out' });
    });
    this.#ensurePolling();
  }

  #ensurePolling(): void {
    if (this.#polling) return;
    const anyOpen = [...this.d.payments.values()].some((p) => p.snap.state === 'SENT' || p.snap.state === 'TIMED_OUT');
    if (!anyOpen) return;
    this.#polling = true;
    this.#later(POLL_INTERVAL_MS, () => {
      this.#polling = false;
      this.w.send('psp', 'spi', { kind: 'pull', cursor: this.d.inboxCursor });
      this.#ensurePolling();
    });
  }

  // the inbox poller: reports in stream order; each one applied with the cursor in one transaction
  #pulled(reports: Report[]): void {
    for (const r of reports) {
      if (r.seq !== this.d.inboxCursor) continue; // already applied, or a gap: the next pull asks again
      const p = this.d.payments.get(r.e2e);
      const event = p === undefined ? null : this.#meaning(p, r);
      if (p !== undefined && event !== null) this.#decide(p, event);
      this.d.inboxCursor = r.seq + 1;
      this.w.maybeCrash('psp');
    }
  }

  #meaning(p: StoredPayment, r: Report): PaymentEvent | null {
    if (this.opts.bug === 'am05-rejects' && r.status === 'RJCT' && (p.snap.state === 'SENT' || p.snap.state === 'TIMED_OUT')) return { type: 'reject', reason: r.reason ?? 'DS04' };
    return eventOfPacs002(p.snap.state, r);
  }

  /** A deciding event, with its ledger effect and its outbox event, in one transaction. */
  #decide(p: StoredPayment, event: PaymentEvent): void {
    const next = applyPaymentEvent(p.snap, event);
    if (!next.ok) return; // the table refuses it: a report that decides nothing here
    const amount = p.snap.amountCentavos;
    if (next.value.state === 'SETTLED') {
      this.d.account.heldCentavos -= amount;
      this.d.account.debitedCentavos += amount;
      this.d.debitsByE2e.set(p.e2e, (this.d.debitsByE2e.get(p.e2e) ?? 0) + 1);
    } else if (next.value.state === 'REJECTED') {
      this.d.account.heldCentavos -= amount;
      this.d.account.availableCentavos += amount;
    }
    p.snap = next.value;
    const msgId = eventIdOf(p.e2e, next.value.state);
    this.d.outbox.set(msgId, { msgId, e2e: p.e2e, status: next.value.state, amountCentavos: amount });
    this.w.log(`psp ${p.e2e.slice(-6)} → ${next.value.state}`);
    this.#ensurePublishing();
  }

  #ensurePublishing(): void {
    if (this.#publishing || this.d.outbox.size === 0) return;
    this.#publishing = true;
    this.#later(0, () => {
      for (const e of this.d.outbox.values()) this.w.send('psp', 'stream', { kind: 'publish', ...e });
      this.#later(PUBLISH_RETRY_MS, () => {
        this.#publishing = false;
        this.#ensurePublishing();
      });
    });
  }

  #newE2e(): string {
    const n = (this.#e2eCounter++).toString(36).padStart(5, '0');
    // unique across restarts too: the epoch is part of it (the real id takes 11 random characters)
    return `E${OUR_ISPB}${stampUtc(new Date(this.w.now()))}${`s${this.epoch.toString(36)}x${n}`.padEnd(11, '0').slice(0, 11)}`;
  }
}

function mustApply(s: PaymentSnapshot, e: PaymentEvent): PaymentSnapshot {
  const r = applyPaymentEvent(s, e);
  if (!r.ok) throw new Error(`simulation bug: ${r.error.detail}`);
  return r.value;
}
