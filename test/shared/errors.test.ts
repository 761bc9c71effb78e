import { describe, expect, test } from 'bun:test';
import { Elysia, t } from 'elysia';
import { Redis } from 'ioredis';
import { createServer } from 'node:net';
import { BODY_DEPTH_MAX, ERROR_STATUS, HttpProblem, problemPlugin, unexpectedErrorResponse } from '../../shared/errors.ts';
import { freePorts } from '../support/ports.ts';

const app = new Elysia()
  .use(problemPlugin())
  .post('/things', ({ body }) => ({ got: body.amount }), {
    body: t.Object({ amount: t.String({ pattern: '^\\d+\\.\\d{2}$' }), ispb: t.String({ minLength: 8, maxLength: 8 }) }),
  })
  .get('/conflict', () => {
    throw HttpProblem.of('EntryAlreadyExists', 'the key is already registered', [{ field: 'key', rule: 'unique' }]);
  })
  .get('/items/:id', ({ params }) => ({ id: params.id }))
  .get('/boom', () => {
    throw new Error('secret internals');
  });

const call = (path: string, init?: RequestInit) => app.handle(new Request(`http://localhost${path}`, init));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (res: Response): Promise<any> => res.json();

describe('every error leaves as RFC 9457 problem+json', () => {
  test('a schema violation names the field and the rule, status 400', async () => {
    const res = await call('/things', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: '1.234', ispb: '12345678' }) });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const p = await json(res);
    expect(p.type).toEndWith('/InvalidRequest');
    expect(p.status).toBe(400);
    expect(p.violations).toContainEqual(expect.objectContaining({ field: 'amount', rule: 'pattern' }));
  });

  test('a missing field is reported as required', async () => {
    const res = await call('/things', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: '1.23' }) });
    const p = await json(res);
    expect(res.status).toBe(400);
    expect(p.violations).toContainEqual(expect.objectContaining({ field: 'ispb', rule: 'required' }));
  });

  test('malformed JSON is a 400 problem, not a crash', async () => {
    const res = await call('/things', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"amount":' });
    expect(res.status).toBe(400);
    expect((await json(res)).type).toEndWith('/InvalidRequest');
  });

  test('a body nested past BODY_DEPTH_MAX is a 400 naming the rule, not a 500 from a stack overflow', async () => {
    // 50 000 levels: Elysia's ValidationError stringifies the refused value and overflowed the stack (found by the endpoint fuzz)
    const deep = '['.repeat(50_000) + ']'.repeat(50_000);
    const res = await call('/things', { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep });
    expect(res.status).toBe(400);
    expect((await json(res)).violations).toEqual([expect.objectContaining({ field: '(body)', rule: 'maxDepth' })]);
    const within = JSON.stringify({ amount: '1.00', ispb: '12345678', extra: JSON.parse('['.repeat(BODY_DEPTH_MAX - 1) + ']'.repeat(BODY_DEPTH_MAX - 1)) });
    expect((await call('/things', { method: 'POST', headers: { 'content-type': 'application/json' }, body: within })).status).toBe(200);
  });

  test('a NUL in any string of the body, query or path is a 400 naming the field: Postgres cannot store it (it was a 500)', async () => {
    const post = (body: string) => call('/things', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const inValue = await post(JSON.stringify({ amount: '1.00', ispb: '1234567\u0000' }));
    expect(inValue.status).toBe(400);
    expect((await json(inValue)).violations).toEqual([expect.objectContaining({ field: 'ispb', rule: 'no-nul' })]);
    const inKey = await post('{"amount":"1.00","ispb":"12345678","a":{"b\\u0000":1}}');
    expect((await json(inKey)).violations).toEqual([expect.objectContaining({ field: 'a.b\u0000', rule: 'no-nul' })]);
    const inQuery = await call('/conflict?x=%00');
    expect(inQuery.status).toBe(400);
    expect((await json(inQuery)).violations).toEqual([expect.objectContaining({ field: 'x', rule: 'no-nul' })]);
    const inPath = await call('/items/a%00b');
    expect(inPath.status).toBe(400);
    expect((await json(inPath)).violations).toEqual([expect.objectContaining({ field: 'id', rule: 'no-nul' })]);
  });

  test('a domain error maps through the one table', async () => {
    const res = await call('/conflict');
    expect(res.status).toBe(ERROR_STATUS.EntryAlreadyExists[0]);
    const p = await json(res);
    expect(p).toMatchObject({ type: expect.stringMatching(/EntryAlreadyExists$/), detail: 'the key is already registered', instance: '/conflict' });
  });

  test('an unknown route is a 404 problem', async () => {
    const res = await call('/nowhere');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  test('an unexpected error is a 500 problem without internals', async () => {
    const res = await call('/boom');
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('secret internals');
  });
});

describe('a dependency that is down is a 503 to retry, not a 500', () => {
  const failing = (error: Error) =>
    new Elysia().use(problemPlugin()).get('/x', () => {
      throw error;
    });
  const get = (a: ReturnType<typeof failing>) => a.handle(new Request('http://localhost/x'));

  /** The error a real ioredis client gives for a command, against a socket that refuses / never answers. */
  async function redisError(opts: { refuse: boolean }): Promise<Error> {
    const [port] = await freePorts(1);
    const silent = opts.refuse ? null : createServer(() => {}).listen(port!, '127.0.0.1');
    const redis = new Redis({ host: '127.0.0.1', port: port!, lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 200, retryStrategy: () => 20, enableOfflineQueue: true });
    redis.on('error', () => {});
    try {
      await redis.get('k');
      throw new Error('expected the command to fail');
    } catch (e) {
      return e as Error;
    } finally {
      redis.disconnect();
      silent?.close();
    }
  }

  test('Redis out of retries (a real ioredis MaxRetriesPerRequestError, whose name is not its class) → 503 with Retry-After', async () => {
    const e = await redisError({ refuse: true });
    expect(e.constructor.name).toBe('MaxRetriesPerRequestError');
    const res = await get(failing(e));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await json(res)).detail).toContain('Redis');
  });

  test("Redis not answering (ioredis's commandTimeout) → 503", async () => {
    const e = await redisError({ refuse: false });
    expect(e.message).toContain('Command timed out');
    expect((await get(failing(e))).status).toBe(503);
  });

  test('a route Bun serves natively answers the same way (the DICT lookup during a Postgres restart was a 500)', async () => {
    const e = Object.assign(new Error('the database system is shutting down'), { code: '57P03' });
    const logged: string[] = [];
    const res = unexpectedErrorResponse(e, '/keys/x/lookup', (_e, path) => logged.push(path));
    expect(res.status).toBe(503);
    expect(logged).toEqual(['/keys/x/lookup']);
    expect(unexpectedErrorResponse(new Error('boom'), '/x', () => {}).status).toBe(500);
  });

  test('Postgres shutting down (57P01) → 503', async () => {
    const e = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    expect((await get(failing(e))).status).toBe(503);
  });

  test('any other error stays a 500', async () => {
    const e = Object.assign(new Error('boom'), { code: '23505' });
    expect((await get(failing(e))).status).toBe(500);
  });
});
