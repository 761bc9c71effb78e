import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { verifyInternalPrincipal } from '../../services/settlement/auth/principal.ts';
import { BREAKER_FAILURES_MAX, BREAKER_OPEN_MS } from '../../services/settlement/routing/breaker.ts';
import { ROUTES } from '../../services/settlement/routing/table.ts';
import { startGateway, startUpstream, type GatewayHarness } from './support.ts';

/** the real table with short timeouts, so the timeout test waits 300 ms, not 2 s */
const FAST_ROUTES = ROUTES.map((r) => ({ ...r, timeoutMs: 300 }));
let dict: ReturnType<typeof startUpstream>;
let spi: ReturnType<typeof startUpstream>;
let gw: GatewayHarness;
let reader: string;
let payer: string;

async function tokenFor(clientId: string): Promise<string> {
  const res = await gw.token({ grant_type: 'client_credentials', client_id: clientId, client_secret: `${clientId}-secret-0123456789` });
  return ((await res.json()) as { access_token: string }).access_token;
}

beforeAll(async () => {
  dict = startUpstream();
  spi = startUpstream();
  gw = await startGateway('routing', { upstreams: { dict: dict.url, spi: spi.url }, routes: FAST_ROUTES });
  await gw.addClient('reader', 'reader-secret-0123456789', ['dict:read', 'payments:read'], 'internal');
  await gw.addClient('payer', 'payer-secret-0123456789', ['payments:write'], 'internal');
  reader = await tokenFor('reader');
  payer = await tokenFor('payer');
});
afterAll(async () => {
  await gw.stop();
  dict.stop();
  spi.stop();
});

describe('routing to dict and spi', () => {
  test('GET /dict/* reaches dict without the prefix, with the query, the trace id and a signed principal; the answer comes back as it is', async () => {
    const res = await gw.fetch('/dict/keys/+5511987654321?x=1', { token: reader, headers: { 'trace-id': 'trace-abc-123' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ echoed: '/keys/+5511987654321?x=1', method: 'GET' });
    expect(res.headers.get('trace-id')).toBe('trace-abc-123');
    expect(res.headers.get('x-upstream-only')).toBeNull();
    const seen = dict.seen.at(-1)!;
    expect(seen.headers['trace-id']).toBe('trace-abc-123');
    expect(seen.headers.authorization).toBeUndefined(); // the caller's token stays at the gateway
    const principal = await verifyInternalPrincipal(gw.gateway.keys, gw.clock, seen.headers['x-fluxiq-principal']!);
    expect(principal).toMatchObject({ ok: true, principal: { kind: 'client', sub: 'reader', scopes: ['dict:read', 'payments:read'] } });
  });

  test('POST /spi/payments reaches spi with its body and Idempotency-Key', async () => {
    const body = JSON.stringify({ amount: '12.34' });
    const res = await gw.fetch('/spi/payments', { method: 'POST', token: payer, body, headers: { 'content-type': 'application/json', 'idempotency-key': 'idem-0001' } });
    expect(res.status).toBe(201);
    const seen = spi.seen.at(-1)!;
    expect(seen).toMatchObject({ method: 'POST', path: '/payments', body });
    expect(seen.headers['idempotency-key']).toBe('idem-0001');
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers['trace-id']).toMatch(/^[0-9a-f]{32}$/); // none given: the gateway starts one
  });

  test('a public token is not accepted as the internal principal header, nor the reverse', async () => {
    expect((await verifyInternalPrincipal(gw.gateway.keys, gw.clock, reader)).ok).toBe(false);
    const internal = dict.seen.at(-1)!.headers['x-fluxiq-principal']!;
    expect((await gw.fetch('/auth/me', { token: internal })).status).toBe(401);
  });
});

describe('scopes are enforced per route', () => {
  const cases: [string, string, 'reader' | 'payer', number][] = [
    ['GET', '/dict/keys/x', 'reader', 200],
    ['POST', '/dict/keys', 'reader', 403],   // dict:write
    ['GET', '/spi/payments/E1', 'reader', 200],
    ['POST', '/spi/payments', 'reader', 403], // payments:write
    ['POST', '/spi/payments', 'payer', 201],
    ['GET', '/dict/keys/x', 'payer', 403],   // dict:read
    ['GET', '/spi/payments/E1', 'payer', 403], // payments:read
  ];
  for (const [method, path, who, status] of cases) {
    test(`${method} ${path} as ${who} → ${status}`, async () => {
      const before = dict.seen.length + spi.seen.length;
      const res = await gw.fetch(path, { method, token: who === 'reader' ? reader : payer, ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}) });
      expect(res.status).toBe(status);
      if (status === 403) {
        expect(((await res.json()) as { type: string }).type).toEndWith('/Forbidden');
        expect(dict.seen.length + spi.seen.length).toBe(before); // refused at the gateway
      }
    });
  }

  test('no token → 401 and nothing is forwarded', async () => {
    const before = dict.seen.length;
    const res = await gw.fetch('/dict/keys/x');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(dict.seen.length).toBe(before);
  });
});

describe('circuit breaker per upstream', () => {
  test('an upstream that hangs is answered 504 within the route timeout', async () => {
    dict.mode = 'hang';
    const t0 = performance.now();
    const res = await gw.fetch('/dict/keys/slow', { token: reader });
    const ms = performance.now() - t0;
    dict.mode = 'ok';
    expect(res.status).toBe(504);
    expect(((await res.json()) as { type: string }).type).toEndWith('/UpstreamTimeout');
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(1_500);
    // a success resets the consecutive-failure count
    expect((await gw.fetch('/dict/keys/x', { token: reader })).status).toBe(200);
    expect(gw.gateway.proxy.breaker('dict')).toMatchObject({ state: 'CLOSED', failures: 0 });
  });

  test('an upstream that is down: 503 at once, the breaker opens, dict is unaffected, and after the open period a probe closes it again', async () => {
    const port = spi.port;
    spi.stop();
    for (let i = 0; i < BREAKER_FAILURES_MAX; i++) {
      const res = await gw.fetch('/spi/payments/E1', { token: reader });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { detail: string }).detail).toContain('unreachable');
    }
    expect(gw.gateway.proxy.breaker('spi').state).toBe('OPEN');

    spi = startUpstream(port); // back, but the breaker is still open: answered at the gateway
    const t0 = performance.now();
    const refused = await gw.fetch('/spi/payments/E1', { token: reader });
    expect(performance.now() - t0).toBeLessThan(FAST_ROUTES[0]!.timeoutMs);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(((await refused.json()) as { detail: string }).detail).toContain('circuit open');
    expect(spi.seen).toHaveLength(0);
    expect((await gw.fetch('/dict/keys/x', { token: reader })).status).toBe(200); // dict has its own breaker

    gw.clock.advance(BREAKER_OPEN_MS);
    const probe = await gw.fetch('/spi/payments/E1', { token: reader });
    expect(probe.status).toBe(200);
    expect(gw.gateway.proxy.breaker('spi').state).toBe('CLOSED');
    expect((await gw.fetch('/spi/payments/E2', { token: reader })).status).toBe(200);
    expect(spi.seen).toHaveLength(2);
  });

  test('upstream 5xx answers count as failures and are passed back as they are', async () => {
    dict.mode = 'error';
    const res = await gw.fetch('/dict/keys/x', { token: reader });
    dict.mode = 'ok';
    expect(res.status).toBe(500);
    expect(gw.gateway.proxy.breaker('dict').failures).toBe(1);
    await gw.fetch('/dict/keys/x', { token: reader });
  });
});
