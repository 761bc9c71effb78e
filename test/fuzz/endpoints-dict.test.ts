// Every public route of the DICT service under arbitrary and mutated requests, in-process (app.handle)
// over real Postgres, NATS and the BACEN sandbox over mTLS: no 5xx, no unhandled rejection, every
// refusal is problem+json naming the field and rule, and a refusal writes nothing (support/endpoints.ts).
// The routes come from the app, so a route added later is fuzzed without editing this file.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { endToEndId } from '../db/support.ts';
import { account, dictFixture, FIXTURE_TIMEOUT_MS, naturalPerson, type DictFixture } from '../dict/support.ts';
import { createProbe, endpointFuzzTests, inFuzzRedisDb, routesOf, summary, type Family, type Probe, type RouteRef } from './support/endpoints.ts';
import { headerText, type Hints } from './support/inputs.ts';

// A fixed seed keeps the suite deterministic; FUZZ_SEED=<n> explores further (a failure prints its seed).
fc.configureGlobal({ seed: Number(process.env.FUZZ_SEED ?? 20_261_125) });

/** Requests per family: enough to reach every route's odd shapes, few enough for the 2-core CI box. */
const RUNS = 300;
/** A family's fuzz plus shrinking a failure, on a loaded box. */
const FAMILY_TIMEOUT_MS = 45_000;

const startsWith = (...prefixes: string[]) => (r: RouteRef) => prefixes.some((p) => r.path === p || r.path.startsWith(`${p}/`));
const FAMILIES: Family[] = [
  { name: 'keys and lookups', match: startsWith('/keys', '/lookups'), runs: RUNS },
  { name: 'claims', match: startsWith('/claims'), runs: RUNS },
  { name: 'MED: infraction reports, refunds, traces', match: startsWith('/infraction-reports', '/refunds', '/med'), runs: RUNS },
  { name: 'sync and participants', match: startsWith('/sync', '/participants'), runs: 150 },
  // ops (/health /ready /metrics) and the OpenAPI document, and any route added later
  { name: 'everything else', match: () => true, runs: 100 },
];

/** Routes not fuzzed, with the reason. None: every dict route takes requests in-process. */
const EXCLUDED: Record<string, string> = {};

/** 400s about the state of a key or claim, not about the request's input: no field to name. */
const STATE_PROBLEMS = ['EntryLockedByClaim', 'ClaimOperationInvalid', 'ClaimResolutionPeriodNotEnded', 'ClaimCompletionPeriodNotEnded', 'InfractionReportOperationInvalid', 'RefundOperationInvalid', 'RefundPeriodExpired', 'InfractionReportAlreadyBeingProcessedForTransaction'];

const OUR_CPF = '52998224725';
let fx: DictFixture;
let probe: Probe;
let routes: RouteRef[];
let hints: Hints;

beforeAll(async () => {
  fx = await inFuzzRedisDb(() => dictFixture('fuzz'));
  // a key of ours and a settled outbound payment, so valid-looking requests reach past the not-found answers
  const key = await fx.call('POST', '/keys', { keyType: 'CPF', key: OUR_CPF, account: account('4242'), owner: naturalPerson(OUR_CPF) });
  expect(key.status).toBe(201);
  const at = fx.clock.now();
  const e2e = endToEndId(at, 'FUZZ0000001');
  await fx.deps.sql`insert into transactions (end_to_end_id, direction, status, amount_centavos, debtor_ispb, debtor_branch, debtor_account, debtor_tax_id,
      debtor_name, creditor_ispb, creditor_branch, creditor_account, creditor_tax_id, creditor_name, initiation_form, pacs002_status, settled_at, created_at, updated_at)
    values (${e2e}, 'OUTBOUND', 'SETTLED', 25000, '12345678', '0001', '4242', ${OUR_CPF}, 'Pagadora',
      '10000002', '0001', '9002', '11144477735', 'Recebedor', 'DICT', 'ACSC', ${at}, ${at}, ${at})`;
  expect((await fx.sandbox.control('POST', '/dict/transactions', { endToEndId: e2e, debited: '12345678', credited: '10000002', amount: '250.00', settledAt: at.toISOString() })).status).toBe(200);
  hints = {
    key: fc.constantFrom(OUR_CPF, '+5511987654321', 'fulano@example.com', '123e4567-e89b-42d3-a456-426614174000'),
    taxIdNumber: fc.constantFrom(OUR_CPF, '11144477735', '11222333000181'),
    payerId: fc.constantFrom(OUR_CPF, '11144477735'),
    endToEndId: fc.constant(e2e),
    branch: fc.constant('0001'),
    accountNumber: fc.constantFrom('4242', '9002'),
    ispb: fc.constantFrom('12345678', '10000002', '00038166'),
  };
  routes = routesOf(fx.app);
  probe = createProbe({
    handle: (request) => fx.app.handle(request),
    sql: fx.deps.sql, schema: fx.config.dbSchema, redis: fx.deps.redis, redisPrefix: fx.config.redisPrefix,
    stateProblems: STATE_PROBLEMS,
  });
}, FIXTURE_TIMEOUT_MS);
afterAll(async () => {
  if (probe) console.log(`dict answers by route and status:\n${summary(probe)}`);
  probe?.close();
  await fx?.close();
}, FIXTURE_TIMEOUT_MS);

/** What every dict request may carry: the gateway's X-Actor and trace id, the payer of a lookup; valid or odd. */
const headers = fc.record({
  'x-actor': fc.oneof(fc.constant(undefined), fc.constantFrom('user:fuzz', '', ' ', 'u'.repeat(201)), headerText(300)),
  'x-trace-id': fc.oneof(fc.constant(undefined), headerText(64)),
  'pi-payerid': fc.oneof(fc.constant(undefined), fc.constantFrom(OUR_CPF, '11222333000181'), headerText(20)),
}, { requiredKeys: [] });

describe('dict endpoints under arbitrary and mutated requests', () => {
  endpointFuzzTests({
    families: FAMILIES, excluded: EXCLUDED, familyTimeoutMs: FAMILY_TIMEOUT_MS,
    mustSee: ['POST /keys/', 'GET /keys/:key/lookup', 'POST /claims/:id/cancel', 'POST /refunds', 'POST /med/traces/:endToEndId/blocks', 'GET /participants/:ispb'],
    routes: () => routes, probe: () => probe, context: () => ({ hints, headers }),
  });
});
