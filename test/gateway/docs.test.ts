import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { openapi } from '@elysiajs/openapi';
import { Elysia, t, type AnyElysia } from 'elysia';
import { PaymentBody } from '../../services/spi/payments/model.ts';
import { startGateway, type GatewayHarness } from './support.ts';

// Real upstreams serving real OpenAPI documents the way the services do (@elysiajs/openapi at /openapi):
// spi's POST /payments with spi's own body schema, and a dict key route. The handlers are never called:
// the document is what the gateway reads.
function upstream(routes: () => AnyElysia, port = 0) {
  const app = new Elysia().use(openapi({ path: '/openapi' })).use(routes()).listen({ port, hostname: '127.0.0.1' });
  let running = true;
  return { url: `http://127.0.0.1:${app.server!.port}`, port: app.server!.port!, stop: () => { if (running) void app.stop(true); running = false; } };
}
const spiRoutes = () => new Elysia().post('/payments', () => new Response(null, { status: 501 }), { body: PaymentBody, detail: { summary: 'Send a PIX payment' } });
const dictRoutes = () => new Elysia().get('/keys/:key', () => new Response(null, { status: 501 }), {
  params: t.Object({ key: t.String({ maxLength: 77 }) }),
  response: { 200: t.Object({ key: t.String(), keyType: t.String() }) },
  detail: { summary: 'Look a key up', operationId: 'getKey' },
});

interface Doc { paths: Record<string, Record<string, { security?: unknown[]; tags?: string[]; operationId?: string; requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }> } }>> }

let gw: GatewayHarness;
let spi: ReturnType<typeof upstream>;
let dict: ReturnType<typeof upstream>;
let dictPort: number;
const docJson = async () => (await (await gw.fetch('/docs/json')).json()) as Doc;

beforeAll(async () => {
  spi = upstream(spiRoutes);
  dict = upstream(dictRoutes);
  dictPort = dict.port;
  dict.stop(); // dict is down when the gateway starts
  gw = await startGateway('docs', { upstreams: { dict: dict.url, spi: spi.url }, docs: { refreshMs: 60_000, retryMs: 60_000, timeoutMs: 500 } });
});
afterAll(async () => {
  await gw.stop();
  spi.stop();
  dict.stop();
});

describe('one OpenAPI document for the whole public API', () => {
  test('spi\'s own document is merged under /spi: POST /spi/payments with its body schema and its scope', async () => {
    const doc = await docJson();
    const pay = doc.paths['/spi/payments']?.post;
    expect(pay?.security).toEqual([{ bearer: ['payments:write'] }]);
    expect(pay?.tags).toEqual(['spi']);
    const schema = pay?.requestBody?.content['application/json']?.schema;
    expect(Object.keys(schema?.properties ?? {})).toEqual(expect.arrayContaining(Object.keys(PaymentBody.properties)));
    expect(schema?.required).toEqual(PaymentBody.required);
    expect(doc.paths['/spi/{path}']).toBeUndefined(); // the static entry gives way to the real document
    expect(doc.paths['/auth/token']?.post).toBeDefined(); // the gateway's own routes stay
  });

  test('an upstream that is down is listed from the route table, and its document replaces that once it is up', async () => {
    const before = await docJson();
    expect(before.paths['/dict/{path}']?.get?.security).toEqual([{ bearer: ['dict:read'] }]);
    expect(before.paths['/dict/keys/{key}']).toBeUndefined();

    dict = upstream(dictRoutes, dictPort);
    await gw.gateway.docs!.refresh(); // what the timer does
    const after = await docJson();
    expect(after.paths['/dict/keys/{key}']?.get).toMatchObject({ security: [{ bearer: ['dict:read'] }], tags: ['dict'], operationId: 'dict_getKey' });
    expect(after.paths['/dict/{path}']).toBeUndefined();
    expect(gw.gateway.docs!.current().sources).toEqual({ dict: 'upstream', spi: 'upstream' });

    dict.stop(); // down again: the last document it served is kept
    await gw.gateway.docs!.refresh();
    expect((await docJson()).paths['/dict/keys/{key}']?.get).toBeDefined();
  });
});
