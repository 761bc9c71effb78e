// Every public route of the gateway and settlement app (:4003) under arbitrary and mutated requests,
// in-process (app.handle) over real Postgres, Redis, NATS and the BACEN sandbox over mTLS (STR and
// reconciliation mounted), with real upstream servers standing in for dict and spi behind /dict/* and
// /spi/*: no 5xx, no unhandled rejection, every refusal is problem+json naming the field and rule, and a
// refusal writes nothing (support/endpoints.ts). Most requests carry a valid token; the rest carry none,
// a malformed one, a tampered one, or one without the route's scope.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import fc from 'fast-check';
import { defaultTlsPaths } from '../../shared/bacen/client.ts';
import { readPem } from '../../shared/pki.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { createXmlSigner, type XmlSigner } from '../../shared/xml/signer.ts';
import { createSettlementBacen } from '../../services/settlement/str/client.ts';
import { startGateway, startUpstream, type GatewayHarness } from '../gateway/support.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/support/harness.ts';
import { createProbe, endpointFuzzTests, inFuzzRedisDb, routesOf, summary, type Family, type Probe, type RouteRef } from './support/endpoints.ts';
import { headerText, idempotencyKey, oddSegment, type Hints } from './support/inputs.ts';

// A fixed seed keeps the suite deterministic; FUZZ_SEED=<n> explores further (a failure prints its seed).
fc.configureGlobal({ seed: Number(process.env.FUZZ_SEED ?? 20_261_125) });

/** Requests per family: enough to reach every route's odd shapes, few enough for the 2-core CI box. */
const RUNS = 300;
/** A family's fuzz plus shrinking a failure, on a loaded box. */
const FAMILY_TIMEOUT_MS = 50_000;
const SETUP_TIMEOUT_MS = 30_000;

const startsWith = (...prefixes: string[]) => (r: RouteRef) => prefixes.some((p) => r.path === p || r.path.startsWith(`${p}/`));
const FAMILIES: Family[] = [
  { name: 'auth: tokens, logout, me', match: startsWith('/auth'), runs: RUNS },
  { name: 'forwarded /dict/* and /spi/*', match: startsWith('/dict', '/spi'), runs: RUNS },
  { name: 'settlement: windows, STR transfers, reconciliation', match: startsWith('/settlement'), runs: RUNS },
  { name: 'ops dashboard and API docs', match: startsWith('/ops', '/docs'), runs: 150 },
  // ops (/health /ready /metrics), and any route added later
  { name: 'everything else', match: () => true, runs: 100 },
];

/** Routes not fuzzed, with the reason. */
const EXCLUDED: Record<string, string> = {
  // a WebSocket upgrade cannot be made through app.handle; its refusals before the upgrade (token,
  // lastEventId) and its first-message authentication are tested over a real socket in test/gateway/ws.test.ts
  'WS /ws': 'WebSocket upgrade',
};

/** The login throttle out of the way: with the clock frozen its window never ends, and after 100 attempts from
 *  one address every login would be 429 for the rest of the run (its own tests: test/gateway/login-ip.test.ts). */
const LOGIN_LIMITS = { perAccountMax: 100_000, perIpMax: 100_000, windowMs: 60_000 };

let sandbox: TestSandbox;
let signer: XmlSigner;
let gw: GatewayHarness;
let upstreams: ReturnType<typeof startUpstream>[] = [];
let probe: Probe;
let routes: RouteRef[];
let hints: Hints;
let headers: fc.Arbitrary<Record<string, string | undefined>>;

const tokenOf = async (body: Record<string, string>) => {
  const r = await gw.token(body);
  expect(r.status).toBe(200);
  return (await r.json()) as { access_token: string; refresh_token?: string };
};

beforeAll(async () => {
  sandbox = await startTestSandbox('fuzz-gw');
  const tls = defaultTlsPaths(sandbox.dir);
  signer = await createXmlSigner({ keyPem: readPem(tls.key), certPem: readPem(tls.cert), threads: 0, logger: createLogger('test', 'silent') });
  const bacen = createSettlementBacen({ bacen: sandbox.client(), signer, ispb: '12345678', bacenIspb: '00038166', trustedCaPem: readPem(tls.ca), bacenCertPem: readPem(join(sandbox.dir, 'bacen.crt')) });
  // the forwarded routes reach real servers of ours, never the operator's dict and spi on the default ports
  const [dict, spi] = (upstreams = [startUpstream(), startUpstream()]);
  gw = await inFuzzRedisDb(() => startGateway('fuzz', { bacen, upstreams: { dict: dict!.url, spi: spi!.url }, loginLimits: LOGIN_LIMITS }));

  // a client with every scope (its tokens carry no session, so a fuzzed logout cannot revoke them), a
  // reader without admin (403s), and a user whose password and refresh token the token route may be given
  await gw.addClient('fuzz-admin', 'fuzz-admin-secret-0123456789', ['admin'], 'internal');
  await gw.addUser('fuzz-reader', 'fuzz-reader-password-1', ['settlement:read'], { tier: 'internal' });
  await gw.addUser('fuzz-user', 'fuzz-user-password-12', ['dict:read', 'payments:read'], { tier: 'internal' });
  const admin = (await tokenOf({ grant_type: 'client_credentials', client_id: 'fuzz-admin', client_secret: 'fuzz-admin-secret-0123456789' })).access_token;
  const reader = (await tokenOf({ grant_type: 'password', username: 'fuzz-reader', password: 'fuzz-reader-password-1' })).access_token;
  const session = await tokenOf({ grant_type: 'password', username: 'fuzz-user', password: 'fuzz-user-password-12' });
  const tampered = admin.slice(0, 40) + (admin[40] === 'A' ? 'B' : 'A') + admin.slice(41);

  headers = fc.record({
    authorization: fc.oneof(
      { weight: 7, arbitrary: fc.constant(`Bearer ${admin}`) },
      { weight: 1, arbitrary: fc.constant(`Bearer ${reader}`) },
      {
        weight: 3,
        arbitrary: fc.constantFrom<string | undefined>(
          undefined, '', 'Bearer', 'Bearer ', `bearer ${admin}`, `Basic ${btoa('fuzz-admin:fuzz-admin-secret-0123456789')}`, `Bearer ${admin}x`,
          `Bearer ${admin.slice(0, -2)}`, `Bearer ${tampered}`, 'Bearer a.b.c', `Bearer ${'A'.repeat(5_000)}`, `Bearer ${admin} extra`, `Bearer ${session.refresh_token}`,
        ),
      },
      { weight: 1, arbitrary: headerText(120).map((t) => `Bearer ${t}`) },
    ),
    'x-trace-id': fc.oneof(fc.constant(undefined), fc.constant('0af7651916cd43dd8448eb211c80319c'), headerText(64)),
    'x-request-id': fc.oneof(fc.constant(undefined), headerText(64)),
    'idempotency-key': fc.oneof(fc.constant(undefined), idempotencyKey),
  }, { requiredKeys: ['authorization'] });

  const hour = new Date(gw.clock.nowMs()).toISOString().replace(/[-:T]/g, '').slice(0, 10);
  hints = {
    grant_type: fc.constantFrom('password', 'client_credentials', 'refresh_token'),
    username: fc.constantFrom('fuzz-user', 'fuzz-reader', 'nobody-here'),
    password: fc.constantFrom('fuzz-user-password-12', 'wrong-password'),
    client_id: fc.constant('fuzz-admin'),
    client_secret: fc.constantFrom('fuzz-admin-secret-0123456789', 'wrong-secret-0000'),
    refresh_token: fc.constant(session.refresh_token!),
    scope: fc.constantFrom('dict:read', 'admin', 'dict:read payments:read', 'nonsense'),
    id: fc.constantFrom(`W${hour}`, 'W2026112010'),
    transferId: fc.constantFrom('FUZZ-0001', 'FUZZ-0002'),
    amount: fc.constantFrom('0.01', '1.00', '250.00'),
    date: fc.constantFrom('2026-11-20', '2026-11-25'),
    name: fc.constantFrom('ops.js', 'chart.js'),
  };
  routes = routesOf(gw.app);
  probe = createProbe({
    handle: (request) => gw.app.handle(request),
    sql: gw.deps.sql, schema: gw.config.dbSchema, redis: gw.deps.redis, redisPrefix: gw.config.redisPrefix,
    // a refused request may still have spent its principal's rate limit or counted a failed login; a refresh
    // token used twice is refused 401 and revokes its session on purpose (reuse detection): the family is
    // marked revoked and its refresh tokens dropped
    refusalMayLeave: (key, status, change) => {
      const gwKey = (part: string) => key.startsWith(`${gw.config.redisPrefix}:gw:${part}`);
      if (gwKey('rate:') || gwKey('login:')) return true;
      return status === 401 && (change === 'added' ? gwKey('session:revoked-families') : gwKey('session:rt'));
    },
    // an STR transfer is recorded PENDING before BACEN is asked and FAILED when BACEN refuses it, with its
    // audit rows (str/transfers.ts): reconciliation must know of every transfer requested
    refusalMayWrite: async (r, status, tables) => {
      if (r.route !== 'POST /settlement/str/transfers' || status !== 409) return false;
      if (!tables.every((t) => ['str_transfers', 'audit_log', 'audit_chain_head'].includes(t))) return false;
      const id = (JSON.parse(r.body ?? '{}') as { transferId?: unknown }).transferId;
      return typeof id === 'string' && (await gw.deps.sql`select status from str_transfers where id = ${id}`)[0]?.status === 'FAILED';
    },
    settleQuietMs: 50,
  });
}, SETUP_TIMEOUT_MS);
afterAll(async () => {
  if (probe) console.log(`gateway answers by route and status:\n${summary(probe)}`);
  probe?.close();
  await gw?.stop();
  for (const u of upstreams) u.stop();
  await signer?.close();
  await sandbox?.stop();
}, SETUP_TIMEOUT_MS);

/**
 * URLs stay under Bun's request-line limit (16 KiB): past it a server answers a bare 431 itself before any
 * route runs, so the gateway's own server never lets such a URL in. In-process it would reach the gateway
 * and be forwarded to an upstream whose server answers that 431 (the dict and spi files send longer ones).
 */
const TARGET_CHARS_MAX = 8_192;

/** What a forwarded path holds after /dict/ or /spi/: routes of the upstreams, or odd segments. */
const wildcard = fc.oneof(
  fc.constantFrom('keys', 'keys/ana%40example.com', 'keys/x/lookup', 'payments', 'claims/00000000-0000-4000-8000-000000000000', 'accounts/0001/1001/balance'),
  fc.array(oddSegment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/')),
);

describe('gateway endpoints under arbitrary and mutated requests', () => {
  endpointFuzzTests({
    families: FAMILIES, excluded: EXCLUDED, familyTimeoutMs: FAMILY_TIMEOUT_MS,
    mustSee: ['POST /auth/token', 'ALL /dict/*', 'ALL /spi/*', 'POST /settlement/str/transfers', 'POST /settlement/recon/runs', 'POST /ops/api/windows/step'],
    routes: () => routes, probe: () => probe, context: () => ({ hints, headers, wildcard, targetCharsMax: TARGET_CHARS_MAX }),
  });
});
