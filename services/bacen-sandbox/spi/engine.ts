// The sandbox SPI's moving parts, one instance per SandboxDeps (the mTLS and control apps share it):
// intake of a participant's message, the decision of a simulated receiver (rules) or the wait for our
// own pacs.002, batched settlement, and delivery of signed pacs.002s to the inboxes (with faults).
import { readPem, ensureDevPki } from '../../../shared/pki.ts';
import { newMsgId } from '../../../shared/ids.ts';
import { msgDefIdrOf } from '../../../shared/spi/envelope.ts';
import type { SpiMessage } from '../../../shared/spi/message.ts';
import { buildPacs002, type RejectReason } from '../../../shared/spi/pacs002.ts';
import { createXmlSigner } from '../../../shared/xml/signer.ts';
import type { SandboxDeps, XmlSigner } from '../deps.ts';
import { createBatcher } from './batcher.ts';
import { insertInbox, settleBatch, type Outcome, type SettleItem } from './store.ts';

/** The SPI's deadline for the receiving PSP's pacs.002 (PIX.md: the sandbox uses 10 s). */
export const RECEIVER_TIMEOUT_MS_DEFAULT = 10_000;
/**
 * How often receiver deadlines are compared with the sandbox clock: they follow deps.clock, so
 * POST /clock/advance walks past them; the sweep runs only while some payment awaits its receiver.
 */
export const DEADLINE_SWEEP_MS = 50;
export const SETTLE_BATCH_MAX = 500;
/** payments waiting to settle; past it the intake answers 503 (back-pressure on the sender) */
export const SETTLE_QUEUE_MAX = 20_000;
export const INBOX_BATCH_MAX = 1_000;
export const INBOX_QUEUE_MAX = 50_000;
/** long polls parked per ISPB at once; past it a poll answers at once (empty) */
export const INBOX_WAITERS_MAX = 64;
/** receiver answer latencies kept for the control API (GET /spi/answers); the oldest are dropped past it */
export const ANSWER_LATENCIES_MAX = 200_000;
/** payments delivered to a real participant and awaiting its pacs.002 */
export const AWAITING_MAX = 50_000;
export const SIMULATED_RULES_MAX = 64;
/** PI balance each participant starts with (centavos): large for the simulated PSPs, R$ 1,000,000.00 for us */
export const PSP_OPENING_CENTAVOS = 10_000_000_000_000n;
export const OUR_OPENING_CENTAVOS = 100_000_000n;
export const RESERVE_OPENING_CENTAVOS = 100_000_000_000n;

export interface SimulatedRule {
  /** creditor PSP the rule applies to (all simulated PSPs when absent) */
  ispb?: string;
  /** creditor account number the rule applies to (any when absent) */
  account?: string;
  decision: 'accept' | 'reject' | 'timeout';
  reason?: RejectReason;
  latencyMs?: number;
}

export interface MessageFaults {
  /** pacs.002 never delivered */
  lostRate: number;
  /** pacs.002 delivered twice */
  duplicateRate: number;
  /** pacs.002 delivered cut short (not well-formed) */
  malformedRate: number;
  /** pacs.002 delivered with a SignatureValue that does not verify */
  badSignatureRate: number;
  /** pacs.002 available in the inbox only after this delay */
  latencyMs: number;
}

export const NO_MESSAGE_FAULTS: MessageFaults = { lostRate: 0, duplicateRate: 0, malformedRate: 0, badSignatureRate: 0, latencyMs: 0 };

export interface SpiStats {
  received: number;
  settled: number;
  rejected: number;
  delivered: number;
  faults: Record<'lost' | 'duplicated' | 'malformed' | 'badSignature' | 'delayed', number>;
  generated: { pacs008: number; pacs004: number };
}

interface Awaiting {
  item: SettleItem & { kind: 'payment' };
  payerIspb: string;
  notifyPayer: boolean;
  /** sandbox-clock instant after which the receiver is late: RJCT AB03 */
  deadlineMs: number;
}

export type SpiEngine = ReturnType<typeof createEngine>;

/** A payment's state as a pacs.002 reports it (statusOf). */
export type StatusAnswer =
  | { originalMsgId: string; status: 'ACSC'; settledAt: Date }
  | { originalMsgId: string; status: 'RJCT'; reason: RejectReason }
  | { originalMsgId: string; status: 'ACSP' };

const engines = new WeakMap<SandboxDeps, Promise<SpiEngine>>();

/** The engine of these deps, created (and its accounts seeded) on first use. */
export function spiEngineOf(deps: SandboxDeps): Promise<SpiEngine> {
  let e = engines.get(deps);
  if (!e) {
    e = (async () => {
      const engine = createEngine(deps);
      await engine.seed();
      return engine;
    })();
    engines.set(deps, e);
  }
  return e;
}

function createEngine(deps: SandboxDeps) {
  const { sql, clock, config, logger, registry } = deps;
  const spiIspb = config.bacenIspb;
  const settings = { receiverTimeoutMs: RECEIVER_TIMEOUT_MS_DEFAULT };
  let rules: SimulatedRule[] = [];
  let faults: MessageFaults = NO_MESSAGE_FAULTS;
  /** payments delivered to a real participant (us), awaiting its pacs.002 */
  const awaiting = new Map<string, Awaiting>();
  /** how fast real receivers (us) answered the pacs.008s delivered to them (GET /spi/answers); the AB03s
   *  for missed deadlines are counted where the deadline is enforced */
  const answers = { answered: 0, missed: 0, latenciesMs: [] as number[], deliveredAt: new Map<string, number>() };
  /** payments to a simulated PSP whose rule is `timeout`: they run into the same deadline */
  const silent = new Map<string, Awaiting>();
  let sweeper: ReturnType<typeof setInterval> | null = null;
  /** EndToEndIds between intake and settlement: a duplicate arriving meanwhile is refused at once */
  const inFlight = new Map<string, { msgId: string; debtorIspb: string; creditorIspb: string }>();
  const stats: SpiStats = { received: 0, settled: 0, rejected: 0, delivered: 0, faults: { lost: 0, duplicated: 0, malformed: 0, badSignature: 0, delayed: 0 }, generated: { pacs008: 0, pacs004: 0 } };
  const pspSigners = new Map<string, Promise<XmlSigner>>();
  const onError = (e: unknown) => logger.error({ err: e }, 'sandbox SPI batch failed');

  const settler = createBatcher<SettleItem, Outcome>({ batchMax: SETTLE_BATCH_MAX, queueMax: SETTLE_QUEUE_MAX, onError, flush: (items) => settleBatch(sql, items, clock.now()) });
  /** long polls parked until a message for their ISPB is inserted (routes.ts poll with ?waitMs=) */
  const inboxWaiters = new Map<string, Map<() => void, number>>();
  const inbox = createBatcher<{ ispb: string; type: string; msgId: string; xml: string; availableAt: Date }, null>({
    batchMax: INBOX_BATCH_MAX, queueMax: INBOX_QUEUE_MAX, onError,
    flush: async (rows) => {
      await insertInbox(sql, rows);
      stats.delivered += rows.length;
      // wake only as many parked polls as these rows need (each leases up to its `max`): waking every
      // poller for every message had them all query the inbox, all but one for nothing
      const arrived = new Map<string, number>();
      for (const r of rows) arrived.set(r.ispb, (arrived.get(r.ispb) ?? 0) + 1);
      for (const [ispb, count] of arrived) {
        const waiting = inboxWaiters.get(ispb);
        if (!waiting) continue;
        let covered = 0;
        for (const [wake, max] of [...waiting]) {
          if (covered >= count) break;
          covered += max;
          wake();
        }
      }
      return rows.map(() => null);
    },
  });

  const isSimulated = (ispb: string) => registry.byIspb(ispb)?.role === 'simulated-psp';

  function deliver(ispb: string, type: string, msgId: string, xml: string, delayMs = 0): Promise<null> {
    const p = inbox.push({ ispb, type, msgId, xml, availableAt: new Date(clock.now().getTime() + delayMs) });
    if (!p) throw new Error('sandbox SPI inbox queue is full');
    return p;
  }

  /** Signs and delivers the SPI's pacs.002 on `e2e` to `ispb`, through the message faults. */
  async function report(ispb: string, original: { msgId: string; type: 'pacs.008' | 'pacs.004'; id: string }, outcome: Outcome): Promise<void> {
    const now = clock.now();
    const header = { from: spiIspb, to: ispb, bizMsgIdr: newMsgId(spiIspb), creDt: now };
    const xml = buildPacs002(header, {
      originalMsgId: original.msgId, originalMsgNmId: msgDefIdrOf(original.type), originalEndToEndId: original.id,
      status: outcome.status === 'SETTLED' ? 'ACSC' : 'RJCT',
      ...(outcome.status === 'REJECTED' ? { reason: outcome.reason as RejectReason } : { settledAt: now }),
    });
    const signed = await deps.signer.signSpi(xml);
    // the sandbox builds this document itself: failing to sign it is a bug
    if (!signed.ok) throw new Error(`sandbox could not sign its pacs.002: ${signed.error.detail}`);
    let out = signed.value;
    const roll = deps.random();
    const f = faults;
    if (roll < f.lostRate) {
      stats.faults.lost++;
      return;
    }
    if (roll < f.lostRate + f.malformedRate) {
      stats.faults.malformed++;
      out = out.slice(0, Math.floor(out.length / 2));
    } else if (roll < f.lostRate + f.malformedRate + f.badSignatureRate) {
      stats.faults.badSignature++;
      out = out.replace(/<ds:SignatureValue>(.)/, (_m, c: string) => `<ds:SignatureValue>${c === 'A' ? 'B' : 'A'}`);
    }
    if (f.latencyMs > 0) stats.faults.delayed++;
    await deliver(ispb, 'pacs.002', header.bizMsgIdr, out, f.latencyMs);
    if (deps.random() < f.duplicateRate) {
      stats.faults.duplicated++;
      await deliver(ispb, 'pacs.002', header.bizMsgIdr, out, f.latencyMs);
    }
  }

  async function settle(item: SettleItem): Promise<Outcome> {
    const p = settler.push(item);
    if (!p) throw new Error('sandbox SPI settlement queue is full');
    const outcome = await p;
    if (outcome.status === 'SETTLED') stats.settled++;
    else stats.rejected++;
    return outcome;
  }

  async function decidePayment(item: SettleItem & { kind: 'payment' }, payerNotified: boolean): Promise<void> {
    try {
      const outcome = await settle(item);
      const original = { msgId: item.msgId, type: 'pacs.008' as const, id: item.endToEndId };
      if (payerNotified) await report(item.debtorIspb, original, outcome);
      // a real receiver learns the final outcome too: ACSC (credit is final), or RJCT (AB03 after its deadline)
      if (!isSimulated(item.creditorIspb) && registry.byIspb(item.creditorIspb)?.role === 'participant' && item.creditorIspb !== item.debtorIspb) await report(item.creditorIspb, original, outcome);
    } finally {
      inFlight.delete(item.endToEndId);
    }
  }

  function sweepDeadlines(): void {
    const now = clock.nowMs();
    for (const waiting of [awaiting, silent]) {
      for (const [e2e, w] of waiting) {
        if (now < w.deadlineMs) continue;
        waiting.delete(e2e);
        if (waiting === awaiting) {
          answers.missed++;
          answers.deliveredAt.delete(e2e);
        }
        void decidePayment({ ...w.item, rejected: 'AB03' }, w.notifyPayer).catch(onError);
      }
    }
    if (awaiting.size === 0 && silent.size === 0 && sweeper) {
      clearInterval(sweeper);
      sweeper = null;
    }
  }

  function armDeadlines(): void {
    if (sweeper) return;
    sweeper = setInterval(sweepDeadlines, DEADLINE_SWEEP_MS);
    sweeper.unref?.();
  }

  function ruleFor(creditorIspb: string, account: string): SimulatedRule | undefined {
    return rules.find((r) => (r.ispb === undefined || r.ispb === creditorIspb) && (r.account === undefined || r.account === account));
  }

  return {
    settings,
    stats,
    get rules() { return rules; },
    setRules(next: SimulatedRule[]) { rules = next; },
    get faults() { return faults; },
    setFaults(next: MessageFaults) { faults = next; },
    awaitingCount: () => awaiting.size,
    answers,
    resetAnswers() {
      answers.answered = 0;
      answers.missed = 0;
      answers.latenciesMs = [];
    },
    settler,
    inbox,
    deliver,

    /** `done` resolves when a message for `ispb` is inserted into the inbox, or after `ms`, or on cancel().
     *  Taken BEFORE looking at the inbox, so an insert between the look and the wait is not missed. */
    /** `max`: how many messages the parked poll will lease once woken (how many arrivals it covers) */
    inboxSignal(ispb: string, ms: number, max = 1): { done: Promise<void>; cancel(): void } {
      let wake = () => {};
      const done = new Promise<void>((resolve) => {
        let set = inboxWaiters.get(ispb);
        if (!set) inboxWaiters.set(ispb, (set = new Map()));
        if (set.size >= INBOX_WAITERS_MAX) return resolve();
        const timer = setTimeout(() => wake(), ms);
        wake = () => {
          clearTimeout(timer);
          const waiting = inboxWaiters.get(ispb);
          waiting?.delete(wake);
          if (waiting?.size === 0) inboxWaiters.delete(ispb);
          resolve();
        };
        set.set(wake, Math.max(1, max));
      });
      return { done, cancel: () => wake() };
    },

    async seed(): Promise<void> {
      const list = registry.all().filter((p) => p.role !== 'bacen');
      const opening = list.map((p) => String(p.role === 'simulated-psp' ? PSP_OPENING_CENTAVOS : OUR_OPENING_CENTAVOS));
      await sql`insert into spi_accounts (ispb, balance_centavos) select * from unnest(${list.map((p) => p.ispb)}::text[], ${opening}::bigint[]) on conflict do nothing`;
      await sql`insert into spi_reserves (ispb, balance_centavos) select unnest(${list.map((p) => p.ispb)}::text[]), ${String(RESERVE_OPENING_CENTAVOS)}::bigint on conflict do nothing`;
    },

    /** A simulated PSP's signer (its dev PKI key), for the traffic it sends. */
    pspSigner(ispb: string): Promise<XmlSigner> {
      let s = pspSigners.get(ispb);
      if (!s) {
        const files = ensureDevPki(config.pkiDir, { ispb: config.ispb, bacenIspb: config.bacenIspb }).psps[ispb];
        if (!files) throw new Error(`no dev PKI files for simulated PSP ${ispb}`);
        s = createXmlSigner({ keyPem: readPem(files.key), certPem: readPem(files.cert), threads: 0 });
        pspSigners.set(ispb, s);
      }
      return s;
    },

    /**
     * A payer's pacs.008 (already verified and parsed). Returns the immediate refusal reason, or null when
     * the payment goes on (its pacs.002 arrives in the payer's inbox).
     */
    async intakePayment(msg: SpiMessage & { type: 'pacs.008' }, signedXml: string, notifyPayer: boolean): Promise<RejectReason | null> {
      stats.received++;
      const p = msg.message;
      const item = { kind: 'payment' as const, endToEndId: p.endToEndId, msgId: msg.header.bizMsgIdr, debtorIspb: p.debtorAccount.ispb, creditorIspb: p.creditorAccount.ispb, amountCentavos: p.amountCentavos };
      if (inFlight.has(p.endToEndId)) return 'AM05';
      inFlight.set(p.endToEndId, item);
      const creditor = registry.byIspb(item.creditorIspb);
      if (!creditor || creditor.role === 'bacen') {
        void decidePayment({ ...item, rejected: 'AC03' }, notifyPayer).catch(onError);
        return null;
      }
      if (creditor.role === 'simulated-psp') {
        const rule = ruleFor(item.creditorIspb, p.creditorAccount.number);
        const decision = rule?.decision ?? 'accept';
        if (decision === 'timeout') {
          silent.set(p.endToEndId, { item, payerIspb: item.debtorIspb, notifyPayer, deadlineMs: clock.nowMs() + settings.receiverTimeoutMs });
          armDeadlines();
          return null;
        }
        const delay = rule?.latencyMs ?? 0;
        const rejected = decision === 'accept' ? undefined : (rule?.reason ?? 'AC03');
        const go = () => void decidePayment(rejected ? { ...item, rejected } : item, notifyPayer).catch(onError);
        if (delay > 0) setTimeout(go, delay).unref?.();
        else go();
        return null;
      }
      // a real participant (us): it gets the payer's signed pacs.008 and must answer within the deadline
      if (awaiting.size >= AWAITING_MAX) {
        inFlight.delete(p.endToEndId);
        throw new Error('sandbox SPI: too many payments awaiting a receiver');
      }
      await deliver(item.creditorIspb, 'pacs.008', item.msgId, signedXml);
      awaiting.set(p.endToEndId, { item, payerIspb: item.debtorIspb, notifyPayer, deadlineMs: clock.nowMs() + settings.receiverTimeoutMs });
      if (answers.deliveredAt.size >= AWAITING_MAX) answers.deliveredAt.delete(answers.deliveredAt.keys().next().value!);
      answers.deliveredAt.set(p.endToEndId, performance.now());
      armDeadlines();
      return null;
    },

    /** The receiver's pacs.002 on a payment it was delivered. Null when accepted; otherwise why not. */
    answer(msg: SpiMessage & { type: 'pacs.002' }): string | null {
      const s = msg.message;
      const w = awaiting.get(s.originalEndToEndId);
      if (!w) return `no payment ${s.originalEndToEndId} awaits an answer (unknown, already decided or timed out)`;
      if (w.item.creditorIspb !== msg.header.from) return `payment ${s.originalEndToEndId} is not addressed to ${msg.header.from}`;
      if (s.status === 'ACSC') return 'a receiver answers ACSP or RJCT; ACSC is the SPI\'s';
      awaiting.delete(s.originalEndToEndId);
      const deliveredAt = answers.deliveredAt.get(s.originalEndToEndId);
      answers.deliveredAt.delete(s.originalEndToEndId);
      if (deliveredAt !== undefined) {
        if (answers.latenciesMs.length >= ANSWER_LATENCIES_MAX) answers.latenciesMs.shift();
        answers.latenciesMs.push(performance.now() - deliveredAt);
      }
      answers.answered++;
      void decidePayment(s.status === 'RJCT' ? { ...w.item, rejected: s.reason! } : w.item, w.notifyPayer).catch(onError);
      return null;
    },

    /**
     * The current state of a payment for a pacs.028 status request from `askerIspb` (its payer or payee
     * agent): decided (from the settlement record), in process (received, awaiting the receiver or the
     * settler: ACSP), or unknown to SPI (null). 'forbidden' when the asker is neither agent.
     */
    async statusOf(e2e: string, askerIspb: string): Promise<StatusAnswer | 'forbidden' | null> {
      const [row] = await sql<{ msg_id: string; debtor_ispb: string; creditor_ispb: string; status: string; reason: string | null; decided_at: Date }[]>`
        select msg_id, debtor_ispb, creditor_ispb, status, reason, decided_at from spi_payments where end_to_end_id = ${e2e}`;
      if (row) {
        if (row.debtor_ispb !== askerIspb && row.creditor_ispb !== askerIspb) return 'forbidden';
        return row.status === 'SETTLED'
          ? { originalMsgId: row.msg_id, status: 'ACSC', settledAt: row.decided_at }
          : { originalMsgId: row.msg_id, status: 'RJCT', reason: row.reason as RejectReason };
      }
      // received, not decided: awaiting the receiver's answer or in the settlement queue
      const f = inFlight.get(e2e);
      if (!f) return null;
      return f.debtorIspb === askerIspb || f.creditorIspb === askerIspb ? { originalMsgId: f.msgId, status: 'ACSP' } : 'forbidden';
    },

    /**
     * A payment or return whose signature does not verify (DS0G): never processed, answered with a signed
     * RJCT in the sender's inbox so the sender's state machine decides as for any rejection.
     */
    async rejectUnverified(msg: SpiMessage & { type: 'pacs.008' | 'pacs.004' }): Promise<void> {
      stats.received++;
      stats.rejected++;
      const original = msg.type === 'pacs.008'
        ? { msgId: msg.header.bizMsgIdr, type: 'pacs.008' as const, id: msg.message.endToEndId }
        : { msgId: msg.header.bizMsgIdr, type: 'pacs.004' as const, id: msg.message.returnId };
      await report(msg.header.from, original, { status: 'REJECTED', reason: 'DS0G' });
    },

    /** Answers a pacs.008 refused at intake (a duplicate while the first is in flight) with RJCT. */
    async deliverRejection(msg: SpiMessage & { type: 'pacs.008' }, reason: RejectReason): Promise<void> {
      stats.rejected++;
      await report(msg.header.from, { msgId: msg.header.bizMsgIdr, type: 'pacs.008', id: msg.message.endToEndId }, { status: 'REJECTED', reason });
    },

    /** A pacs.004: settled at once (a return needs no acceptance); the receiver gets it in its inbox. */
    async intakeReturn(msg: SpiMessage & { type: 'pacs.004' }, signedXml: string, notifyReturner: boolean): Promise<Outcome> {
      stats.received++;
      const r = msg.message;
      const outcome = await settle({ kind: 'return', returnId: r.returnId, endToEndId: r.originalEndToEndId, returnerIspb: r.returnerIspb, receiverIspb: r.receiverIspb, amountCentavos: r.amountCentavos, reason: r.reason });
      const original = { msgId: msg.header.bizMsgIdr, type: 'pacs.004' as const, id: r.returnId };
      if (notifyReturner) await report(r.returnerIspb, original, outcome);
      if (outcome.status === 'SETTLED' && !isSimulated(r.receiverIspb)) await deliver(r.receiverIspb, 'pacs.004', msg.header.bizMsgIdr, signedXml);
      return outcome;
    },

    async close(): Promise<void> {
      if (sweeper) clearInterval(sweeper);
      sweeper = null;
      awaiting.clear();
      silent.clear();
      await settler.drain();
      await inbox.drain();
      await Promise.all([...pspSigners.values()].map(async (s) => (await s).close()));
    },
  };
}
