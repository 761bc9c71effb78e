// Outbound payments from order to decision:
//   hold (account authority) → build + sign pacs.008 → durable insert (status SENT, write-ahead: "may have
//   been sent") → answer path may now say "accepted" → send over mTLS → pacs.002 from our inbox decides
//   (SETTLED: posting written with the status; REJECTED: hold released) → or the deadline passes
//   (TIMED_OUT, hold kept: a late pacs.002 still decides).
// A book transfer (payee at our own ISPB, PIX.md § Keys) never reaches SPI: payer hold → payee checks →
// one ledger transaction payer → payee, written with the SETTLED row (book.ts decides the outcome).
// After a crash, recover() reloads every payment still SENT/TIMED_OUT, holds its amount again and re-sends
// the same signed bytes; SPI answers a copy it already has with AM05, which decides nothing (payment.ts).
import type { Clock } from '../../../shared/clock.ts';
import type { Config } from '../../../shared/config.ts';
import { newEndToEndId, newMsgId, timeOfId } from '../../../shared/ids.ts';
import { fail, ok, type DomainError, type Result } from '../../../shared/result.ts';
import { buildPacs008 } from '../../../shared/spi/pacs008.ts';
import type { Pacs002 } from '../../../shared/spi/pacs002.ts';
import type { PaymentEvent } from '../../../shared/spi/payment-states.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import type { Sql } from 'postgres';
import type { AccountAuthority, AccountRef } from '../accounts/authority.ts';
import type { SpiLink } from '../messages/link.ts';
import { writeOrThrow, type MessageRow, type SpiStore, type TransactionRow } from '../pipeline/store.ts';
import type { PaymentEvents } from './events.ts';
import { bookOutcome } from './book.ts';
import { applyEvent, eventOfPacs002, isDecided, viewOf, type PaymentRecord, type PaymentView } from './payment.ts';

/** Payments awaiting their pacs.002 at once; past this new orders get 503 (back-pressure). */
export const OPEN_PAYMENTS_MAX = 200_000;
/** Decided payments kept in memory for status reads and duplicate reports; older ones are read from Postgres. */
export const RECENT_PAYMENTS_MAX = 50_000;
/** How often the deadline sweeper runs. */
export const SWEEP_INTERVAL_MS = 50;
/** A send whose outcome is unknown is retried this many times (same bytes), spaced by the sweeper. */
export const SEND_ATTEMPTS_MAX = 4;
export const RESEND_DELAY_MS = 500;
/** Recovery reads open payments created within this window (partition pruning on created_at). */
export const RECOVERY_WINDOW_DAYS = 3;

export interface EngineOptions {
  /** the client waits this long for the decision before getting 202 and a status URL */
  syncWaitMs: number;
  /** no pacs.002 this long after sending: TIMED_OUT (SPI's own receiver deadline is 10 s) */
  answerTimeoutMs: number;
}

export interface EngineSigner {
  signSpi(xml: string): Promise<Result<string>>;
}

export interface PaymentOrder {
  amountCentavos: bigint;
  debtor: AccountRef;
  creditor: { ispb: string; branch: string | null; number: string; accountType: 'CACC' | 'SVGS' | 'SLRY' | 'TRAN'; taxId: string; name: string };
  key: string | null;
  txid: string | null;
  initiationForm: 'MANU' | 'DICT' | 'QRES' | 'QRDN' | 'INIC';
  remittanceInfo: string | null;
  idempotency: { key: string; hash: string } | null;
  traceId: string | null;
}

interface Open extends PaymentRecord {
  deadlineMs: number;
  /** when it became TIMED_OUT (or was recovered as such): the resolver queries SPI after a delay from it */
  timedOutAtMs: number | null;
  sendAttempts: number;
  resendAtMs: number | null;
  waiters: (() => void)[];
}

export interface PaymentEngine {
  /** Accepts an order: resolves once the payment is durable (and sending has started). */
  submit(order: PaymentOrder): Promise<Result<{ view: PaymentView; existing: boolean }>>;
  /** resolves when the payment is decided or after `ms` */
  waitDecision(e2e: string, ms: number): Promise<void>;
  get(e2e: string): Promise<PaymentView | null>;
  record(e2e: string): Promise<PaymentRecord | null>;
  onPacs002(report: Pacs002, signedXml: string, msgId: string): Promise<void>;
  /** a return of `amountCentavos` settled: the payment becomes PARTIALLY_RETURNED / RETURNED */
  noteReturn(e2e: string, amountCentavos: bigint): void;
  /** EndToEndIds of payments TIMED_OUT at or before `atMs` (the resolver's work list), at most `max` */
  timedOut(atMs: number, max: number): string[];
  /** SPI says it never received this TIMED_OUT payment: TIMED_OUT → RELEASED, the hold released */
  releaseUnknown(e2e: string): Promise<boolean>;
  recover(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
  readonly openCount: number;
}

export interface EngineDeps {
  config: Pick<Config, 'ispb' | 'bacenIspb'>;
  clock: Clock;
  logger: Logger;
  sql: Sql<{ bigint: bigint }>;
  store: SpiStore;
  authority: AccountAuthority;
  signer: EngineSigner;
  link: SpiLink;
  events: PaymentEvents;
  options: EngineOptions;
}

export function createPaymentEngine(deps: EngineDeps): PaymentEngine {
  const { config, clock, store, authority, signer, link, events, options } = deps;
  const log = deps.logger.child({ component: 'payments' });
  const open = new Map<string, Open>();
  const recent = new Map<string, PaymentRecord>();
  let sweeper: ReturnType<typeof setInterval> | null = null;

  // A decided payment is kept without its signed pacs.008 (5–8 KB each: at RECENT_PAYMENTS_MAX that alone was
  // ~400 MB of RSS); the bytes are in Postgres (spi_messages, and audit_log) and a decided payment is never re-sent.
  const remember = (p: PaymentRecord) => {
    recent.delete(p.endToEndId);
    recent.set(p.endToEndId, recordOf(p));
    if (recent.size > RECENT_PAYMENTS_MAX) recent.delete(recent.keys().next().value!);
  };
  const wake = (p: Open) => {
    for (const w of p.waiters.splice(0)) w();
  };
  const msg = (msgId: string, type: string, direction: 'IN' | 'OUT', e2e: string, xml: string): MessageRow => ({
    msg_id: msgId, msg_type: type, direction, end_to_end_id: e2e, signed_xml: xml, created_at: clock.now(),
  });

  async function send(p: Open): Promise<void> {
    p.sendAttempts++;
    const outcome = await link.send(p.signedXml);
    if (outcome.kind === 'accepted') {
      p.resendAtMs = null;
      return;
    }
    if (outcome.kind === 'refused') {
      // SPI will never process it: the payment is rejected and the hold released
      log.warn({ e2e: p.endToEndId, status: outcome.status, detail: outcome.detail }, 'SPI refused our pacs.008');
      await decide(p, { type: 'reject', reason: 'FF07' }, null, null);
      return;
    }
    p.resendAtMs = p.sendAttempts < SEND_ATTEMPTS_MAX ? clock.nowMs() + RESEND_DELAY_MS : null;
    log.warn({ e2e: p.endToEndId, detail: outcome.detail, attempt: p.sendAttempts }, 'pacs.008 send outcome unknown; the same bytes will be re-sent');
  }

  /** Applies a deciding event (settle/reject/time-out), durably, then wakes the waiters. */
  async function decide(p: Open, event: { type: 'settle' } | { type: 'reject'; reason: string } | { type: 'release'; reason: string } | { type: 'time-out' }, report: Pacs002 | null, evidence: MessageRow | null): Promise<void> {
    const next = applyEvent(p, event);
    if (!next.ok) {
      if (evidence) await store.write({ kind: 'messages', messages: [evidence] });
      return;
    }
    const from = p.state;
    const to = next.value;
    p.state = to; // claimed synchronously: a duplicate report arriving meanwhile decides nothing
    const at = clock.now();
    const effect = to === 'SETTLED' ? authority.settleDebit(p.endToEndId, p.debtor, p.amountCentavos) : null;
    const rejectReason = event.type === 'reject' ? event.reason : undefined;
    const settledAt = to === 'SETTLED' ? (report?.settledAt ?? at) : undefined;
    try {
      const r = await writeOrThrow(store, {
        kind: 'update-tx', endToEndId: p.endToEndId, createdAt: p.createdAt, from: [from, 'SENT', 'TIMED_OUT'], to, at,
        ...(report ? { pacs002Status: report.status } : {}),
        ...(rejectReason ? { rejectReason } : {}),
        ...(settledAt ? { settledAt } : {}),
        ...(effect?.posting ? { posting: effect.posting } : {}),
        ...(evidence ? { messages: [evidence] } : {}),
      });
      if (to === 'SETTLED') effect!.commit(r.posted);
      if (to === 'REJECTED' || to === 'RELEASED') authority.releaseDebit(p.endToEndId);
      if (!r.applied) log.warn({ e2e: p.endToEndId, from, to }, 'the database already had a decision for this payment');
    } catch (err) {
      p.state = from; // not durable: the next report or the sweeper tries again
      log.error({ err, e2e: p.endToEndId, to }, 'could not record a payment decision');
      return;
    }
    if (rejectReason) p.rejectReason = rejectReason;
    if (settledAt) p.settledAt = settledAt;
    if (to === 'TIMED_OUT') p.timedOutAtMs = clock.nowMs();
    events.emit(viewOf(p), at);
    if (isDecided(to)) {
      open.delete(p.endToEndId);
      remember(p);
    }
    wake(p);
  }

  function sweep(): void {
    const now = clock.nowMs();
    for (const p of open.values()) {
      if (p.state === 'SENT' && p.resendAtMs !== null && now >= p.resendAtMs) {
        p.resendAtMs = null;
        void send(p);
      }
      if (p.state === 'SENT' && now >= p.deadlineMs) void decide(p, { type: 'time-out' }, null, null);
    }
  }

  async function loadRecord(e2e: string): Promise<PaymentRecord | null> {
    const at = timeOfId(e2e);
    if (!at) return null;
    const rows = await deps.sql`
      select t.*, coalesce((select sum(r.amount_centavos) from spi_returns r where r.end_to_end_id = t.end_to_end_id and r.status = 'SETTLED'), 0)::bigint as returned
      from transactions t
      where t.end_to_end_id = ${e2e} and t.direction = 'OUTBOUND'
        and t.created_at >= ${new Date(at.getTime() - 60_000)} and t.created_at < ${new Date(at.getTime() + 86_400_000)}`;
    return rows[0] ? recordOfRow(rows[0]) : null;
  }

  /** A payment to one of our own accounts: decided and written at once, no pacs.008, no SPI. */
  async function book(order: PaymentOrder): Promise<Result<{ view: PaymentView; existing: boolean }>> {
    const creditor = { branch: order.creditor.branch ?? '', number: order.creditor.number };
    if (creditor.branch === order.debtor.branch && creditor.number === order.debtor.number) {
      return fail('InvalidRequest', 'the payer and the payee are the same account', 'creditor', 'distinct');
    }
    const now = clock.now();
    const e2e = newEndToEndId(config.ispb, now);
    const hold = await authority.holdDebit(e2e, order.debtor, order.amountCentavos);
    if (!hold.ok) return { ok: false, error: refusalError(hold.error.reason, hold.error.detail) };
    const holder = hold.value;
    const p: PaymentRecord = {
      endToEndId: e2e, createdAt: now, state: 'CREATED', amountCentavos: order.amountCentavos, returnedCentavos: 0n,
      debtor: { branch: order.debtor.branch, number: order.debtor.number, taxId: holder.taxId, name: holder.name, accountType: holder.accountType },
      creditor: order.creditor, key: order.key, txid: order.txid, initiationForm: order.initiationForm,
      rejectReason: null, settledAt: null, signedXml: '', msgId: '',
    };
    const payee = creditor.branch === '' ? null : await authority.credit('PAYMENT_IN', e2e, creditor, order.amountCentavos);
    const outcome = bookOutcome(order.creditor.taxId, payee);
    const steps: PaymentEvent[] = [{ type: 'reserve' }, outcome.ok ? { type: 'book' } : { type: 'release', reason: outcome.reason }];
    for (const e of steps) {
      const next = applyEvent(p, e);
      if (!next.ok) throw new Error(`payment state machine: ${next.detail}`);
      p.state = next.value;
    }
    if (outcome.ok) p.settledAt = now;
    else p.rejectReason = outcome.reason;
    const effect = outcome.ok ? authority.settleBook(e2e, order.debtor, creditor, order.amountCentavos) : null;
    // settled_at stays NULL: it is SPI's settlement time (with its ACSC); the view's settledAt is created_at
    const row = { ...transactionRowOf(p, config.ispb, order, now), reject_reason: p.rejectReason };
    let result;
    try {
      result = await writeOrThrow(store, { kind: 'insert-tx', row, ...(order.idempotency ? { idempotency: order.idempotency } : {}), ...(effect?.posting ? { posting: effect.posting } : {}) });
    } catch (err) {
      if (effect) effect.abort();
      else authority.releaseDebit(e2e);
      throw err;
    }
    if (result.existingEndToEndId) {
      if (effect) effect.abort();
      else authority.releaseDebit(e2e);
      if (keyReused(order, result)) return keyReusedFailure();
      const existing = await this_.get(result.existingEndToEndId);
      if (!existing) throw new Error(`idempotency row points to a missing payment ${result.existingEndToEndId}`);
      return ok({ view: existing, existing: true });
    }
    if (effect) {
      // the invariant the ledger relies on: a fresh EndToEndId's posting (built-in ledger) is written now, once
      if (effect.posting && !result.posted) throw new Error(`book transfer ${e2e}: the posting was already in the ledger`);
      effect.commit(result.posted);
    } else authority.releaseDebit(e2e);
    remember(p);
    events.emit(viewOf(p), now, 'OUTBOUND', { book: true });
    return ok({ view: viewOf(p), existing: false });
  }

  const this_: PaymentEngine = {
    get openCount() {
      return open.size;
    },

    async submit(order) {
      if (order.creditor.ispb === config.ispb) return book(order);
      if (open.size >= OPEN_PAYMENTS_MAX) return fail('ServiceUnavailable', `${open.size} payments await SPI; try again shortly`);
      const now = clock.now();
      const e2e = newEndToEndId(config.ispb, now);
      const hold = await authority.holdDebit(e2e, order.debtor, order.amountCentavos);
      if (!hold.ok) return { ok: false, error: refusalError(hold.error.reason, hold.error.detail) };
      const holder = hold.value;
      const msgId = newMsgId(config.ispb);
      const unsigned = buildPacs008({ from: config.ispb, to: config.bacenIspb, bizMsgIdr: msgId, creDt: now }, {
        endToEndId: e2e, amountCentavos: order.amountCentavos, acceptedAt: now, initiationForm: order.initiationForm, priority: 'HIGH',
        debtor: { name: holder.name, taxId: holder.taxId },
        debtorAccount: { ispb: config.ispb, branch: order.debtor.branch, number: order.debtor.number, type: holder.accountType },
        creditor: { name: order.creditor.name, taxId: order.creditor.taxId },
        creditorAccount: { ispb: order.creditor.ispb, ...(order.creditor.branch ? { branch: order.creditor.branch } : {}), number: order.creditor.number, type: order.creditor.accountType },
        ...(order.key ? { key: order.key } : {}),
        ...(order.txid ? { txid: order.txid } : {}),
        ...(order.remittanceInfo ? { remittanceInfo: order.remittanceInfo } : {}),
      });
      const signed = await signer.signSpi(unsigned);
      if (!signed.ok) {
        authority.releaseDebit(e2e);
        throw new Error(`signing our pacs.008 failed: ${signed.error.detail}`);
      }
      const p: Open = {
        endToEndId: e2e, createdAt: now, state: 'CREATED', amountCentavos: order.amountCentavos, returnedCentavos: 0n,
        debtor: { branch: order.debtor.branch, number: order.debtor.number, taxId: holder.taxId, name: holder.name, accountType: holder.accountType },
        creditor: order.creditor, key: order.key, txid: order.txid, initiationForm: order.initiationForm,
        rejectReason: null, settledAt: null, signedXml: signed.value, msgId,
        deadlineMs: Number.MAX_SAFE_INTEGER, timedOutAtMs: null, sendAttempts: 0, resendAtMs: null, waiters: [],
      };
      // CREATED → RESERVED (held above) → SENT, recorded write-ahead: the row says "may have been sent"
      for (const e of [{ type: 'reserve' }, { type: 'send' }] as const) {
        const next = applyEvent(p, e);
        if (!next.ok) throw new Error(`payment state machine: ${next.detail}`);
        p.state = next.value;
      }
      const row = transactionRowOf(p, config.ispb, order, now);
      let result;
      try {
        result = await writeOrThrow(store, { kind: 'insert-tx', row, ...(order.idempotency ? { idempotency: order.idempotency } : {}), messages: [msg(msgId, 'pacs.008', 'OUT', e2e, signed.value)] });
      } catch (err) {
        authority.releaseDebit(e2e);
        throw err;
      }
      if (result.existingEndToEndId) {
        // the Idempotency-Key is already bound to a payment (Redis lost it; the database did not)
        authority.releaseDebit(e2e);
        if (keyReused(order, result)) return keyReusedFailure();
        const existing = await this.get(result.existingEndToEndId);
        if (!existing) throw new Error(`idempotency row points to a missing payment ${result.existingEndToEndId}`);
        return ok({ view: existing, existing: true });
      }
      p.deadlineMs = clock.nowMs() + options.answerTimeoutMs;
      open.set(e2e, p);
      events.emit(viewOf(p), now);
      void send(p);
      return ok({ view: viewOf(p), existing: false });
    },

    waitDecision(e2e, ms) {
      const p = open.get(e2e);
      if (!p || isDecided(p.state)) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        p.waiters.push(done);
      });
    },

    async get(e2e) {
      const p = open.get(e2e) ?? recent.get(e2e) ?? (await loadRecord(e2e));
      return p ? viewOf(p) : null;
    },

    async record(e2e) {
      return open.get(e2e) ?? recent.get(e2e) ?? (await loadRecord(e2e));
    },

    async onPacs002(report, signedXml, msgId) {
      const e2e = report.originalEndToEndId;
      const evidence = msg(msgId, 'pacs.002', 'IN', e2e, signedXml);
      const p = open.get(e2e);
      if (!p) {
        // decided already (a duplicated report) or unknown: keep the evidence, decide nothing
        await store.write({ kind: 'messages', messages: [evidence] });
        if (!recent.has(e2e)) log.warn({ e2e, status: report.status }, 'pacs.002 for a payment that is not open');
        return;
      }
      const event = eventOfPacs002(p.state, report);
      if (!event || (event.type !== 'settle' && event.type !== 'reject')) {
        await store.write({ kind: 'messages', messages: [evidence] });
        return;
      }
      await decide(p, event, report, evidence);
    },

    timedOut(atMs, max) {
      const out: string[] = [];
      for (const p of open.values()) {
        if (out.length >= max) break;
        if (p.state === 'TIMED_OUT' && p.timedOutAtMs !== null && p.timedOutAtMs <= atMs) out.push(p.endToEndId);
      }
      return out;
    },

    async releaseUnknown(e2e) {
      const p = open.get(e2e);
      if (!p || p.state !== 'TIMED_OUT') return false;
      await decide(p, { type: 'release', reason: 'not received by SPI' }, null, null);
      return (p.state as string) === 'RELEASED';
    },

    noteReturn(e2e, amountCentavos) {
      const p = recent.get(e2e);
      if (!p) return; // read from Postgres next time, with the returned sum
      const next = applyEvent(p, { type: 'return', amountCentavos });
      if (next.ok) {
        p.state = next.value;
        p.returnedCentavos += amountCentavos;
      }
    },

    async recover() {
      const since = new Date(clock.nowMs() - RECOVERY_WINDOW_DAYS * 86_400_000);
      // the bytes to re-send are the pacs.008 kept in spi_messages (transactions.signed_xml only holds them
      // for payments written before that column was left empty)
      const rows = await deps.sql`
        select t.*, 0::bigint as returned, m.msg_id as pacs008_msg_id, m.signed_xml as pacs008_signed_xml
        from transactions t
        left join lateral (select msg_id, signed_xml from spi_messages m where m.end_to_end_id = t.end_to_end_id and m.msg_type = 'pacs.008' and m.direction = 'OUT' limit 1) m on true
        where t.direction = 'OUTBOUND' and t.status in ('CREATED', 'RESERVED', 'SENT', 'TIMED_OUT') and t.created_at >= ${since}`;
      for (const row of rows) {
        const rec = recordOfRow(row);
        if (row.pacs008_msg_id) rec.msgId = row.pacs008_msg_id as string;
        if (row.pacs008_signed_xml) rec.signedXml = row.pacs008_signed_xml as string;
        authority.restoreHold(rec.endToEndId, rec.debtor, rec.amountCentavos);
        const timedOut = rec.state === 'TIMED_OUT';
        const p: Open = { ...rec, state: timedOut ? 'TIMED_OUT' : 'SENT', deadlineMs: clock.nowMs() + options.answerTimeoutMs, timedOutAtMs: timedOut ? clock.nowMs() : null, sendAttempts: 0, resendAtMs: null, waiters: [] };
        open.set(p.endToEndId, p);
        // the same signed bytes again: SPI processes it if it never got it, answers AM05 if it did
        if (p.signedXml) void send(p);
      }
      if (rows.length > 0) log.info({ count: rows.length }, 'recovered open payments; re-sent their pacs.008');
      return rows.length;
    },

    start() {
      sweeper ??= setInterval(sweep, SWEEP_INTERVAL_MS);
    },

    async stop() {
      if (sweeper) clearInterval(sweeper);
      sweeper = null;
      for (const p of open.values()) wake(p);
    },
  };
  return this_;
}

/** The PaymentRecord fields of an open payment (no waiters, timers or signed bytes): what `recent` keeps. */
function recordOf(p: PaymentRecord): PaymentRecord {
  return {
    endToEndId: p.endToEndId, createdAt: p.createdAt, state: p.state, amountCentavos: p.amountCentavos, returnedCentavos: p.returnedCentavos,
    debtor: p.debtor, creditor: p.creditor, key: p.key, txid: p.txid, initiationForm: p.initiationForm,
    rejectReason: p.rejectReason, settledAt: p.settledAt, signedXml: '', msgId: p.msgId,
  };
}

const SETTLED_OR_LATER: readonly string[] = ['SETTLED', 'PARTIALLY_RETURNED', 'RETURNED'];

function refusalError(reason: string, detail: string): DomainError {
  switch (reason) {
    case 'AM04': return { code: 'InsufficientFunds', detail, field: 'debtor', rule: 'funds' };
    case 'AC06': return { code: 'AccountBlocked', detail, field: 'debtor', rule: 'blocked' };
    case 'AC03': return { code: 'AccountNotFound', detail, field: 'debtor', rule: 'exists' };
    default: return { code: 'ServiceUnavailable', detail };
  }
}

function transactionRowOf(p: PaymentRecord, ispb: string, order: PaymentOrder, now: Date): TransactionRow {
  return {
    end_to_end_id: p.endToEndId, direction: 'OUTBOUND', status: p.state, amount_centavos: p.amountCentavos,
    debtor_ispb: ispb, debtor_branch: p.debtor.branch, debtor_account: p.debtor.number, debtor_account_type: p.debtor.accountType,
    debtor_tax_id: p.debtor.taxId, debtor_name: p.debtor.name,
    creditor_ispb: p.creditor.ispb, creditor_branch: p.creditor.branch, creditor_account: p.creditor.number, creditor_account_type: p.creditor.accountType,
    creditor_tax_id: p.creditor.taxId, creditor_name: p.creditor.name,
    pix_key: p.key, idempotency_key: order.idempotency?.key ?? null, txid: p.txid, initiation_form: p.initiationForm,
    reject_reason: null, pacs002_status: null, settled_at: null, trace_id: order.traceId,
    created_at: now, updated_at: now,
  };
}

export function recordOfRow(r: Record<string, any>): PaymentRecord {
  return {
    endToEndId: String(r.end_to_end_id).trim(),
    createdAt: r.created_at,
    state: r.status,
    amountCentavos: r.amount_centavos,
    returnedCentavos: BigInt(r.returned ?? 0n),
    debtor: { branch: r.debtor_branch, number: r.debtor_account, taxId: r.debtor_tax_id, name: r.debtor_name, accountType: r.debtor_account_type },
    creditor: { ispb: r.creditor_ispb, branch: r.creditor_branch, number: r.creditor_account, accountType: r.creditor_account_type, taxId: r.creditor_tax_id, name: r.creditor_name },
    key: r.pix_key, txid: r.txid, initiationForm: r.initiation_form, rejectReason: r.reject_reason,
    // a book transfer (payer and payee ours) settled in the write that created it, without SPI
    settledAt: r.settled_at ?? (r.debtor_ispb === r.creditor_ispb && SETTLED_OR_LATER.includes(r.status) ? r.created_at : null),
    // transactions.signed_xml: only payments written before the pacs.008 was kept in spi_messages alone
    signedXml: r.signed_xml ?? '', msgId: '',
  };
}

/** The database bound this Idempotency-Key to a payment made from a different request body (Redis had
 *  forgotten the key, so only the backstop can tell): the answer is 422, never the other payment. */
function keyReused(order: PaymentOrder, result: { existingRequestHash?: string }): boolean {
  return order.idempotency !== null && result.existingRequestHash !== undefined && result.existingRequestHash !== order.idempotency.hash;
}

function keyReusedFailure() {
  return fail('IdempotencyKeyReused', 'this Idempotency-Key was used with a different request body', 'Idempotency-Key', 'reused');
}
