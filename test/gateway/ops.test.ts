import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startGateway, type GatewayHarness } from './support.ts';

let gw: GatewayHarness;
beforeAll(async () => { gw = await startGateway('ops'); });
afterAll(async () => { await gw.stop(); });

describe('public endpoints answer without a token, everything else needs one', () => {
  test('/health, /ready and /metrics answer without a token', async () => {
    expect(await (await gw.fetch('/health')).json()).toMatchObject({ status: 'up', service: 'settlement' });
    const ready = await gw.fetch('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', dependencies: { postgres: 'ok', nats: 'ok', redis: 'ok' } });
    const metrics = await gw.fetch('/metrics');
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('http_requests_total');
  });

  test('one OpenAPI document describes the public API, with a docs page', async () => {
    const doc = (await (await gw.fetch('/docs/json')).json()) as { info: { title: string }; paths: Record<string, Record<string, { security?: unknown[] }>>; components: { securitySchemes: Record<string, unknown> } };
    expect(doc.info.title).toBe('FluxiQ PIX public API');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/auth/token', '/auth/logout', '/auth/me', '/dict/{path}', '/spi/{path}', '/health']));
    expect(doc.paths['/spi/payments/{path}']?.post?.security).toEqual([{ bearer: ['payments:write'] }]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const page = await gw.fetch('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  test('every other endpoint refuses a request without a token with 401 problem+json', async () => {
    for (const [method, path] of [['GET', '/auth/me'], ['POST', '/auth/logout'], ['GET', '/dict/keys/x'], ['POST', '/spi/payments'], ['DELETE', '/dict/keys/x'], ['GET', '/settlement/windows'], ['GET', '/settlement/windows/W2026112512']] as const) {
      const res = await gw.fetch(path, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });
});
