import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { defaultTlsPaths } from '../../shared/bacen/client.ts';
import { readPem } from '../../shared/pki.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { createXmlSigner, type XmlSigner } from '../../shared/xml/signer.ts';
import { createSettlementBacen } from '../../services/settlement/str/client.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/support/harness.ts';
import { startGateway, type GatewayHarness } from './support.ts';

/** What answers without a token: the ops endpoints, the API docs and the login itself. */
const PUBLIC = new Set(['GET /health', 'GET /ready', 'GET /metrics', 'GET /docs', 'GET /docs/json', 'POST /auth/token']);
/**
 * Not enumerated here: /ops/* (the operations dashboard, its own rules and tests) and WebSocket routes
 * (a browser cannot set headers on the upgrade, so a socket may open and must authenticate with its first
 * message or be closed: test/gateway/ws.test.ts).
 */
const skipped = (r: { method: string; path: string }) => r.path.startsWith('/ops/') || r.path === '/ops' || r.method === 'WS';
const ANY_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

let sandbox: TestSandbox;
let signer: XmlSigner;
let gw: GatewayHarness;

beforeAll(async () => {
  // with BACEN wired, so the STR and reconciliation routes are mounted too
  sandbox = await startTestSandbox('routes-auth');
  const tls = defaultTlsPaths(sandbox.dir);
  signer = await createXmlSigner({ keyPem: readPem(tls.key), certPem: readPem(tls.cert), threads: 0, logger: createLogger('test', 'silent') });
  const bacen = createSettlementBacen({ bacen: sandbox.client(), signer, ispb: '12345678', bacenIspb: '00038166', trustedCaPem: readPem(tls.ca), bacenCertPem: readPem(join(sandbox.dir, 'bacen.crt')) });
  gw = await startGateway('routes-auth', { bacen });
}, 30_000);
afterAll(async () => {
  await gw?.stop();
  await signer?.close();
  await sandbox?.stop();
});

describe('every route of the gateway needs a token, except the public few', () => {
  test('each mounted route, any method, any input, answers 401 problem+json without a token', async () => {
    const checked: string[] = [];
    for (const r of gw.routes.filter((x) => !skipped(x) && !PUBLIC.has(`${x.method} ${x.path}`))) {
      // a parameter or wildcard gets a value no schema accepts: the token is checked before the input
      const path = r.path.replace(/:[^/]+/g, 'not-valid').replace(/\*/g, 'any/thing');
      for (const method of r.method === 'ALL' ? ANY_METHODS : [r.method]) {
        const withBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
        const res = await gw.fetch(path, { method, ...(withBody ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}) });
        expect(res.status, `${method} ${r.path}`).toBe(401);
        expect(res.headers.get('content-type'), `${method} ${r.path}`).toContain('application/problem+json');
        expect(res.headers.get('www-authenticate'), `${method} ${r.path}`).toContain('Bearer');
        checked.push(`${method} ${r.path}`);
      }
    }
    // the enumeration saw the routes it must (an empty list would prove nothing)
    expect(checked).toEqual(expect.arrayContaining([
      'GET /auth/me', 'POST /auth/logout', 'GET /dict/*', 'DELETE /dict/*', 'POST /spi/*', 'GET /settlement/windows/', 'GET /settlement/windows/:id',
      'POST /settlement/str/transfers', 'GET /settlement/recon/runs', 'POST /settlement/recon/runs',
    ]));
  });

  test('the public routes answer without a token', async () => {
    for (const route of PUBLIC) {
      const [method, path] = route.split(' ') as [string, string];
      expect(gw.routes.some((r) => r.method === method && r.path === path), route).toBe(true);
      const res = await gw.fetch(path, { method, ...(method === 'POST' ? { body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' }), headers: { 'content-type': 'application/json' } } : {}) });
      // /auth/token answers 401 for bad credentials, but as the login's own answer, not a missing token
      if (route === 'POST /auth/token') expect(((await res.json()) as { detail: string }).detail).toBe('invalid client credentials');
      else expect(res.status, route).toBe(200);
    }
  });
});
