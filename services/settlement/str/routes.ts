// POST /settlement/str/transfers (scope admin): a manual STR transfer between our reserve account and
// our PI account. The caller names the TransferId, so a retried request is the same transfer.
import { Elysia, t } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import { formatAmount, parseAmount } from '../../../shared/money.ts';
import type { ServiceDeps } from '../../../shared/service.ts';
import { admitRequest, tokenFirst } from '../auth/guard.ts';
import type { Gateway } from '../gateway.ts';
import type { SettlementBacen } from './client.ts';
import { strTransfer } from './transfers.ts';

export function strRoutes(deps: ServiceDeps, gw: Gateway, bacen: SettlementBacen) {
  const { clock, sql } = deps;
  return new Elysia({ name: 'settlement-str', prefix: '/settlement/str', detail: { tags: ['settlement'] } })
    .onTransform(tokenFirst(gw, clock))
    .resolve(async ({ headers, set }) => ({ principal: await admitRequest(gw, clock, headers.authorization, set, 'admin') }))
    .post('/transfers', async ({ body, set, principal }) => {
      const amount = parseAmount(body.amount, 'amount');
      if (!amount.ok) throw HttpProblem.fromDomain(amount.error);
      const moved = await strTransfer({ sql, bacen, clock, actor: `${principal.kind}:${principal.sub}` }, { id: body.transferId, direction: body.direction, amountCentavos: amount.value, origin: 'MANUAL' });
      if (!moved.ok) throw HttpProblem.fromDomain(moved.error);
      set.status = moved.value.replayed ? 200 : 201;
      return { transferId: body.transferId, direction: body.direction, amount: formatAmount(amount.value), piBalance: formatAmount(moved.value.piCentavos), reserveBalance: formatAmount(moved.value.reserveCentavos), replayed: moved.value.replayed };
    }, {
      body: t.Object({
        transferId: t.String({ pattern: '^[A-Za-z0-9-]{1,35}$' }),
        direction: t.Union([t.Literal('TO_PI'), t.Literal('TO_RESERVE')]),
        amount: t.String({ pattern: '^[0-9]{1,15}\\.[0-9]{2}$' }),
      }),
      detail: { summary: 'Move money between our reserve account and our PI account (STR)', security: [{ bearer: ['admin'] }] },
    });
}
