// GET /settlement/recon/runs (settlement:read): recent reconciliation runs with their mismatches.
// POST /settlement/recon/runs {date} (admin): reconcile a UTC day now, on demand.
import { Elysia, t } from 'elysia';
import { isCalendarDate } from '../../../shared/dates.ts';
import { HttpProblem } from '../../../shared/errors.ts';
import type { ServiceDeps } from '../../../shared/service.ts';
import { admitRequest, tokenFirst } from '../auth/guard.ts';
import type { Gateway } from '../gateway.ts';
import type { SettlementBacen } from '../str/client.ts';
import { reconcileDay } from './daily.ts';

/** Runs listed per request. */
export const RECON_RUNS_LISTED_MAX = 31;

export function reconRoutes(deps: ServiceDeps, gw: Gateway, bacen: SettlementBacen) {
  const { clock, sql, logger } = deps;
  return new Elysia({ name: 'settlement-recon', prefix: '/settlement/recon', detail: { tags: ['settlement'] } })
    .onTransform(tokenFirst(gw, clock))
    .get('/runs', async ({ headers, set, query }) => {
      await admitRequest(gw, clock, headers.authorization, set, 'settlement:read');
      const rows = await sql<{ id: number; statement_from: Date; statement_to: Date; ran_at: Date; matched: number; unexplained: number; summary: unknown; mismatches: unknown }[]>`
        select id, statement_from, statement_to, ran_at, matched, unexplained, summary, mismatches from recon_runs order by ran_at desc limit ${query.limit ?? RECON_RUNS_LISTED_MAX}`;
      return rows.map((r) => ({ id: Number(r.id), from: r.statement_from.toISOString(), to: r.statement_to.toISOString(), ranAt: r.ran_at.toISOString(), matched: r.matched, unexplained: r.unexplained, summary: r.summary, mismatches: r.mismatches }));
    }, {
      query: t.Object({ limit: t.Optional(t.Integer({ minimum: 1, maximum: RECON_RUNS_LISTED_MAX })) }),
      detail: { summary: 'Recent reconciliation runs against BACEN\'s camt.053', security: [{ bearer: ['settlement:read'] }] },
    })
    .post('/runs', async ({ headers, set, body }) => {
      await admitRequest(gw, clock, headers.authorization, set, 'admin');
      if (!isCalendarDate(body.date)) throw HttpProblem.of('InvalidRequest', `date ${body.date} is not a calendar date`, [{ field: 'date', rule: 'calendar-date' }]);
      // today runs up to now; a day that has not begun has no statement (BACEN refused from > to: a 503)
      if (body.date > clock.now().toISOString().slice(0, 10)) throw HttpProblem.of('InvalidRequest', `date ${body.date} has not begun`, [{ field: 'date', rule: 'not-future' }]);
      const run = await reconcileDay({ sql, bacen, clock, logger }, body.date);
      if (!run.ok) throw HttpProblem.fromDomain(run.error);
      set.status = 201;
      const { id, matched, unexplained, summary, mismatches } = run.value;
      return { id, from: run.value.from.toISOString(), to: run.value.to.toISOString(), matched, unexplained, summary, mismatches };
    }, {
      body: t.Object({ date: t.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' }) }),
      detail: { summary: 'Reconcile a UTC day now', security: [{ bearer: ['admin'] }] },
    });
}
