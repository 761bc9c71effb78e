// /infraction-reports, /refunds and /med (tracing, cautionary blocks) for operators' portals.
import { Elysia, t } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import { formatAmount } from '../../../shared/money.ts';
import type { Result } from '../../../shared/result.ts';
import type { DictDeps } from '../deps.ts';
import { ActorHeaders, actorOf } from '../keys/routes.ts';
import type { BlockRow, MedService } from './service.ts';
import { findInfraction, findRefund, type InfractionRow, type RefundRow } from './store.ts';
import type { TraceGraph } from './trace.ts';

const Id = t.Object({ id: t.String({ format: 'uuid' }) });
const E2E = t.String({ pattern: '^E[0-9A-Z]{8}[0-9]{12}[a-zA-Z0-9]{11}$' });

const must = <T>(r: Result<T>): T => {
  if (!r.ok) throw HttpProblem.fromDomain(r.error);
  return r.value;
};

export const viewOfReport = (r: InfractionRow) => ({
  id: r.id, role: r.role, endToEndId: r.end_to_end_id, type: r.report_type, status: r.status, reporter: r.reporter_ispb, counterparty: r.counterparty_ispb,
  details: r.details, analysisResult: r.analysis_result, analysisDetails: r.analysis_details, lastModified: r.last_modified.toISOString(), createdAt: r.created_at.toISOString(),
});
export const viewOfRefund = (r: RefundRow) => ({
  id: r.id, role: r.role, endToEndId: r.end_to_end_id, infractionReportId: r.infraction_report_id, reason: r.reason, amount: formatAmount(r.amount_centavos),
  status: r.status, analysisResult: r.analysis_result, analysisDetails: r.analysis_details, refundTransactionId: r.refund_transaction_id,
  requester: r.requester_ispb, contested: r.contested_ispb, answerDueAt: r.answer_due_at.toISOString(), lastModified: r.last_modified.toISOString(),
});
const viewOfBlock = (b: BlockRow) => ({
  id: b.id, endToEndId: b.end_to_end_id, hop: b.hop, participant: b.participant_ispb, branch: b.branch, accountNumber: b.account_number,
  amount: formatAmount(b.amount_centavos), status: b.status, blockedUntil: b.blocked_until.toISOString(),
});
const viewOfTrace = (g: TraceGraph) => ({
  root: g.root, truncated: g.truncated,
  nodes: g.nodes.map((n) => ({ ...n, received: formatAmount(n.receivedCentavos), receivedCentavos: undefined })),
  edges: g.edges.map((e) => ({ endToEndId: e.endToEndId, from: e.from, to: e.to, hop: e.hop, amount: formatAmount(e.amountCentavos), traced: formatAmount(e.tracedCentavos), at: e.at.toISOString() })),
});

export function medRoutes(deps: DictDeps, med: MedService) {
  const { sql } = deps;
  return new Elysia({ detail: { tags: ['med'] } })
    .guard({ headers: ActorHeaders })
    .post('/infraction-reports', async ({ body, headers, set }) => {
      set.status = 201;
      return viewOfReport(must(await med.report(body.endToEndId, body.details, actorOf(headers))));
    }, { body: t.Object({ endToEndId: E2E, details: t.String({ minLength: 1, maxLength: 2000 }) }), detail: { summary: 'Report a payment as fraud (FRAUD infraction report)' } })
    .get('/infraction-reports/:id', async ({ params }) => {
      const r = await findInfraction(sql, params.id);
      if (!r) throw HttpProblem.of('InfractionReportNotFound', 'no such infraction report with us');
      return viewOfReport(r);
    }, { params: Id })
    .post('/infraction-reports/:id/close', async ({ params, body, headers }) => viewOfReport(must(await med.closeReport(params.id, body.result, body.details, actorOf(headers)))), {
      params: Id, body: t.Object({ result: t.Union([t.Literal('AGREED'), t.Literal('DISAGREED')]), details: t.String({ minLength: 1, maxLength: 2000 }) }),
      detail: { summary: 'Close a report about a payment we took part in, with the analysis' },
    })
    .post('/infraction-reports/:id/cancel', async ({ params, headers }) => viewOfReport(must(await med.cancelReport(params.id, actorOf(headers)))), { params: Id })
    .post('/refunds', async ({ body, headers, set }) => {
      set.status = 201;
      return viewOfRefund(must(await med.requestRefund(body, actorOf(headers))));
    }, {
      body: t.Object({
        endToEndId: E2E, reason: t.Union([t.Literal('FRAUD'), t.Literal('OPERATIONAL_FLAW'), t.Literal('REFUND_CANCELLED')]),
        amount: t.String({ pattern: '^[0-9]{1,15}\\.[0-9]{2}$' }), details: t.Optional(t.String({ maxLength: 2000 })), infractionReportId: t.Optional(t.String({ format: 'uuid' })),
      }),
      detail: { summary: 'Ask the payee\'s PSP to return funds of one of our outgoing payments (MED)' },
    })
    .get('/refunds/:id', async ({ params }) => {
      const r = await findRefund(sql, params.id);
      if (!r) throw HttpProblem.of('RefundNotFound', 'no such refund with us');
      return viewOfRefund(r);
    }, { params: Id })
    .post('/refunds/:id/close', async ({ params, body, headers }) => viewOfRefund(must(await med.closeRefund(params.id, body.result, body.details, body.refundTransactionId, actorOf(headers)))), {
      params: Id,
      body: t.Object({ result: t.Union([t.Literal('TOTALLY_ACCEPTED'), t.Literal('PARTIALLY_ACCEPTED'), t.Literal('REJECTED')]), details: t.String({ minLength: 1, maxLength: 2000 }), refundTransactionId: t.Optional(t.String()) }),
      detail: { summary: 'Answer a refund request against a payment we received (accepted ones name the pacs.004 ReturnId)' },
    })
    .post('/refunds/:id/cancel', async ({ params, headers }) => viewOfRefund(must(await med.cancelRefund(params.id, actorOf(headers)))), { params: Id })
    .get('/med/traces/:endToEndId', async ({ params }) => viewOfTrace(must(await med.trace(params.endToEndId))), {
      params: t.Object({ endToEndId: E2E }), detail: { summary: 'MED 2.0: follow the reported funds through our accounts (hops, graph)' },
    })
    .post('/med/traces/:endToEndId/blocks', async ({ params, body, headers, set }) => {
      set.status = 201;
      return { blocks: must(await med.block(params.endToEndId, body.hours, actorOf(headers))).map(viewOfBlock) };
    }, { params: t.Object({ endToEndId: E2E }), body: t.Object({ hours: t.Number({ exclusiveMinimum: 0, maximum: 72 }) }), detail: { summary: 'Cautionary block (≤ 72 h) on each of our accounts the funds reached' } });
}
