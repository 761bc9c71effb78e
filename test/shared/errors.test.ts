import { describe, expect, test } from 'bun:test';
import { Elysia, t } from 'elysia';
import { ERROR_STATUS, HttpProblem, problemPlugin } from '../../shared/errors.ts';

const app = new Elysia()
  .use(problemPlugin())
  .post('/things', ({ body }) => ({ got: body.amount }), {
    body: t.Object({ amount: t.String({ pattern: '^\\d+\\.\\d{2}$' }), ispb: t.String({ minLength: 8, maxLength: 8 }) }),
  })
  .get('/conflict', () => {
    throw HttpProblem.of('EntryAlreadyExists', 'the key is already registered', [{ field: 'key', rule: 'unique' }]);
  })
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
