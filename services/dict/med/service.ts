// MED in both roles. Infraction reports: we report a payment (REPORTER) or answer one about a payment we
// took part in (REPORTED: acknowledged as soon as seen, closed AGREED/DISAGREED by an analyst). Refunds:
// we ask the payee's PSP for funds back (REQUESTER) or answer such a request within 7 days (CONTESTED).
// Our actions are checked against the shared transition tables before DICT is asked; DICT's answers and
// the poller's findings go through one `observe` per kind. Cautionary blocks hold funds on our accounts
// for at most 72 h, alone or along a MED 2.0 trace.
import { randomUUID } from 'node:crypto';
import { applyInfractionAction, counterpartyOf, reporterOf, type InfractionAction, type InfractionResult, type InfractionState } from '../../../shared/dict/infractions.ts';
import { applyRefundAction, CAUTIONARY_BLOCK_MS_MAX, checkRefundRequest, refundAnswerDeadlineMs, type RefundAction, type RefundReason, type RefundResult, type RefundState } from '../../../shared/dict/refunds.ts';
import { parseAmount } from '../../../shared/money.ts';
import { fail, ok, type Result } from '../../../shared/result.ts';
import type { Actor, DictDeps } from '../deps.ts';
import type { InfractionReport, Refund } from '../dictapi/types.ts';
import { appendAudit } from '../../../shared/audit.ts';
import { writeOutbox, type Outbox, type OutboxEvent } from '../events/outbox.ts';
import { readCursor, writeCursor } from '../claims/store.ts';
import { findInfraction, findRefund, upsertInfraction, upsertRefund, type InfractionRow, type RefundRow } from './store.ts';
import { traceFunds, type TraceGraph } from './trace.ts';

/** Pages the MED poller reads per pass. */
export const MED_POLL_PAGES_MAX = 10;
export const MED_POLL_OVERLAP_MS = 1_000;
const SYSTEM: Actor = { actor: 'dict-med' };

export interface BlockRow {
  id: string;
  end_to_end_id: string;
  hop: number;
  participant_ispb: string;
  branch: string | null;
  account_number: string;
  amount_centavos: bigint;
  status: string;
  blocked_until: Date;
  released_at: Date | null;
  created_at: Date;
}

export interface MedService {
  report(endToEndId: string, details: string, who: Actor): Promise<Result<InfractionRow>>;
  closeReport(id: string, result: InfractionResult, details: string, who: Actor): Promise<Result<InfractionRow>>;
  cancelReport(id: string, who: Actor): Promise<Result<InfractionRow>>;
  requestRefund(input: { endToEndId: string; reason: RefundReason; amount: string; details?: string | undefined; infractionReportId?: string | undefined }, who: Actor): Promise<Result<RefundRow>>;
  closeRefund(id: string, result: RefundResult, details: string, refundTransactionId: string | undefined, who: Actor): Promise<Result<RefundRow>>;
  cancelRefund(id: string, who: Actor): Promise<Result<RefundRow>>;
  trace(endToEndId: string): Promise<Result<TraceGraph>>;
  /** cautionary block on each of our accounts the trace reached, for the funds that reached it */
  block(endToEndId: string, hours: number, who: Actor): Promise<Result<BlockRow[]>>;
  releaseExpiredBlocks(): Promise<number>;
  pollOnce(): Promise<{ reports: number; refunds: number }>;
}

const stateOfReport = (r: InfractionReport): InfractionState => ({
  status: r.status, reportedBy: r.reportedBy, debitedParticipant: r.debitedParticipant, creditedParticipant: r.creditedParticipant,
  lastModifiedMs: Date.parse(r.lastModified), ...(r.analysisResult ? { analysisResult: r.analysisResult } : {}), ...(r.analysisDetails ? { analysisDetails: r.analysisDetails } : {}),
});
const stateOfRefund = (r: RefundRow): RefundState => ({
  status: r.status as RefundState['status'], requestingParticipant: r.requester_ispb, contestedParticipant: r.contested_ispb, amountCentavos: r.amount_centavos,
  lastModifiedMs: r.last_modified.getTime(), ...(r.analysis_result ? { analysisResult: r.analysis_result as RefundResult } : {}),
  ...(r.refund_transaction_id ? { refundTransactionId: r.refund_transaction_id } : {}),
});

export function createMedService(deps: DictDeps, outbox: Outbox): MedService {
  const { sql, config, clock, dict, logger } = deps;
  const us = config.ispb;
  const log = logger.child({ component: 'dict-med' });

  const event = (kind: string, id: string, status: string, payload: Record<string, unknown>): OutboxEvent =>
    ({ id: `med-${kind}:${id}:${status}`, subject: `pix.keys.med.${us}`, payload: { event: kind, id, status, ...payload } });

  async function observeReport(r: InfractionReport, who: Actor = SYSTEM): Promise<InfractionRow> {
    const s = stateOfReport(r);
    const reporter = reporterOf(s);
    const role = reporter === us ? 'REPORTER' : 'REPORTED';
    const now = clock.now();
    let ev: OutboxEvent | undefined;
    await sql.begin(async (tx) => {
      const before = await upsertInfraction(tx, r, role, reporter, counterpartyOf(s), now);
      if (before !== r.status) {
        ev = event('infraction', r.id, r.status, { endToEndId: r.transactionId, role });
        await writeOutbox(tx, ev, now);
        await appendAudit(tx, { actor: who.actor, action: `infraction.${r.status.toLowerCase()}`, entityType: 'dict_infraction_report', entityId: r.id, traceId: who.traceId, detail: { endToEndId: r.transactionId, role, from: before ?? null } }, now);
      }
    });
    if (ev) await outbox.publishCommitted([ev], who.traceId);
    return (await findInfraction(sql, r.id))!;
  }

  async function observeRefund(r: Refund, who: Actor = SYSTEM, infractionReportId: string | null = null): Promise<RefundRow> {
    const role = r.requestingParticipant === us ? 'REQUESTER' : 'CONTESTED';
    const now = clock.now();
    let ev: OutboxEvent | undefined;
    await sql.begin(async (tx) => {
      const before = await upsertRefund(tx, r, role, new Date(refundAnswerDeadlineMs(Date.parse(r.creationTime))), infractionReportId, now);
      if (before !== r.status) {
        ev = event('refund', r.id, r.status, { endToEndId: r.transactionId, role, amount: r.refundAmount });
        await writeOutbox(tx, ev, now);
        await appendAudit(tx, { actor: who.actor, action: `refund.${r.status.toLowerCase()}`, entityType: 'dict_refund', entityId: r.id, traceId: who.traceId, detail: { endToEndId: r.transactionId, role, amount: r.refundAmount, from: before ?? null } }, now);
      }
    });
    if (ev) await outbox.publishCommitted([ev], who.traceId);
    return (await findRefund(sql, r.id))!;
  }

  async function reportAction(id: string, action: InfractionAction, who: Actor, call: () => Promise<Result<InfractionReport>>): Promise<Result<InfractionRow>> {
    const current = await dict.getInfractionReport(id);
    if (!current.ok) return current;
    const checked = applyInfractionAction(stateOfReport(current.value), action, us, clock.nowMs());
    if (!checked.ok) return checked;
    const answered = await call();
    return answered.ok ? ok(await observeReport(answered.value, who)) : answered;
  }

  async function refundAction(id: string, action: RefundAction, who: Actor, call: () => Promise<Result<Refund>>): Promise<Result<RefundRow>> {
    const row = await findRefund(sql, id);
    if (!row) return fail('RefundNotFound', 'no such refund with us');
    const checked = applyRefundAction(stateOfRefund(row), action, us, clock.nowMs());
    if (!checked.ok) return checked;
    const answered = await call();
    return answered.ok ? ok(await observeRefund(answered.value, who, row.infraction_report_id)) : answered;
  }

  async function pollReports(): Promise<number> {
    let seen = 0;
    let after = new Date(Math.max(0, ((await readCursor(sql, 'infractions')) ?? new Date(0)).getTime() - MED_POLL_OVERLAP_MS));
    for (let page = 0; page < MED_POLL_PAGES_MAX; page++) {
      const listed = await dict.listInfractionReports({ modifiedAfter: after });
      if (!listed.ok) {
        log.warn({ code: listed.error.code }, 'listInfractionReports failed; next poll retries');
        break;
      }
      let newest = after;
      for (const r of listed.value.reports) {
        let report = r;
        // the report is about a payment we took part in: acknowledge receipt at once (the analysis follows)
        if (r.status === 'OPEN' && reporterOf(stateOfReport(r)) !== us) {
          const acked = await dict.acknowledgeInfractionReport(r.id);
          if (acked.ok) report = acked.value;
          else log.warn({ id: r.id, code: acked.error.code }, 'could not acknowledge an infraction report; next poll retries');
        }
        await observeReport(report);
        seen++;
        const m = new Date(r.lastModified);
        if (m > newest) newest = m;
      }
      await writeCursor(sql, 'infractions', newest, clock.now());
      if (!listed.value.hasMoreElements || newest.getTime() === after.getTime()) break;
      after = newest;
    }
    return seen;
  }

  async function pollRefunds(): Promise<number> {
    let seen = 0;
    let after = new Date(Math.max(0, ((await readCursor(sql, 'refunds')) ?? new Date(0)).getTime() - MED_POLL_OVERLAP_MS));
    for (let page = 0; page < MED_POLL_PAGES_MAX; page++) {
      const listed = await dict.listRefunds({ modifiedAfter: after });
      if (!listed.ok) {
        log.warn({ code: listed.error.code }, 'listRefunds failed; next poll retries');
        break;
      }
      let newest = after;
      for (const r of listed.value.refunds) {
        const known = await findRefund(sql, r.id);
        await observeRefund(r, SYSTEM, known?.infraction_report_id ?? null);
        seen++;
        const m = new Date(r.lastModified);
        if (m > newest) newest = m;
      }
      await writeCursor(sql, 'refunds', newest, clock.now());
      if (!listed.value.hasMoreElements || newest.getTime() === after.getTime()) break;
      after = newest;
    }
    return seen;
  }

  return {
    async report(endToEndId, details, who) {
      const created = await dict.createInfractionReport({ endToEndId, details, requestId: randomUUID() });
      return created.ok ? ok(await observeReport(created.value, who)) : created;
    },
    closeReport: (id, result, details, who) => reportAction(id, { kind: 'close', result, details }, who, () => dict.closeInfractionReport(id, result, details)),
    cancelReport: (id, who) => reportAction(id, { kind: 'cancel' }, who, () => dict.cancelInfractionReport(id)),

    async requestRefund(input, who) {
      const amount = parseAmount(input.amount, 'amount');
      if (!amount.ok) return amount;
      const [tx] = await sql<{ amount_centavos: bigint; created_at: Date; direction: string }[]>`
        select amount_centavos, created_at, direction from transactions where end_to_end_id = ${input.endToEndId} order by created_at limit 1`;
      if (!tx) return fail('RefundInvalid', 'no payment of ours has this EndToEndId', 'endToEndId', 'exists');
      if (tx.direction !== 'OUTBOUND') return fail('RefundInvalid', 'a refund is requested by the payer\'s PSP: this payment was received here', 'endToEndId', 'outbound');
      const allowed = checkRefundRequest(tx.created_at.getTime(), tx.amount_centavos, amount.value, clock.nowMs());
      if (!allowed.ok) return allowed;
      const created = await dict.createRefund({ endToEndId: input.endToEndId, reason: input.reason, amountCentavos: amount.value, details: input.details, requestId: randomUUID() });
      return created.ok ? ok(await observeRefund(created.value, who, input.infractionReportId ?? null)) : created;
    },
    closeRefund: (id, result, details, refundTransactionId, who) =>
      refundAction(id, { kind: 'close', result, details, ...(refundTransactionId ? { refundTransactionId } : {}) }, who, () => dict.closeRefund(id, result, details, refundTransactionId)),
    cancelRefund: (id, who) => refundAction(id, { kind: 'cancel' }, who, () => dict.cancelRefund(id)),

    async trace(endToEndId) {
      const graph = await traceFunds(sql, us, endToEndId);
      return graph ? ok(graph) : fail('NotFound', 'no payment with this EndToEndId in our records');
    },

    async block(endToEndId, hours, who) {
      const untilMs = hours * 3600 * 1000;
      if (!(untilMs > 0 && untilMs <= CAUTIONARY_BLOCK_MS_MAX)) return fail('InvalidRequest', 'a cautionary block lasts more than 0 and at most 72 hours', 'hours', 'maximum');
      const graph = await traceFunds(sql, us, endToEndId);
      if (!graph) return fail('NotFound', 'no payment with this EndToEndId in our records');
      const now = clock.now();
      const blocked = new Date(now.getTime() + untilMs);
      const ours = graph.nodes.filter((n) => n.ours && n.hop >= 1 && n.receivedCentavos > 0n);
      if (ours.length === 0) return fail('InvalidRequest', 'the funds never reached an account of ours', 'endToEndId', 'reached-us');
      const events: OutboxEvent[] = [];
      const rows = await sql.begin(async (tx) => {
        const out: BlockRow[] = [];
        for (const n of ours) {
          const id = randomUUID();
          const [row] = await tx<BlockRow[]>`insert into dict_cautionary_blocks (id, end_to_end_id, hop, participant_ispb, branch, account_number, amount_centavos, status, blocked_until, created_at)
            values (${id}, ${endToEndId}, ${n.hop}, ${n.ispb}, ${n.branch}, ${n.account}, ${n.receivedCentavos}, 'ACTIVE', ${blocked}, ${now}) returning *`;
          out.push(row!);
          const ev = event('block', id, 'ACTIVE', { endToEndId, branch: n.branch, accountNumber: n.account, amountCentavos: n.receivedCentavos.toString(), blockedUntil: blocked.toISOString(), hop: n.hop });
          events.push(ev);
          await writeOutbox(tx, ev, now);
          await appendAudit(tx, { actor: who.actor, action: 'med.block', entityType: 'dict_cautionary_block', entityId: id, traceId: who.traceId, detail: { endToEndId, hop: n.hop, amountCentavos: n.receivedCentavos.toString(), blockedUntil: blocked.toISOString() } }, now);
        }
        return out;
      });
      await outbox.publishCommitted(events, who.traceId);
      return ok(rows);
    },

    async releaseExpiredBlocks() {
      // the ledger holding the funds learns of the release from the event (same transaction: outbox)
      const now = clock.now();
      const events: OutboxEvent[] = [];
      await sql.begin(async (tx) => {
        const expired = await tx<BlockRow[]>`update dict_cautionary_blocks set status = 'EXPIRED', released_at = ${now}
          where status = 'ACTIVE' and blocked_until <= ${now} returning *`;
        for (const b of expired) {
          const ev = event('block', b.id, 'EXPIRED', { endToEndId: b.end_to_end_id, branch: b.branch, accountNumber: b.account_number, amountCentavos: b.amount_centavos.toString() });
          events.push(ev);
          await writeOutbox(tx, ev, now);
          await appendAudit(tx, { actor: SYSTEM.actor, action: 'med.block.expired', entityType: 'dict_cautionary_block', entityId: b.id, detail: { endToEndId: b.end_to_end_id } }, now);
        }
      });
      await outbox.publishCommitted(events);
      return events.length;
    },

    async pollOnce() {
      return { reports: await pollReports(), refunds: await pollRefunds() };
    },
  };
}
