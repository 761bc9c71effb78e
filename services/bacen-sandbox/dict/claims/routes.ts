// Claims (spec tag Claim): createClaim POST /claims/, listClaims GET /claims/, getClaim GET /claims/{ClaimId},
// acknowledge / confirm / cancel / complete POST /claims/{ClaimId}/<operation>.
import { Elysia } from 'elysia';
import { CLAIM_CANCEL_REASONS, CLAIM_CONFIRM_REASONS, CLAIM_STATUSES, type ClaimAction } from '../../../../shared/dict/claims.ts';
import { PSP_POLICIES } from '../../../../shared/dict/buckets.ts';
import * as M from '../../../../shared/dict/messages.ts';
import { exchangePlugin } from '../../transport/exchange.ts';
import { pspScope } from '../buckets.ts';
import type { DictContext } from '../context.ts';
import { envelope, flag, listLimit, many, must, optionalTime, parsed, problem, reply, requireSelf, requireUuid } from '../http.ts';
import { idempotent } from '../idempotency.ts';
import { actOnClaim, createClaim } from './service.ts';
import { claimOf, findClaim, type ClaimRow } from './store.ts';

const OPERATIONS = {
  acknowledge: { req: M.ACKNOWLEDGE_CLAIM_REQUEST, res: M.ACKNOWLEDGE_CLAIM_RESPONSE },
  confirm: { req: M.CONFIRM_CLAIM_REQUEST, res: M.CONFIRM_CLAIM_RESPONSE },
  cancel: { req: M.CANCEL_CLAIM_REQUEST, res: M.CANCEL_CLAIM_RESPONSE },
  complete: { req: M.COMPLETE_CLAIM_REQUEST, res: M.COMPLETE_CLAIM_RESPONSE },
} as const;

function actionOf(op: keyof typeof OPERATIONS, reason: string | undefined): ClaimAction {
  if (op === 'acknowledge' || op === 'complete') return { kind: op };
  const allowed: readonly string[] = op === 'confirm' ? CLAIM_CONFIRM_REASONS : CLAIM_CANCEL_REASONS;
  if (!reason || !allowed.includes(reason)) throw problem('InvalidReason', `${reason ?? '(none)'} is not a reason to ${op} a claim`, 'Reason', 'enum');
  return { kind: op, reason } as ClaimAction;
}

export function claimRoutes(ctx: DictContext) {
  const { deps, buckets } = ctx;
  const { sql, clock } = deps;
  const writes = (ispb: string) => [pspScope(ispb, PSP_POLICIES.CLAIMS_WRITE)];

  let app = new Elysia({ prefix: '/api/v2' })
    .use(exchangePlugin)
    .post('/claims/', async ({ exchange }) => {
      const caller = exchange.caller.ispb;
      const req = parsed(M.CREATE_CLAIM_REQUEST, exchange.body);
      requireSelf(caller, req.claim.claimerAccount.participant, 'Claim.ClaimerAccount.Participant');
      const run = async () => {
        const now = clock.now();
        const row = must(await createClaim(sql, caller, req.claim, now));
        return reply(M.CREATE_CLAIM_RESPONSE, { ...envelope(now), claim: claimOf(row) }, 201);
      };
      return buckets.metered(writes(caller), () =>
        req.requestId ? idempotent(deps, { participant: caller, requestId: requireUuid(req.requestId, 'RequestId'), operation: 'createClaim', content: req }, run) : run(),
      );
    })
    .get('/claims/', async ({ exchange, query, request }) => {
      const caller = exchange.caller.ispb;
      requireSelf(caller, query.Participant ?? '', 'Participant');
      const isDonor = flag(query.IsDonor);
      const isClaimer = flag(query.IsClaimer);
      const statuses = many(request.url, 'Status');
      for (const s of statuses) if (!(CLAIM_STATUSES as readonly string[]).includes(s)) throw problem('InvalidRequest', `unknown Status ${s}`, 'Status', 'enum');
      if (query.Type !== undefined && query.Type !== 'OWNERSHIP' && query.Type !== 'PORTABILITY') throw problem('InvalidRequest', 'Type is OWNERSHIP or PORTABILITY', 'Type', 'enum');
      const after = optionalTime(query.ModifiedAfter, 'ModifiedAfter');
      const before = optionalTime(query.ModifiedBefore, 'ModifiedBefore');
      const limit = listLimit(query.Limit);
      // with a role filter the caller uses CLAIMS_LIST_WITH_ROLE, else the smaller WITHOUT_ROLE bucket
      const withRole = isDonor !== undefined || isClaimer !== undefined;
      const policy = withRole ? PSP_POLICIES.CLAIMS_LIST_WITH_ROLE : PSP_POLICIES.CLAIMS_LIST_WITHOUT_ROLE;
      // equal IsDonor/IsClaimer values are disjunctive (spec): both roles
      const asDonor = !withRole || isDonor === true || isDonor === isClaimer;
      const asClaimer = !withRole || isClaimer === true || isDonor === isClaimer;
      return buckets.metered([pspScope(caller, policy)], async () => {
        const rows = await sql<ClaimRow[]>`
          select * from dict_claims
          where ((${asDonor} and donor_participant = ${caller}) or (${asClaimer} and claimer_participant = ${caller}))
            and (${statuses.length === 0} or status in ${sql(statuses.length ? statuses : [''])})
            and (${query.Type ?? null}::text is null or type = ${query.Type ?? null})
            and (${after ?? null}::timestamptz is null or last_modified >= ${after ?? null})
            and (${before ?? null}::timestamptz is null or last_modified <= ${before ?? null})
          order by last_modified, id
          limit ${limit + 1}`;
        return reply(M.LIST_CLAIMS_RESPONSE, { ...envelope(clock.now()), hasMoreElements: rows.length > limit, claims: rows.slice(0, limit).map(claimOf) });
      });
    })
    .get('/claims/:id', async ({ exchange, params }) => {
      const caller = exchange.caller.ispb;
      const id = requireUuid(params.id, 'ClaimId');
      return buckets.metered([pspScope(caller, PSP_POLICIES.CLAIMS_READ)], async () => {
        const row = await findClaim(sql, id);
        if (!row || (row.claimer_participant !== caller && row.donor_participant !== caller)) throw problem('NotFound', `no claim ${id} of yours`);
        return reply(M.GET_CLAIM_RESPONSE, { ...envelope(clock.now()), claim: claimOf(row) });
      });
    });

  for (const op of Object.keys(OPERATIONS) as (keyof typeof OPERATIONS)[]) {
    const { req: reqMsg, res: resMsg } = OPERATIONS[op];
    app = app.post(`/claims/:id/${op}`, async ({ exchange, params }) => {
      const caller = exchange.caller.ispb;
      const id = requireUuid(params.id, 'ClaimId');
      const req = parsed(reqMsg, exchange.body);
      if (req.claimId.toLowerCase() !== id) throw problem('InvalidRequest', 'ClaimId in the body differs from the path', 'ClaimId', 'path');
      requireSelf(caller, req.participant, 'Participant');
      const action = actionOf(op, req.reason);
      const requestId = req.requestId ? requireUuid(req.requestId, 'RequestId') : undefined;
      return buckets.metered(writes(caller), async () => {
        const now = clock.now();
        const row = must(await actOnClaim(sql, id, action, caller, now, requestId));
        if (op === 'complete') {
          const [entry] = await sql<{ created_at: Date; key_ownership_date: Date }[]>`select created_at, key_ownership_date from dict_entries where key = ${row.key}`;
          return reply(M.COMPLETE_CLAIM_RESPONSE, {
            ...envelope(now),
            claim: claimOf(row),
            entryCreationDate: (entry?.created_at ?? now).toISOString(),
            keyOwnershipDate: (entry?.key_ownership_date ?? now).toISOString(),
          });
        }
        return reply(resMsg as typeof M.CONFIRM_CLAIM_RESPONSE, { ...envelope(now), claim: claimOf(row) });
      });
    }) as unknown as typeof app;
  }
  return app;
}
