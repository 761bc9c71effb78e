// GET /settlement/windows and GET /settlement/windows/:id (the netting report of one window): scope
// settlement:read. Amounts leave as decimal strings ("12.34", "-0.50"), never as floats.
import { Elysia, t } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import { formatAmount } from '../../../shared/money.ts';
import type { ServiceDeps } from '../../../shared/service.ts';
import { admitRequest, tokenFirst } from '../auth/guard.ts';
import type { Gateway } from '../gateway.ts';
import { listWindows, windowReport, type WindowReport } from './store.ts';

/** Windows listed per request: 48 = two days of hourly windows. */
export const WINDOWS_LISTED_MAX = 48;

export const signedAmount = (c: bigint) => (c < 0n ? `-${formatAmount(-c)}` : formatAmount(c));

type Listed = Awaited<ReturnType<typeof listWindows>>[number];
const windowJson = (w: Listed) => ({
  id: w.id, state: w.state, startsAt: w.startsAt.toISOString(), endsAt: w.endsAt.toISOString(),
  payments: w.payments, gross: formatAmount(w.grossCentavos),
  history: w.history.map((h) => ({ state: h.state, at: h.at.toISOString() })),
});

export function reportJson(r: WindowReport) {
  return {
    window: windowJson(r.window),
    positions: r.positions.map((p) => ({ ispb: p.ispb, grossDebit: formatAmount(p.grossDebitCentavos), grossCredit: formatAmount(p.grossCreditCentavos), net: signedAmount(p.netCentavos) })),
    netSum: signedAmount(r.netSumCentavos),
  };
}

export function windowRoutes(deps: ServiceDeps, gw: Gateway) {
  const { clock, sql } = deps;
  return new Elysia({ name: 'settlement-windows', prefix: '/settlement/windows', detail: { tags: ['settlement'] } })
    .onTransform(tokenFirst(gw, clock))
    .resolve(async ({ headers, set }) => ({ principal: await admitRequest(gw, clock, headers.authorization, set, 'settlement:read') }))
    .get('/', async ({ query }) => (await listWindows(sql, query.limit ?? WINDOWS_LISTED_MAX)).map(windowJson), {
      query: t.Object({ limit: t.Optional(t.Integer({ minimum: 1, maximum: WINDOWS_LISTED_MAX })) }),
      detail: { summary: 'Recent settlement windows, newest first', security: [{ bearer: ['settlement:read'] }] },
    })
    .get('/:id', async ({ params }) => {
      const report = await windowReport(sql, params.id);
      if (report === undefined) throw HttpProblem.of('NotFound', `no settlement window ${params.id}`);
      return reportJson(report);
    }, {
      params: t.Object({ id: t.String({ pattern: '^W[0-9]{10}$' }) }),
      detail: { summary: 'A window with its net position per participant (Σ net = 0)', security: [{ bearer: ['settlement:read'] }] },
    });
}
