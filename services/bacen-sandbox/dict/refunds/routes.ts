// Refunds (MED): create POST /refunds/, list GET /refunds/, get GET /refunds/{RefundId},
// cancel / close POST /refunds/{RefundId}/<operation>.
import { Elysia } from 'elysia';
import { PSP_POLICIES } from '../../../../shared/dict/buckets.ts';
import * as M from '../../../../shared/dict/messages.ts';
import { REFUND_STATUSES, type RefundAction } from '../../../../shared/dict/refunds.ts';
import { exchangePlugin } from '../../transport/exchange.ts';
import { pspScope } from '../buckets.ts';
import type { DictContext } from '../context.ts';
import { envelope, flag, listLimit, many, must, optionalTime, parsed, problem, reply, requireSelf, requireUuid } from '../http.ts';
import { idempotent } from '../idempotency.ts';
import { actOnRefund, createRefund, refundOf, type RefundRow } from './service.ts';

export function refundRoutes(ctx: DictContext) {
  const { deps, buckets } = ctx;
  const { sql, clock } = deps;
  const writes = (ispb: string) => [pspScope(ispb, PSP_POLICIES.REFUNDS_WRITE)];

  const operation = (op: 'cancel' | 'close', reqMsg: typeof M.CLOSE_REFUND_REQUEST, resMsg: typeof M.CLOSE_REFUND_RESPONSE) =>
    async ({ exchange, params }: { exchange: { caller: { ispb: string }; body: string }; params: { id: string } }) => {
      const caller = exchange.caller.ispb;
      const id = requireUuid(params.id, 'RefundId');
      const req = parsed(reqMsg, exchange.body);
      if (req.refundId.toLowerCase() !== id) throw problem('InvalidRequest', 'RefundId in the body differs from the path', 'RefundId', 'path');
      requireSelf(caller, req.participant, 'Participant');
      let action: RefundAction;
      if (op === 'close') {
        if (!req.refundAnalysisResult) throw problem('RefundInvalid', 'closing a refund needs RefundAnalysisResult', 'RefundAnalysisResult', 'required');
        action = { kind: 'close', result: req.refundAnalysisResult, details: req.refundAnalysisDetails ?? '', ...(req.refundTransactionId ? { refundTransactionId: req.refundTransactionId } : {}) };
      } else action = { kind: 'cancel' };
      return buckets.metered(writes(caller), async () => {
        const now = clock.now();
        const row = must(await actOnRefund(sql, id, action, caller, now));
        return reply(resMsg, { ...envelope(now), refund: refundOf(row) });
      });
    };

  return new Elysia({ prefix: '/api/v2' })
    .use(exchangePlugin)
    .post('/refunds/', async ({ exchange }) => {
      const caller = exchange.caller.ispb;
      const req = parsed(M.CREATE_REFUND_REQUEST, exchange.body);
      requireSelf(caller, req.participant, 'Participant');
      const run = async () => {
        const now = clock.now();
        const row = must(await createRefund(sql, caller, req.refund, now));
        return reply(M.CREATE_REFUND_RESPONSE, { ...envelope(now), refund: refundOf(row) }, 201);
      };
      return buckets.metered(writes(caller), () =>
        req.requestId ? idempotent(deps, { participant: caller, requestId: requireUuid(req.requestId, 'RequestId'), operation: 'createRefund', content: req }, run) : run(),
      );
    })
    .get('/refunds/', async ({ exchange, query, request }) => {
      const caller = exchange.caller.ispb;
      requireSelf(caller, query.Participant ?? '', 'Participant');
      const isRequester = flag(query.IsRequester);
      const isContested = flag(query.IsContested);
      const statuses = many(request.url, 'Status');
      for (const s of statuses) if (!(REFUND_STATUSES as readonly string[]).includes(s)) throw problem('InvalidRequest', `unknown Status ${s}`, 'Status', 'enum');
      const after = optionalTime(query.ModifiedAfter, 'ModifiedAfter');
      const limit = listLimit(query.Limit);
      const both = isRequester === isContested;
      const asRequester = both || isRequester === true;
      const asContested = both || isContested === true;
      const rows = await sql<RefundRow[]>`
        select * from dict_refunds
        where ((${asRequester} and requesting_participant = ${caller}) or (${asContested} and contested_participant = ${caller}))
          and (${statuses.length === 0} or status in ${sql(statuses.length ? statuses : [''])})
          and (${after ?? null}::timestamptz is null or last_modified >= ${after ?? null})
        order by last_modified, id limit ${limit + 1}`;
      return reply(M.LIST_REFUNDS_RESPONSE, { ...envelope(clock.now()), hasMoreElements: rows.length > limit, refunds: rows.slice(0, limit).map(refundOf) });
    })
    .get('/refunds/:id', async ({ exchange, params }) => {
      const caller = exchange.caller.ispb;
      const id = requireUuid(params.id, 'RefundId');
      const [row] = await sql<RefundRow[]>`select * from dict_refunds where id = ${id}`;
      if (!row || (row.requesting_participant !== caller && row.contested_participant !== caller)) throw problem('NotFound', `no refund ${id} of yours`);
      return reply(M.GET_REFUND_RESPONSE, { ...envelope(clock.now()), refund: refundOf(row) });
    })
    .post('/refunds/:id/cancel', operation('cancel', M.CANCEL_REFUND_REQUEST, M.CANCEL_REFUND_RESPONSE))
    .post('/refunds/:id/close', operation('close', M.CLOSE_REFUND_REQUEST, M.CLOSE_REFUND_RESPONSE));
}
