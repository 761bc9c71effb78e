// Policies (bucket states of the caller) and owner statistics: listPolicies GET /policies/,
// getPolicy GET /policies/{Policy}, getOwnerStatistics GET /owners/{TaxIdNumber}/statistics.
import { Elysia } from 'elysia';
import { participantAntiscanPolicy, PSP_POLICIES, type BucketPolicy } from '../../../../shared/dict/buckets.ts';
import { ownerTypeOfTaxId, checkTaxId } from '../../../../shared/dict/keys.ts';
import * as M from '../../../../shared/dict/messages.ts';
import { exchangePlugin } from '../../transport/exchange.ts';
import { pspScope } from '../buckets.ts';
import type { DictContext } from '../context.ts';
import { ownerCounters } from '../entries/statistics.ts';
import { envelope, must, problem, reply } from '../http.ts';
import { participantCategory } from './categories.ts';

export function policyRoutes(ctx: DictContext) {
  const { deps, buckets } = ctx;
  const { sql, clock } = deps;

  async function stateOf(ispb: string, policy: BucketPolicy): Promise<M.PolicyState> {
    const b = await buckets.read(pspScope(ispb, policy));
    return { availableTokens: Math.floor(b.tokens), capacity: policy.capacity, refillTokens: policy.refillTokens, refillPeriodSec: policy.refillPeriodSec, name: policy.name };
  }
  async function policiesOf(ispb: string) {
    const category = await participantCategory(sql, ispb);
    return { category, policies: [participantAntiscanPolicy(category), ...Object.values(PSP_POLICIES)] as BucketPolicy[] };
  }

  return new Elysia({ prefix: '/api/v2' })
    .use(exchangePlugin)
    .get('/policies/', async ({ exchange }) => {
      const { category, policies } = await policiesOf(exchange.caller.ispb);
      const states = await Promise.all(policies.map((p) => stateOf(exchange.caller.ispb, p)));
      return reply(M.LIST_POLICIES_RESPONSE, { ...envelope(clock.now()), category, policies: states });
    })
    .get('/policies/:policy', async ({ exchange, params }) => {
      const { category, policies } = await policiesOf(exchange.caller.ispb);
      const policy = policies.find((p) => p.name === params.policy);
      if (!policy) throw problem('NotFound', `no policy ${params.policy}`);
      return reply(M.GET_POLICY_RESPONSE, { ...envelope(clock.now()), category, policy: await stateOf(exchange.caller.ispb, policy) });
    })
    .get('/owners/:taxId/statistics', async ({ params }) => {
      const ownerType = ownerTypeOfTaxId(params.taxId);
      if (!ownerType) throw problem('InvalidRequest', 'TaxIdNumber is a CPF or a CNPJ', 'TaxIdNumber', 'format');
      must(checkTaxId(ownerType, params.taxId, 'TaxIdNumber'));
      const now = clock.now();
      return reply(M.GET_OWNER_STATISTICS_RESPONSE, {
        ...envelope(now),
        ownerStatistics: { taxIdNumber: params.taxId, lastUpdated: now.toISOString(), counters: await ownerCounters(sql, params.taxId, now) },
      });
    });
}
