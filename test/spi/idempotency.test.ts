// Idempotency-Key and request validation on POST /payments.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { deleteKeysWithPrefix } from '../../shared/redis/index.ts';
import { cpf, startSpi, type SpiHarness } from './support/harness.ts';

let h: SpiHarness;
const PAYER = cpf('390533447');
const PAYEE = cpf('123456789');

beforeAll(async () => {
  h = await startSpi('spi-idem');
  await h.openAccount('0001', '2001', PAYER, '500.00');
  await h.registerKey('loja@example.com', 'EMAIL', { taxId: PAYEE, name: 'Loja Exemplo' });
}, 30_000);
afterAll(async () => h?.stop(), 30_000);

const body = (amount: string) => ({ amount, debtor: { branch: '0001', number: '2001' }, creditor: { key: 'loja@example.com' } });
const rowCount = async () => Number((await h.base.sql`select count(*)::int as n from transactions`)[0]!.n);

describe('Idempotency-Key', () => {
  test('50 concurrent identical requests make one payment and get 50 identical answers', async () => {
    const key = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 50 }, () => h.http('POST', '/payments', body('7.00'), { 'idempotency-key': key })));
    const first = answers[0]!;
    expect(first.status).toBe(201);
    for (const a of answers) {
      expect(a.status).toBe(first.status);
      expect(a.text).toBe(first.text);
    }
    const [n] = await h.base.sql`select count(*)::int as n from transactions where idempotency_key = ${key}`;
    expect(n!.n).toBe(1);
    expect((await h.http('GET', '/accounts/0001/2001/balance')).json.balance).toBe('493.00');
  });

  test('the same key with a different body is refused with 422 IdempotencyKeyReused and moves no money', async () => {
    const key = crypto.randomUUID();
    const first = await h.http('POST', '/payments', body('1.00'), { 'idempotency-key': key });
    expect(first.status).toBe(201);
    const before = (await h.http('GET', '/accounts/0001/2001/balance')).json.balance;
    const second = await h.http('POST', '/payments', body('2.00'), { 'idempotency-key': key });
    expect(second.status).toBe(422);
    expect(second.json.type).toEndWith('/IdempotencyKeyReused');
    expect((await h.http('GET', '/accounts/0001/2001/balance')).json.balance).toBe(before);
  });

  test('after Redis forgets a key, the database still refuses it for a different body and replays it for the same one', async () => {
    const key = crypto.randomUUID();
    const first = await h.http('POST', '/payments', body('3.00'), { 'idempotency-key': key });
    expect(first.status).toBe(201);
    await deleteKeysWithPrefix(h.base.redis, h.config.redisPrefix); // Redis lost its data (restart, eviction, expired TTL)
    const before = (await h.http('GET', '/accounts/0001/2001/balance')).json.balance;
    const other = await h.http('POST', '/payments', body('4.00'), { 'idempotency-key': key });
    expect(other.status).toBe(422);
    expect(other.json.type).toEndWith('/IdempotencyKeyReused');
    const same = await h.http('POST', '/payments', body('3.00'), { 'idempotency-key': key });
    expect(same.json.endToEndId).toBe(first.json.endToEndId);
    expect((await h.http('GET', '/accounts/0001/2001/balance')).json.balance).toBe(before);
    const [n] = await h.base.sql`select count(*)::int as n from transactions where idempotency_key = ${key}`;
    expect(n!.n).toBe(1);
  });

  test('a missing Idempotency-Key is a 400 problem naming the header', async () => {
    const r = await h.http('POST', '/payments', body('1.00'));
    expect(r.status).toBe(400);
    expect(r.json.violations.map((v: { field: string }) => v.field)).toContain('idempotency-key');
  });
});

describe('refused requests write nothing', () => {
  const cases: [string, unknown, string, string][] = [
    ['malformed JSON', '{"amount": "1.00", ', '(body)', 'parse'],
    ['a negative amount', body('-1.00'), 'amount', 'format'],
    ['an amount with 3 decimals', body('1.234'), 'amount', 'format'],
    ['a zero amount', body('0.00'), 'amount', 'minimum'],
  ];
  for (const [what, payload, field, rule] of cases) {
    test(`${what} → 400 problem+json (${field} ${rule}), no row`, async () => {
      const before = await rowCount();
      const r = await h.http('POST', '/payments', payload, { 'idempotency-key': crypto.randomUUID() });
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.json.violations).toContainEqual(expect.objectContaining({ field, rule }));
      expect(await rowCount()).toBe(before);
    });
  }

  test('a request refused for its input does not hold its Idempotency-Key: the corrected body with the same key pays', async () => {
    // found by the endpoint fuzz: the 400 was stored under the key, so the corrected request got 422 IdempotencyKeyReused
    const key = crypto.randomUUID();
    const refused = await h.http('POST', '/payments', { ...body('1.00'), creditor: { key: 'loja@example.com', account: { ispb: '10000001', number: '1', accountType: 'CACC', taxId: '11144477735', name: 'x' } } }, { 'idempotency-key': key });
    expect(refused.status).toBe(400);
    expect(refused.json.violations).toContainEqual(expect.objectContaining({ field: 'creditor', rule: 'choice' }));
    expect(await h.base.redis.exists(`${h.config.redisPrefix}:spi:idem:${key}`)).toBe(0);
    const corrected = await h.http('POST', '/payments', body('1.00'), { 'idempotency-key': key });
    expect(corrected.status).toBe(201);
  });

  test('an unknown key → 404 EntryNotFound problem, no row, no money held', async () => {
    const before = await rowCount();
    const r = await h.http('POST', '/payments', { ...body('1.00'), creditor: { key: 'nobody@example.com' } }, { 'idempotency-key': crypto.randomUUID() });
    expect(r.status).toBe(404);
    expect(r.json.type).toEndWith('/EntryNotFound');
    expect(await rowCount()).toBe(before);
    expect((await h.http('GET', '/accounts/0001/2001/balance')).json.reserved).toBe('0.00');
  });
});
