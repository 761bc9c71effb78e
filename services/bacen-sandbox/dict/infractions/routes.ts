// Infraction reports (spec tag InfractionReport): create POST /infraction-reports/, list GET
// /infraction-reports/, get GET /infraction-reports/{Id}, acknowledge / cancel / close POST
// /infraction-reports/{Id}/<operation>.
import { Elysia } from 'elysia';
import { PSP_POLICIES } from '../../../../shared/dict/buckets.ts';
import { INFRACTION_STATUSES, type InfractionAction } from '../../../../shared/dict/infractions.ts';
import * as M from '../../../../shared/dict/messages.ts';
import { exchangePlugin } from '../../transport/exchange.ts';
import { pspScope } from '../buckets.ts';
import type { DictContext } from '../context.ts';
import { envelope, flag, listLimit, many, must, optionalTime, parsed, problem, reply, requireSelf, requireUuid } from '../http.ts';
import { actOnInfractionReport, createInfractionReport, reportOf, type InfractionRow } from './service.ts';

const OPERATIONS = {
  acknowledge: { req: M.ACKNOWLEDGE_INFRACTION_REPORT_REQUEST, res: M.ACKNOWLEDGE_INFRACTION_REPORT_RESPONSE },
  cancel: { req: M.CANCEL_INFRACTION_REPORT_REQUEST, res: M.CANCEL_INFRACTION_REPORT_RESPONSE },
  close: { req: M.CLOSE_INFRACTION_REPORT_REQUEST, res: M.CLOSE_INFRACTION_REPORT_RESPONSE },
} as const;

export function infractionRoutes(ctx: DictContext) {
  const { deps, buckets } = ctx;
  const { sql, clock } = deps;
  const writes = (ispb: string) => [pspScope(ispb, PSP_POLICIES.INFRACTION_REPORTS_WRITE)];

  let app = new Elysia({ prefix: '/api/v2' })
    .use(exchangePlugin)
    .post('/infraction-reports/', async ({ exchange }) => {
      const caller = exchange.caller.ispb;
      const req = parsed(M.CREATE_INFRACTION_REPORT_REQUEST, exchange.body);
      requireSelf(caller, req.participant, 'Participant');
      return buckets.metered(writes(caller), async () => {
        const now = clock.now();
        const row = must(await createInfractionReport(sql, caller, req.infractionReport, now));
        return reply(M.CREATE_INFRACTION_REPORT_RESPONSE, { ...envelope(now), infractionReport: reportOf(row) }, 201);
      });
    })
    .get('/infraction-reports/', async ({ exchange, query, request }) => {
      const caller = exchange.caller.ispb;
      requireSelf(caller, query.Participant ?? '', 'Participant');
      const isDebited = flag(query.IsDebited);
      const isCredited = flag(query.IsCredited);
      const statuses = many(request.url, 'Status');
      for (const s of statuses) if (!(INFRACTION_STATUSES as readonly string[]).includes(s)) throw problem('InvalidRequest', `unknown Status ${s}`, 'Status', 'enum');
      const after = optionalTime(query.ModifiedAfter, 'ModifiedAfter');
      const before = optionalTime(query.ModifiedBefore, 'ModifiedBefore');
      const limit = listLimit(query.Limit);
      const both = isDebited === isCredited;
      const asDebited = both || isDebited === true;
      const asCredited = both || isCredited === true;
      return buckets.metered([pspScope(caller, PSP_POLICIES.INFRACTION_REPORTS_READ)], async () => {
        const rows = await sql<InfractionRow[]>`
          select * from dict_infraction_reports
          where ((${asDebited} and debited_participant = ${caller}) or (${asCredited} and credited_participant = ${caller}))
            and (${statuses.length === 0} or status in ${sql(statuses.length ? statuses : [''])})
            and (${after ?? null}::timestamptz is null or last_modified >= ${after ?? null})
            and (${before ?? null}::timestamptz is null or last_modified <= ${before ?? null})
          order by last_modified, id limit ${limit + 1}`;
        return reply(M.LIST_INFRACTION_REPORTS_RESPONSE, {
          ...envelope(clock.now()),
          hasMoreElements: rows.length > limit,
          infractionReports: rows.slice(0, limit).map(reportOf),
        });
      });
    })
    .get('/infraction-reports/:id', async ({ exchange, params }) => {
      const caller = exchange.caller.ispb;
      const id = requireUuid(params.id, 'InfractionReportId');
      return buckets.metered([pspScope(caller, PSP_POLICIES.INFRACTION_REPORTS_READ)], async () => {
        const [row] = await sql<InfractionRow[]>`select * from dict_infraction_reports where id = ${id}`;
        if (!row || (row.debited_participant !== caller && row.credited_participant !== caller)) throw problem('NotFound', `no infraction report ${id} of yours`);
        return reply(M.GET_INFRACTION_REPORT_RESPONSE, { ...envelope(clock.now()), infractionReport: reportOf(row) });
      });
    });

  for (const op of Object.keys(OPERATIONS) as (keyof typeof OPERATIONS)[]) {
    const { req: reqMsg, res: resMsg } = OPERATIONS[op];
    app = app.post(`/infraction-reports/:id/${op}`, async ({ exchange, params }) => {
      const caller = exchange.caller.ispb;
      const id = requireUuid(params.id, 'InfractionReportId');
      const req = parsed(reqMsg, exchange.body);
      if (req.infractionReportId.toLowerCase() !== id) throw problem('InvalidRequest', 'InfractionReportId in the body differs from the path', 'InfractionReportId', 'path');
      requireSelf(caller, req.participant, 'Participant');
      let action: InfractionAction;
      if (op === 'close') {
        if (!req.analysisResult) throw problem('InfractionReportInvalid', 'closing a report needs AnalysisResult', 'AnalysisResult', 'required');
        action = { kind: 'close', result: req.analysisResult, details: req.analysisDetails ?? '' };
      } else action = { kind: op };
      return buckets.metered(writes(caller), async () => {
        const now = clock.now();
        const row = must(await actOnInfractionReport(sql, id, action, caller, now));
        return reply(resMsg, { ...envelope(now), infractionReport: reportOf(row) });
      });
    }) as unknown as typeof app;
  }
  return app;
}
