// /claims: open a claim for our customer (claimer), answer one against our key (donor), list and read
// them. HTTP only; the service applies the shared transition table and talks to DICT.
import { Elysia, t } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import type { DictDeps } from '../deps.ts';
import { ActorHeaders, actorOf } from '../keys/routes.ts';
import { CancelClaimBody, ClaimView, ConfirmClaimBody, OpenClaimBody } from './model.ts';
import type { ClaimService } from './service.ts';
import { findClaim, listClaimRows, type ClaimRow } from './store.ts';
import type { Result } from '../../../shared/result.ts';
import { viewOfClaim } from './view.ts';

/** Claims one list answer holds at most. */
export const CLAIMS_LIST_LIMIT_MAX = 200;
const Id = t.Object({ id: t.String({ format: 'uuid' }) });

export function claimRoutes(deps: DictDeps, claims: ClaimService) {
  const answer = (r: Result<ClaimRow>) => {
    if (!r.ok) throw HttpProblem.fromDomain(r.error);
    return viewOfClaim(r.value);
  };
  return new Elysia({ prefix: '/claims', detail: { tags: ['claims'] } })
    .guard({ headers: ActorHeaders })
    .post('/', async ({ body, headers, set }) => {
      const r = answer(await claims.open(body, actorOf(headers)));
      set.status = 201;
      return r;
    }, { body: OpenClaimBody, response: { 201: ClaimView }, detail: { summary: 'Open an OWNERSHIP or PORTABILITY claim for one of our customers (we are the claimer)' } })
    .get('/', async ({ query }) => ({ claims: (await listClaimRows(deps.sql, { role: query.role, status: query.status, limit: query.limit ?? 50 })).map(viewOfClaim) }), {
      query: t.Object({ role: t.Optional(t.Union([t.Literal('CLAIMER'), t.Literal('DONOR')])), status: t.Optional(t.String({ pattern: '^[A-Z_]{1,32}$' })), limit: t.Optional(t.Integer({ minimum: 1, maximum: CLAIMS_LIST_LIMIT_MAX })) }),
      response: { 200: t.Object({ claims: t.Array(ClaimView) }) },
      detail: { summary: 'Claims we take part in, most recently modified first' },
    })
    .get('/:id', async ({ params }) => {
      const row = await findClaim(deps.sql, params.id);
      if (!row) throw HttpProblem.of('ClaimNotFound', 'no such claim with us');
      return viewOfClaim(row);
    }, { params: Id, response: { 200: ClaimView } })
    .post('/:id/confirm', async ({ params, body, headers }) => answer(await claims.confirm(params.id, body.reason, actorOf(headers))), {
      params: Id, body: ConfirmClaimBody, response: { 200: ClaimView }, detail: { summary: 'Donor: our user gives the key up (the entry is removed here)' },
    })
    .post('/:id/cancel', async ({ params, body, headers }) => answer(await claims.cancel(params.id, body.reason, actorOf(headers))), {
      params: Id, body: CancelClaimBody, response: { 200: ClaimView }, detail: { summary: 'Cancel a claim (who may, with which reason: the spec\'s table)' },
    })
    .post('/:id/complete', async ({ params, headers }) => answer(await claims.complete(params.id, actorOf(headers))), {
      params: Id, response: { 200: ClaimView }, detail: { summary: 'Claimer: complete a confirmed claim (the entry is created here)' },
    });
}
