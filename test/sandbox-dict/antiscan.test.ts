import { afterAll, beforeAll, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import * as M from '../../shared/dict/messages.ts';
import { FIXTURE_START_MS_MAX, startDictFixture, PSP, US, type DictFixture } from './support.ts';

let f: DictFixture;
beforeAll(async () => {
  f = await startDictFixture('sdict-antiscan');
  const r = await f.call(f.us, 'POST', '/api/v2/entries/', M.CREATE_ENTRY_REQUEST.build({
    entry: { key: '+5521966660001', keyType: 'PHONE', account: { participant: US, branch: '0001', accountNumber: '0000000001', accountType: 'CACC', openingDate: '2020-01-01T00:00:00.000Z' }, owner: { type: 'NATURAL_PERSON', taxIdNumber: '52998224725', name: 'Maria' } },
    reason: 'USER_REQUESTED',
    requestId: randomUUID(),
  }));
  expect(r.status).toBe(201);
}, FIXTURE_START_MS_MAX);
afterAll(async () => {
  await f?.t.stop();
});

const lookup = (key: string, payerId: string) =>
  f.call(f.psp, 'GET', `/api/v2/entries/${encodeURIComponent(key)}`, undefined, { 'PI-RequestingParticipant': PSP, 'PI-PayerId': payerId });

test('an end user\'s bucket empties after five misses (a 404 costs 20) and the next lookup is 429 RateLimited', async () => {
  const payer = '01'.repeat(32);
  for (let i = 0; i < 5; i++) expect((await lookup(`+55219666699${String(i).padStart(2, '0')}`, payer)).status).toBe(404);
  const refused = await lookup('+5521966660001', payer);
  expect(refused.status).toBe(429);
  expect(refused.error).toBe('RateLimited');
  // another end user of the same participant is unaffected
  const other = await lookup('+5521966660001', '02'.repeat(32));
  expect(other.status).toBe(200);
  // the answer tells the state of both buckets (spec: PI-RateLimit-* headers)
  expect(other.headers).toMatchObject({ 'pi-ratelimit-clientpolicy': 'ENTRIES_READ_USER_ANTISCAN', 'pi-ratelimit-clientremaining': '99', 'pi-ratelimit-participantpolicy': 'ENTRIES_READ_PARTICIPANT_ANTISCAN' });
  // two tokens come back per minute
  await f.t.control('POST', '/clock/advance', { ms: 60_000 });
  expect((await lookup('+5521966660001', payer)).status).toBe(200);
});

test('a natural person gets 100 found lookups; the 101st is refused', async () => {
  const payer = '03'.repeat(32);
  for (let i = 0; i < 100; i++) {
    const r = await lookup('+5521966660001', payer);
    if (r.status !== 200) throw new Error(`lookup ${i + 1} answered ${r.status}`);
  }
  expect((await lookup('+5521966660001', payer)).error).toBe('RateLimited');
});

test('the participant bucket is charged too and readable through the policies endpoint', async () => {
  const list = f.parse(M.LIST_POLICIES_RESPONSE, await f.call(f.psp, 'GET', '/api/v2/policies/'));
  expect(list.category).toBe('A');
  const antiscan = list.policies.find((p) => p.name === 'ENTRIES_READ_PARTICIPANT_ANTISCAN')!;
  expect(antiscan.capacity).toBe(20_000);
  expect(antiscan.availableTokens).toBeLessThan(20_000);
  // one write of ours (a delete of a missing key still costs a token: anything but 500 does)
  await f.call(f.us, 'POST', '/api/v2/entries/nobody%40fluxiq.dev/delete', M.DELETE_ENTRY_REQUEST.build({ key: 'nobody@fluxiq.dev', participant: US, reason: 'USER_REQUESTED' }));
  const one = f.parse(M.GET_POLICY_RESPONSE, await f.call(f.us, 'GET', '/api/v2/policies/ENTRIES_WRITE'));
  expect(one.policy).toMatchObject({ name: 'ENTRIES_WRITE', capacity: 36_000, refillTokens: 1_200, refillPeriodSec: 60, availableTokens: 35_999 });
});

test('a lookup of a key in the caller\'s own custody is refused: book transfers never reach DICT', async () => {
  const r = await f.call(f.us, 'GET', `/api/v2/entries/${encodeURIComponent('+5521966660001')}`, undefined, { 'PI-RequestingParticipant': US, 'PI-PayerId': '04'.repeat(32) });
  expect(r.error).toBe('EntryCannotBeQueriedForBookTransfer');
});

test('PI-RequestingParticipant must be the caller and PI-PayerId 64 hex characters', async () => {
  expect((await f.call(f.psp, 'GET', '/api/v2/entries/%2B5521966660001', undefined, { 'PI-RequestingParticipant': US, 'PI-PayerId': '05'.repeat(32) })).error).toBe('Forbidden');
  expect((await f.call(f.psp, 'GET', '/api/v2/entries/%2B5521966660001', undefined, { 'PI-RequestingParticipant': PSP, 'PI-PayerId': 'xyz' })).status).toBe(400);
});
