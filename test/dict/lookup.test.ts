// Lookups for payments: served from the in-process cache after the first DICT answer, our own keys never
// leave the process (book transfer), and our copy of the anti-scan buckets refuses a scanning end user
// before a request reaches DICT (PIX.md § Rate limits: 200 → −1, 404 → −20, 100 tokens per natural person).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { cpfCheckDigits } from '../../shared/dict/keys.ts';
import { seedEntryAt } from '../../services/bacen-sandbox/dict/simulation/seed.ts';
import { account, dictFixture, naturalPerson, type DictFixture, FIXTURE_TIMEOUT_MS } from './support.ts';

let fx: DictFixture;
beforeAll(async () => {
  fx = await dictFixture('lookup');
  expect((await fx.sandbox.control('POST', '/dict/seed', { count: 20 })).status).toBe(200);
}, FIXTURE_TIMEOUT_MS);
afterAll(async () => {
  await fx?.close();
}, FIXTURE_TIMEOUT_MS);

let payerSeq = 0;
/** A fresh valid CPF per call: every test starts with a full bucket. */
function newPayer(): string {
  const base = String(500_000_000 + ++payerSeq * 13);
  return base + cpfCheckDigits(base);
}

async function entryLookups(): Promise<number> {
  const r = await fx.sandbox.control('GET', '/requests');
  return (r.json.entries as { method: string; path: string }[]).filter((e) => e.method === 'GET' && e.path.startsWith('/api/v2/entries/')).length;
}

const lookup = (key: string, payerId: string) => fx.call('GET', `/keys/${encodeURIComponent(key)}/lookup`, undefined, { 'pi-payerid': payerId });

describe('lookup for a payment', () => {
  test('a key at another participant is fetched from DICT once, then served from the cache', async () => {
    const theirs = seedEntryAt(3).entry;
    const before = await entryLookups();
    const first = await lookup(theirs.key, newPayer());
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ bookTransfer: false, entry: { key: theirs.key, keyType: theirs.keyType, account: { participant: theirs.account.participant } } });
    const second = await lookup(theirs.key, newPayer());
    expect(second.json).toEqual(first.json);
    expect(await entryLookups()).toBe(before + 1);
  });

  test('one of our own keys is answered as a book transfer without asking DICT', async () => {
    const owner = naturalPerson('52998224725');
    const reg = await fx.call('POST', '/keys', { keyType: 'EVP', account: account('6001'), owner });
    expect(reg.status).toBe(201);
    const before = await entryLookups();
    const r = await lookup(reg.json.key, newPayer());
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ bookTransfer: true, entry: { key: reg.json.key, account: { participant: '12345678', accountNumber: '6001' } } });
    expect(await entryLookups()).toBe(before);
  });

  test('a removed key of ours is not served stale from the cache (the removal event invalidates it)', async () => {
    const reg = await fx.call('POST', '/keys', { keyType: 'EVP', account: account('6002'), owner: naturalPerson('52998224725') });
    expect((await lookup(reg.json.key, newPayer())).status).toBe(200);
    expect((await fx.call('DELETE', `/keys/${reg.json.key}`, { reason: 'USER_REQUESTED' })).status).toBe(200);
    // the event arrives over NATS; poll briefly instead of sleeping a fixed time
    let status = 200;
    for (let i = 0; i < 100 && status === 200; i++) {
      await Bun.sleep(10);
      status = (await lookup(reg.json.key, newPayer())).status;
    }
    expect(status).toBe(404);
  });

  test('a lookup without the payer\'s id, or with an invalid one, is refused', async () => {
    const r = await fx.call('GET', `/keys/${seedEntryAt(3).entry.key}/lookup`);
    expect(r.status).toBe(400);
    expect(r.json.violations).toContainEqual(expect.objectContaining({ field: 'PI-PayerId', rule: 'required' }));
    const bad = await lookup(seedEntryAt(3).entry.key, '12345678900');
    expect(bad.json.violations).toContainEqual(expect.objectContaining({ field: 'PI-PayerId', rule: 'check-digit' }));
  });

  test('a key that is not valid percent-encoding is refused naming the key, not answered 500', async () => {
    for (const raw of ['%', '%zz', '%E0%A4%A']) {
      const r = await fx.call('GET', `/keys/${raw}/lookup`, undefined, { 'pi-payerid': newPayer() });
      expect(r.status, raw).toBe(400);
      expect(r.json.violations, raw).toContainEqual(expect.objectContaining({ field: 'key' }));
    }
  });
});

describe('anti-scan: our copy of the end user\'s bucket', () => {
  test('five unknown keys (404 costs 20) empty a natural person\'s bucket; the next lookup is refused here', async () => {
    const payer = newPayer();
    for (let i = 0; i < 5; i++) {
      const r = await lookup(`+55119${String(10_000_000 + i)}`, payer);
      expect(r.status).toBe(404);
      expect(r.json.type).toEndWith('/EntryNotFound');
    }
    const before = await entryLookups();
    const refused = await lookup(seedEntryAt(3).entry.key, payer);
    expect(refused.status).toBe(429);
    expect(refused.json.type).toEndWith('/RateLimited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await entryLookups()).toBe(before);
  });

  test('the 101st lookup of a natural person is refused before it reaches the sandbox', async () => {
    const payer = newPayer();
    const cached = seedEntryAt(3).entry.key;
    for (let i = 0; i < 100; i++) expect((await lookup(cached, payer)).status).toBe(200);
    const before = await entryLookups();
    const r = await lookup(seedEntryAt(8).entry.key, payer); // not cached: it would have gone to DICT
    expect(r.status).toBe(429);
    expect(await entryLookups()).toBe(before);
  });

  test('two minutes later the bucket has refilled 2 tokens per minute; a payment sent gives one back', async () => {
    const payer = newPayer();
    const cached = seedEntryAt(3).entry.key;
    for (let i = 0; i < 100; i++) await lookup(cached, payer);
    expect((await lookup(cached, payer)).status).toBe(429);
    await fx.advance(2 * 60_000);
    for (let i = 0; i < 4; i++) expect((await lookup(cached, payer)).status).toBe(200);
    expect((await lookup(cached, payer)).status).toBe(429);
    expect((await fx.call('POST', '/lookups/credits', { payerId: payer, keyType: 'PHONE' })).status).toBe(204);
    expect((await lookup(cached, payer)).status).toBe(200);
  });

  test('credits come one at a time or in a batch (the SPI resolver\'s); a batch with a bad payer id names it and gives nothing back', async () => {
    const payer = newPayer();
    const cached = seedEntryAt(3).entry.key;
    for (let i = 0; i < 100; i++) await lookup(cached, payer);
    expect((await lookup(cached, payer)).status).toBe(429);
    const bad = await fx.call('POST', '/lookups/credits', { credits: [{ payerId: payer, keyType: 'PHONE' }, { payerId: '12345678900', keyType: 'PHONE' }] });
    expect(bad.status).toBe(400);
    expect(bad.json.violations).toEqual([{ field: 'credits[1].payerId', rule: expect.any(String) }]);
    expect((await lookup(cached, payer)).status).toBe(429);
    expect((await fx.call('POST', '/lookups/credits', { credits: [{ payerId: payer, keyType: 'PHONE' }, { payerId: payer, keyType: 'PHONE' }] })).status).toBe(204);
    expect((await lookup(cached, payer)).status).toBe(200);
    expect((await lookup(cached, payer)).status).toBe(200);
    expect((await lookup(cached, payer)).status).toBe(429);
  });
});

describe('lookups by ISPB', () => {
  test('a participant is found by its ISPB; an unknown one is 404', async () => {
    await fx.deps.sql`insert into participants (ispb, name, short_name, dict_category) values ('10000001', 'Banco Simulado Alfa S.A.', 'Alfa', 'B')`;
    const r = await fx.call('GET', '/participants/10000001');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ispb: '10000001', shortName: 'Alfa', dictCategory: 'B', status: 'ACTIVE' });
    expect((await fx.call('GET', '/participants/')).json.participants.map((p: any) => p.ispb)).toContain('10000001');
    expect((await fx.call('GET', '/participants/99999999')).status).toBe(404);
    expect((await fx.call('GET', '/participants/abc')).status).toBe(400);
  });
});

describe('the lookup as served on a real port (the Bun native route, not app.handle)', () => {
  test('answers exactly what the Elysia route answers: the entry, a validation problem, and RateLimited', async () => {
    const server = fx.app.listen({ port: 0, hostname: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${server.server!.port}`;
      const theirs = seedEntryAt(5).entry;
      const payer = newPayer();
      const path = `/keys/${encodeURIComponent(theirs.key)}/lookup`;
      const overHttp = await fetch(base + path, { headers: { 'pi-payerid': payer } });
      expect(overHttp.status).toBe(200);
      expect(overHttp.headers.get('content-type')).toStartWith('application/json');
      const inProcess = await lookup(theirs.key, newPayer());
      expect(await overHttp.json()).toEqual(inProcess.json);

      const bad = await fetch(base + path, { headers: { 'pi-payerid': '123' } });
      expect(bad.status).toBe(400);
      expect(bad.headers.get('content-type')).toBe('application/problem+json');
      expect(((await bad.json()) as { violations: { field: string }[] }).violations.length).toBeGreaterThan(0);

      // a natural person's bucket holds 100 tokens and a 404 costs 20: six unknown keys empty it
      const scanner = newPayer();
      let last = 0;
      for (let i = 0; i < 6 && last !== 429; i++) {
        last = (await fetch(`${base}/keys/${encodeURIComponent(`nobody${i}@example.com`)}/lookup`, { headers: { 'pi-payerid': scanner } })).status;
      }
      expect(last).toBe(429);
    } finally {
      await fx.app.stop(true);
    }
  });
});
