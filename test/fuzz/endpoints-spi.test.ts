// Every public route of the SPI service under arbitrary and mutated requests, in-process (app.handle)
// over real Postgres, Redis, NATS and the BACEN sandbox over mTLS: no 5xx, no unhandled rejection, every
// refusal is problem+json naming the field and rule, and a refusal writes nothing (support/endpoints.ts).
// The routes come from the app, so a route added later is fuzzed without editing this file.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { newEndToEndId, newMsgId } from '../../shared/ids.ts';
import { buildPacs008 } from '../../shared/spi/pacs008.ts';
import { cpf, PSP, startSpi, type SpiHarness } from '../spi/support/harness.ts';
import { createProbe, endpointFuzzTests, inFuzzRedisDb, routesOf, summary, type Family, type Probe, type RouteRef } from './support/endpoints.ts';
import { headerText, type Hints } from './support/inputs.ts';

// A fixed seed keeps the suite deterministic; FUZZ_SEED=<n> explores further (a failure prints its seed).
fc.configureGlobal({ seed: Number(process.env.FUZZ_SEED ?? 20_261_125) });

/** Requests per family: enough to reach every route's odd shapes, few enough for the 2-core CI box. */
const RUNS = 300;
/** A family's fuzz plus shrinking a failure, on a loaded box (an accepted payment waits for its pacs.002). */
const FAMILY_TIMEOUT_MS = 50_000;
const SETUP_TIMEOUT_MS = 30_000;

const startsWith = (...prefixes: string[]) => (r: RouteRef) => prefixes.some((p) => r.path === p || r.path.startsWith(`${p}/`));
const FAMILIES: Family[] = [
  { name: 'payments', match: startsWith('/payments'), runs: RUNS },
  { name: 'returns and messages', match: startsWith('/returns', '/messages'), runs: RUNS },
  { name: 'accounts and positions', match: startsWith('/accounts', '/positions'), runs: RUNS },
  { name: 'BR Codes and charges', match: startsWith('/qr'), runs: RUNS },
  { name: 'webhooks', match: startsWith('/webhooks'), runs: RUNS },
  // ops (/health /ready /metrics), and any route added later
  { name: 'everything else', match: () => true, runs: 100 },
];

/** Routes not fuzzed, with the reason. None: every SPI route takes requests in-process. */
const EXCLUDED: Record<string, string> = {};

const PAYER = cpf('529982247');
const PAYEE = cpf('111444777');
const HOLDER = cpf('318574925');
let h: SpiHarness;
let probe: Probe;
let routes: RouteRef[];
let hints: Hints;

beforeAll(async () => {
  // one delivery attempt per event: a redelivery the fuzz asks for is over before the next request
  h = await inFuzzRedisDb(() => startSpi('fuzz-spi', { webhooks: { backoffMsBase: 50, backoffMsMax: 200, pollMs: 25, attemptsMax: 1 } }));
  // funded accounts, keys DICT resolves, a settled payment each way: valid-looking requests reach past the not-found answers
  await h.openAccount('0001', '1001', PAYER, '100000.00');
  await h.openAccount('0001', '1002', HOLDER, '10.00');
  await h.registerKey('ana@example.com', 'EMAIL', { taxId: PAYEE, name: 'Ana Recebedora' });
  await h.registerKey('+5511999990001', 'PHONE', { taxId: PAYEE, name: 'Ana Recebedora', account: '5550001' });
  const paid = await h.http('POST', '/payments', { amount: '1.00', debtor: { branch: '0001', number: '1001' }, creditor: { key: 'ana@example.com' } }, { 'idempotency-key': crypto.randomUUID() });
  expect(paid.status).toBe(201);
  const received = await inboundPayment('0001', '1002', 30_00n);
  const charge = await h.http('POST', '/qr/charges', { kind: 'cob', key: 'ana@example.com', amount: '5.00', name: 'Ana', city: 'Brasilia' });
  expect(charge.status).toBe(201);
  // a subscription to an event that never happens: its id reaches the deliveries routes, and no delivery
  // runs in the background while a refusal is being checked
  const hook = await h.http('POST', '/webhooks', { url: 'http://127.0.0.1:9/hooks', events: ['fuzz.never'] });
  expect(hook.status).toBe(201);
  hints = {
    branch: fc.constant('0001'),
    number: fc.constantFrom('1001', '1002'),
    key: fc.constantFrom('ana@example.com', '+5511999990001', 'nobody@example.com'),
    payerId: fc.constantFrom(PAYER, HOLDER),
    holderTaxId: fc.constant(HOLDER),
    taxId: fc.constant(PAYEE),
    ispb: fc.constant(PSP),
    e2e: fc.constantFrom(paid.json.endToEndId as string, received),
    endToEndId: fc.constantFrom(paid.json.endToEndId as string, received),
    txid: fc.constant(charge.json.txid as string),
    brCode: fc.constant(charge.json.brCode as string),
    id: fc.constant(hook.json.id as string),
    amount: fc.constantFrom('0.01', '1.00', '12.34', '99999.99'),
    // a creditor names exactly one of key, BR Code, account; the schema alone rarely draws that
    creditor: fc.oneof(
      fc.constantFrom('ana@example.com', '+5511999990001').map((key) => ({ key })),
      fc.constant({ brCode: charge.json.brCode as string }),
      fc.constant({ account: { ispb: PSP, branch: '0001', number: '5550002', accountType: 'CACC', taxId: PAYEE, name: 'Ana Recebedora' } }),
    ),
    name: fc.constantFrom('Ana', 'Loja Exemplo'),
    city: fc.constantFrom('Brasilia', 'Sao Paulo'),
  };
  routes = routesOf(h.app);
  probe = createProbe({
    handle: (request) => h.app.handle(request),
    sql: h.base.sql, schema: h.config.dbSchema, redis: h.base.redis, redisPrefix: h.config.redisPrefix,
    // a payment refused after its Idempotency-Key was claimed keeps its answer, so a retry gets the same one
    refusalMayLeave: (key, status) => status !== 400 && key.startsWith(`${h.config.redisPrefix}:spi:idem:`),
    // an accepted payment or return goes on after its answer: pacs.002, postings, events, webhook deliveries
    settleQuietMs: 100,
    settleMsMax: 5_000,
  });
}, SETUP_TIMEOUT_MS);
afterAll(async () => {
  if (probe) console.log(`spi answers by route and status:\n${summary(probe)}`);
  probe?.close();
  await h?.stop();
}, SETUP_TIMEOUT_MS);

/** A payment from a simulated PSP to one of our accounts, settled (so it can be returned). */
async function inboundPayment(branch: string, number: string, amountCentavos: bigint): Promise<string> {
  const files = h.sandbox.pki.psps[PSP]!;
  const signer = await h.sandbox.signerFor(files);
  const client = h.sandbox.client({ ...files, ca: h.sandbox.pki.ca.cert });
  const now = new Date();
  const e2e = newEndToEndId(PSP, now);
  const signed = await signer.signSpi(buildPacs008({ from: PSP, to: h.config.bacenIspb, bizMsgIdr: newMsgId(PSP), creDt: now }, {
    endToEndId: e2e, amountCentavos, acceptedAt: now, initiationForm: 'MANU', priority: 'HIGH',
    debtor: { name: 'Eva Pagadora', taxId: PAYEE }, debtorAccount: { ispb: PSP, branch: '0001', number: '11223344', type: 'CACC' },
    creditor: { name: 'Cliente', taxId: HOLDER }, creditorAccount: { ispb: h.config.ispb, branch, number, type: 'CACC' },
  }));
  if (!signed.ok) throw new Error(signed.error.detail);
  const r = await client.request('POST', `/api/v1/out/${PSP}/msgs`, { body: signed.value });
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  await h.until(async () => (await h.base.sql`select status from transactions where end_to_end_id = ${e2e}`)[0]?.status === 'SETTLED');
  return e2e;
}

/** What every SPI request may carry besides its route's own headers: trace ids, valid or odd. */
const headers = fc.record({
  'x-trace-id': fc.oneof(fc.constant(undefined), headerText(64)),
}, { requiredKeys: [] });

describe('spi endpoints under arbitrary and mutated requests', () => {
  endpointFuzzTests({
    families: FAMILIES, excluded: EXCLUDED, familyTimeoutMs: FAMILY_TIMEOUT_MS,
    mustSee: ['POST /payments', 'GET /payments/:e2e', 'POST /returns', 'POST /accounts/:branch/:number/deposits', 'POST /qr/charges', 'POST /webhooks/:id/deliveries/:eventId/redeliver'],
    routes: () => routes, probe: () => probe, context: () => ({ hints, headers }),
  });
});
