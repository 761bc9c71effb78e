// POST /returns (we return a payment received, in full or in part), GET /returns/:id, GET /payments/:e2e/returns.
import { Elysia, t } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import { parseAmount } from '../../../shared/money.ts';
import { RETURN_REASON_CODES } from '../../../shared/spi/pacs004.ts';
import type { Returns } from './returns.ts';

export function returnRoutes(returns: Returns) {
  return new Elysia({ detail: { tags: ['returns'] } })
    .post('/returns', async ({ body, set }) => {
      const amount = parseAmount(body.amount, 'amount');
      if (!amount.ok) throw HttpProblem.fromDomain(amount.error);
      const r = await returns.create({ endToEndId: body.endToEndId, amountCentavos: amount.value, reason: body.reason, ...(body.info ? { info: body.info } : {}) });
      if (!r.ok) throw HttpProblem.fromDomain(r.error);
      set.status = 201;
      return r.value;
    }, {
      body: t.Object({
        endToEndId: t.String({ pattern: '^E[0-9A-Z]{8}[0-9]{12}[a-zA-Z0-9]{11}$' }),
        amount: t.String({ maxLength: 32 }),
        reason: t.Union(RETURN_REASON_CODES.map((c) => t.Literal(c))),
        info: t.Optional(t.String({ minLength: 1, maxLength: 105 })),
      }, { additionalProperties: false }),
      detail: { summary: 'Return (part of) a payment we received (pacs.004)' },
    })
    .get('/returns/:id', async ({ params }) => {
      const r = await returns.get(params.id);
      if (!r) throw HttpProblem.of('NotFound', `no return ${params.id}`);
      return r;
    }, { params: t.Object({ id: t.String({ pattern: '^D[0-9A-Z]{8}[0-9]{12}[a-zA-Z0-9]{11}$' }) }) })
    .get('/payments/:e2e/returns', ({ params }) => returns.list(params.e2e), {
      params: t.Object({ e2e: t.String({ pattern: '^E[0-9A-Z]{8}[0-9]{12}[a-zA-Z0-9]{11}$' }) }),
    });
}
