// Oversized bodies are refused by the server before any route reads or parses them (shared/service.ts
// listenOptions, what serveApp passes to every service's listen()).
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { Elysia } from 'elysia';
import { problemPlugin } from '../../shared/errors.ts';
import { HTTP_BODY_BYTES_MAX, listenOptions } from '../../shared/service.ts';

let reached = 0;
const app = new Elysia()
  .use(problemPlugin(() => {}))
  .post('/echo', async ({ request }) => {
    reached++;
    return { bytes: (await request.arrayBuffer()).byteLength };
  }, { parse: 'none' });

beforeAll(() => {
  app.listen(listenOptions(0, '127.0.0.1'));
});
afterAll(async () => {
  await app.stop(true);
});

const post = (bytes: number) => fetch(`http://127.0.0.1:${app.server!.port}/echo`, { method: 'POST', body: new Uint8Array(bytes), headers: { 'content-type': 'application/octet-stream' } });

test('a body over HTTP_BODY_BYTES_MAX gets 413 and never reaches the route', async () => {
  const res = await post(HTTP_BODY_BYTES_MAX + 1);
  expect(res.status).toBe(413);
  expect(reached).toBe(0);
});

test('a body within the bound reaches the route whole', async () => {
  const res = await post(HTTP_BODY_BYTES_MAX - 1024);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ bytes: HTTP_BODY_BYTES_MAX - 1024 });
  expect(reached).toBe(1);
});
