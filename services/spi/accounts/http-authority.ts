// Account authority backed by the institution's own core banking over HTTP. Every request is signed
// (HMAC-SHA256 over `<timestamp>.<METHOD> <path>.<body>` with a shared secret, headers
// X-FluxiQ-Timestamp / X-FluxiQ-Signature: v1=<hex>) and bounded by a strict deadline. When the core
// banking is late or down the configured default decision applies: `reject` refuses with AB09 (error at
// the payee's/payer's PSP), `approve` accepts (credits are then told to the core banking later, by the
// notification retries below). Outcome notifications (settled, released) are retried with backoff.
//
// Protocol (JSON):
//   POST /v1/debits          {ref, branch, number, amountCentavos}          → {decision, reason?, holder?}
//   POST /v1/debits/settle   {ref}                                          → 2xx
//   POST /v1/debits/release  {ref}                                          → 2xx
//   POST /v1/credits         {ref, kind, branch, number, amountCentavos}    → {decision, reason?, holder?}
//   POST /v1/returns/debit   {ref, branch, number, amountCentavos}          → {decision, reason?}
//   decision: APPROVED | REJECTED; reason: AC03 | AC06 | AM04; holder: {taxId, name, accountType}
import { createHmac } from 'node:crypto';
import type { Logger } from '../../../shared/telemetry.ts';
import type { RefusalReason } from '../positions/positions.ts';
import type { AccountAuthority, AccountHolder, AccountRef, Decision } from './authority.ts';

/** Notification attempts before giving up (logged at error level for operations to reconcile). */
export const CORE_NOTIFY_ATTEMPTS_MAX = 6;
export const CORE_NOTIFY_BACKOFF_MS_BASE = 200;
/** Notifications waiting for retry; beyond this the oldest is dropped with an error log. */
export const CORE_NOTIFY_QUEUE_MAX = 10_000;
/** Holders remembered for the `approve` default (the pacs.008 needs the payer's name and tax id). */
export const CORE_HOLDER_CACHE_MAX = 100_000;

export interface HttpAuthorityOptions {
  baseUrl: string;
  secret: string;
  timeoutMs: number;
  defaultDecision: 'approve' | 'reject';
  logger: Logger;
}

export function signCoreRequest(secret: string, timestamp: string, method: string, path: string, body: string): string {
  return 'v1=' + createHmac('sha256', secret).update(`${timestamp}.${method} ${path}.${body}`).digest('hex');
}

type Answer = { decision: 'APPROVED' | 'REJECTED'; reason?: RefusalReason; holder?: AccountHolder };
const REASONS: readonly string[] = ['AC03', 'AC06', 'AM04'];

export function createHttpAuthority(opts: HttpAuthorityOptions): AccountAuthority {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const log = opts.logger.child({ component: 'core-banking' });
  const holders = new Map<string, AccountHolder>();
  const pending: { path: string; body: unknown; attempt: number }[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;

  async function call(path: string, payload: unknown): Promise<{ ok: true; status: number; json: unknown } | { ok: false; why: string }> {
    const body = JSON.stringify(payload);
    const ts = String(Date.now());
    try {
      const res = await fetch(base + path, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-fluxiq-timestamp': ts, 'x-fluxiq-signature': signCoreRequest(opts.secret, ts, 'POST', path, body) },
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      const text = await res.text();
      let json: unknown = null;
      try { json = text ? JSON.parse(text) : null; } catch { /* a non-JSON answer is treated as no decision */ }
      return { ok: true, status: res.status, json };
    } catch (e) {
      return { ok: false, why: (e as Error).name === 'TimeoutError' ? `no answer within ${opts.timeoutMs} ms` : String((e as Error).message) };
    }
  }

  const isAnswer = (j: unknown): j is Answer => typeof j === 'object' && j !== null && ((j as Answer).decision === 'APPROVED' || (j as Answer).decision === 'REJECTED');

  /** One decision: the core banking's, or the configured default when it is late, down or unintelligible. */
  async function decide(path: string, payload: Record<string, unknown>, holderKey: string): Promise<Decision<AccountHolder | undefined>> {
    const r = await call(path, payload);
    if (r.ok && r.status < 300 && isAnswer(r.json)) {
      const a = r.json;
      if (a.decision === 'REJECTED') {
        const reason = a.reason && REASONS.includes(a.reason) ? a.reason : 'AC03';
        return { ok: false, error: { reason, detail: `core banking refused (${reason})` } };
      }
      if (a.holder) {
        if (holders.size >= CORE_HOLDER_CACHE_MAX) holders.delete(holders.keys().next().value!);
        holders.set(holderKey, a.holder);
      }
      return { ok: true, value: a.holder ?? holders.get(holderKey) };
    }
    const why = r.ok ? `answered ${r.status} without a decision` : r.why;
    log.warn({ path, ref: payload.ref, why, default: opts.defaultDecision }, 'core banking gave no decision; applying the default');
    if (opts.defaultDecision === 'reject') return { ok: false, error: { reason: 'AB09', detail: `core banking unavailable: ${why}` } };
    return { ok: true, value: holders.get(holderKey) };
  }

  function notify(path: string, body: unknown, attempt = 1): void {
    void call(path, body).then((r) => {
      if (r.ok && r.status < 300) return;
      if (attempt >= CORE_NOTIFY_ATTEMPTS_MAX || closed) {
        log.error({ path, body, attempt }, 'core banking notification failed for good; reconcile manually');
        return;
      }
      if (pending.length >= CORE_NOTIFY_QUEUE_MAX) log.error({ dropped: pending.shift() }, 'core banking notification queue full; dropped the oldest');
      pending.push({ path, body, attempt: attempt + 1 });
      if (!timer) timer = setTimeout(drain, CORE_NOTIFY_BACKOFF_MS_BASE * 2 ** Math.min(attempt, 6));
    });
  }
  function drain() {
    timer = null;
    for (const n of pending.splice(0)) notify(n.path, n.body, n.attempt);
  }

  const keyOf = (a: AccountRef) => `${a.branch}/${a.number}`;
  const noEffect = { commit: () => {}, abort: () => {} };

  return {
    kind: 'core-banking',
    async holdDebit(ref, account, amountCentavos) {
      const d = await decide('/v1/debits', { ref, branch: account.branch, number: account.number, amountCentavos: amountCentavos.toString() }, keyOf(account));
      if (!d.ok) return d;
      if (!d.value) return { ok: false, error: { reason: 'AB09', detail: 'core banking approved without the account holder, and none is known' } };
      return { ok: true, value: d.value };
    },
    restoreHold() {
      // the core banking keeps its own holds across our restarts
    },
    settleDebit(ref) {
      return { commit: () => notify('/v1/debits/settle', { ref }), abort: () => {} };
    },
    settleBook(ref) {
      // the core banking approved the debit (/v1/debits) and the credit (/v1/credits, ref IN:<e2e>) already;
      // it moves the money between its own accounts once told the debit settled
      return { commit: () => notify('/v1/debits/settle', { ref }), abort: () => notify('/v1/debits/release', { ref }) };
    },
    releaseDebit(ref) {
      notify('/v1/debits/release', { ref });
    },
    async credit(kind, id, account, amountCentavos) {
      const ref = `${kind === 'PAYMENT_IN' ? 'IN' : 'RTI'}:${id}`;
      const d = await decide('/v1/credits', { ref, kind, branch: account.branch, number: account.number, amountCentavos: amountCentavos.toString() }, keyOf(account));
      if (!d.ok) return d;
      const holder = d.value ?? { taxId: '', name: '', accountType: 'CACC' as const };
      return { ok: true, value: { holder, ...noEffect } };
    },
    async debitForReturn(id, account, amountCentavos) {
      const d = await decide('/v1/returns/debit', { ref: `RTO:${id}`, branch: account.branch, number: account.number, amountCentavos: amountCentavos.toString() }, keyOf(account));
      return d.ok ? { ok: true, value: noEffect } : d;
    },
    restoreReturn() {
      // the core banking debited at debitForReturn; a rejection is told to it by reverseReturn
      return noEffect;
    },
    reverseReturn(id, account, amountCentavos) {
      return { commit: () => notify('/v1/credits', { ref: `RTI:${id}`, kind: 'RETURN_IN', branch: account.branch, number: account.number, amountCentavos: amountCentavos.toString() }), abort: () => {} };
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
