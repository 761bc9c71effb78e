// Our DICT client against the sandbox: writes are signed (an unsigned or foreign-signed one is refused),
// and a write repeated with the same RequestId replays the first answer (PIX.md § Keys), which is what
// makes our retries safe.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import * as M from '../../shared/dict/messages.ts';
import { dictFixture, naturalPerson, type DictFixture, FIXTURE_TIMEOUT_MS } from './support.ts';

let fx: DictFixture;
beforeAll(async () => {
  fx = await dictFixture('dictapi');
}, FIXTURE_TIMEOUT_MS);
afterAll(async () => {
  await fx?.close();
}, FIXTURE_TIMEOUT_MS);

const evp = (requestId: string, accountNumber = '9101') => ({
  keyType: 'EVP' as const,
  account: { participant: '12345678', branch: '0001', accountNumber, accountType: 'CACC' as const, openingDate: new Date('2020-01-10T03:00:00Z') },
  owner: naturalPerson('52998224725'),
  reason: 'USER_REQUESTED' as const,
  requestId,
});

describe('DICT writes', () => {
  test('the same RequestId replays the first answer: a retried EVP registration gets the same key', async () => {
    const requestId = randomUUID();
    const first = await fx.deps.dict.createEntry(evp(requestId));
    const again = await fx.deps.dict.createEntry(evp(requestId));
    expect(first.ok && again.ok).toBe(true);
    if (first.ok && again.ok) expect(again.value.key).toBe(first.value.key);
  });

  test('the same RequestId with different content is RequestIdAlreadyUsed', async () => {
    const requestId = randomUUID();
    expect((await fx.deps.dict.createEntry(evp(requestId, '9102'))).ok).toBe(true);
    const other = await fx.deps.dict.createEntry(evp(requestId, '9103'));
    expect(other.ok).toBe(false);
    if (!other.ok) expect(other.error.code).toBe('RequestIdAlreadyUsed');
  });

  test('an unsigned write is refused with RequestSignatureInvalid', async () => {
    const body = M.CREATE_ENTRY_REQUEST.build({
      entry: { key: '', keyType: 'EVP', account: { participant: '12345678', branch: '0001', accountNumber: '9104', accountType: 'CACC', openingDate: '2020-01-10T03:00:00.000Z' }, owner: naturalPerson('52998224725') },
      reason: 'USER_REQUESTED',
      requestId: randomUUID(),
    });
    const r = await fx.sandbox.client().request('POST', '/api/v2/entries/', { body });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.problem?.type).toEndWith('/RequestSignatureInvalid');
  });

  test('a write signed by another participant\'s key over our TLS connection is refused', async () => {
    const body = M.CREATE_ENTRY_REQUEST.build({
      entry: { key: '', keyType: 'EVP', account: { participant: '12345678', branch: '0001', accountNumber: '9105', accountType: 'CACC', openingDate: '2020-01-10T03:00:00.000Z' }, owner: naturalPerson('52998224725') },
      reason: 'USER_REQUESTED',
      requestId: randomUUID(),
    });
    const foreign = await fx.sandbox.signerFor(fx.sandbox.pki.psps['10000001']!);
    const signed = await foreign.signDict(body);
    if (!signed.ok) throw new Error(signed.error.detail);
    const r = await fx.sandbox.client().request('POST', '/api/v2/entries/', { body: signed.value });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.problem?.type).toEndWith('/RequestSignatureInvalid');
  });
});

describe('the service\'s own API description', () => {
  test('the OpenAPI document lists the keys, lookup, claims, sync and MED operations', async () => {
    const r = await fx.call('GET', '/openapi/json');
    expect(r.status).toBe(200);
    expect(Object.keys(r.json.paths)).toEqual(expect.arrayContaining([
      '/keys/', '/keys/{key}', '/keys/confirmations', '/keys/{key}/lookup', '/claims/', '/claims/{id}/confirm', '/sync/verifications/{keyType}',
      '/infraction-reports', '/refunds', '/med/traces/{endToEndId}', '/participants/{ispb}',
    ]));
  });
});
