import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { computeCid } from '../../shared/dict/cid.ts';
import * as M from '../../shared/dict/messages.ts';
import { FIXTURE_START_MS_MAX, startDictFixture, PSP, US, type DictFixture } from './support.ts';

let f: DictFixture;
beforeAll(async () => {
  f = await startDictFixture('sdict-entries');
}, FIXTURE_START_MS_MAX);
afterAll(async () => {
  await f?.t.stop();
});

const PAYER = 'ab'.repeat(32);
const account = (participant: string, accountNumber = '0000012345') => ({ participant, branch: '0001', accountNumber, accountType: 'CACC' as const, openingDate: '2020-01-01T00:00:00.000Z' });
const maria = { type: 'NATURAL_PERSON' as const, taxIdNumber: '52998224725', name: 'Maria Souza' };
const joao = { type: 'NATURAL_PERSON' as const, taxIdNumber: '11122233396', name: 'João Lima' };

function createXml(key: string, keyType: M.Entry['keyType'], participant: string, owner = maria, requestId = randomUUID(), accountNumber?: string) {
  return M.CREATE_ENTRY_REQUEST.build({ entry: { key, keyType, account: account(participant, accountNumber), owner }, reason: 'USER_REQUESTED', requestId });
}

describe('entries', () => {
  test('a created entry is found by another participant, with its CID computed from the RequestId', async () => {
    const requestId = randomUUID();
    const created = await f.call(f.us, 'POST', '/api/v2/entries/', createXml('+5521912340001', 'PHONE', US, maria, requestId));
    expect(created.status).toBe(201);
    const body = f.parse(M.CREATE_ENTRY_RESPONSE, created);
    expect(body.entry).toMatchObject({ key: '+5521912340001', keyType: 'PHONE', owner: maria, account: account(US) });

    const got = await f.call(f.psp, 'GET', `/api/v2/entries/${encodeURIComponent('+5521912340001')}`, undefined, { 'PI-RequestingParticipant': PSP, 'PI-PayerId': PAYER });
    expect(got.status).toBe(200);
    const entry = f.parse(M.GET_ENTRY_RESPONSE, got);
    expect(entry.entry.account.participant).toBe(US);
    expect(entry.statistics?.counters.map((c) => `${c.type}/${c.by}`)).toContain('SETTLEMENTS/KEY');

    const byCid = computeCid(requestId, { keyType: 'PHONE', key: '+5521912340001', ownerTaxIdNumber: maria.taxIdNumber, ownerName: maria.name, ownerTradeName: null, participant: US, branch: '0001', accountNumber: '0000012345', accountType: 'CACC' });
    const cidAnswer = await f.call(f.us, 'GET', `/api/v2/cids/entries/${byCid}`);
    expect(cidAnswer.status).toBe(200);
    expect(f.parse(M.GET_ENTRY_BY_CID_RESPONSE, cidAnswer)).toMatchObject({ cid: byCid, requestId, entry: { key: '+5521912340001' } });
  });

  test('the same RequestId with the same content replays the first answer; with other content it is RequestIdAlreadyUsed', async () => {
    const requestId = randomUUID();
    const xml = createXml('+5521912340002', 'PHONE', US, maria, requestId);
    const first = await f.call(f.us, 'POST', '/api/v2/entries/', xml);
    const again = await f.call(f.us, 'POST', '/api/v2/entries/', xml);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(f.parse(M.CREATE_ENTRY_RESPONSE, again)).toEqual(f.parse(M.CREATE_ENTRY_RESPONSE, first));
    const other = await f.call(f.us, 'POST', '/api/v2/entries/', createXml('+5521912340003', 'PHONE', US, maria, requestId));
    expect(other.error).toBe('RequestIdAlreadyUsed');
  });

  test('duplicate → EntryAlreadyExists, other owner → EntryKeyOwnedByDifferentPerson, same owner elsewhere → EntryKeyInCustodyOfDifferentParticipant', async () => {
    expect((await f.call(f.us, 'POST', '/api/v2/entries/', createXml('dup@fluxiq.dev', 'EMAIL', US))).status).toBe(201);
    expect((await f.call(f.us, 'POST', '/api/v2/entries/', createXml('dup@fluxiq.dev', 'EMAIL', US))).error).toBe('EntryAlreadyExists');
    expect((await f.call(f.psp, 'POST', '/api/v2/entries/', createXml('dup@fluxiq.dev', 'EMAIL', PSP, joao))).error).toBe('EntryKeyOwnedByDifferentPerson');
    expect((await f.call(f.psp, 'POST', '/api/v2/entries/', createXml('dup@fluxiq.dev', 'EMAIL', PSP, maria))).error).toBe('EntryKeyInCustodyOfDifferentParticipant');
  });

  test('invalid keys are EntryInvalid naming field and rule; a 6th key on a natural person\'s account is EntryLimitExceeded', async () => {
    const bad = await f.call(f.us, 'POST', '/api/v2/entries/', createXml('52998224726', 'CPF', US));
    expect(bad.error).toBe('EntryInvalid');
    expect(bad.problem?.violations?.[0]).toMatchObject({ field: 'Entry.Key', rule: 'check-digit' });
    const equal = await f.call(f.us, 'POST', '/api/v2/entries/', createXml('11111111111', 'CPF', US, { ...maria, taxIdNumber: '11111111111' }));
    expect(equal.problem?.violations?.[0]?.rule).toBe('all-equal-digits');
    const acct = '0000099999';
    for (let i = 0; i < 5; i++) expect((await f.call(f.us, 'POST', '/api/v2/entries/', createXml(`+552191234100${i}`, 'PHONE', US, maria, randomUUID(), acct))).status).toBe(201);
    expect((await f.call(f.us, 'POST', '/api/v2/entries/', createXml('+5521912341005', 'PHONE', US, maria, randomUUID(), acct))).error).toBe('EntryLimitExceeded');
  });

  test('an EVP key is generated by DICT; an alphanumeric CNPJ key is accepted for its legal person', async () => {
    const evp = await f.call(f.us, 'POST', '/api/v2/entries/', M.CREATE_ENTRY_REQUEST.build({ entry: { keyType: 'EVP', account: account(US, '0000077777'), owner: maria }, reason: 'USER_REQUESTED', requestId: randomUUID() }));
    expect(evp.status).toBe(201);
    expect(f.parse(M.CREATE_ENTRY_RESPONSE, evp).entry.key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const company = { type: 'LEGAL_PERSON' as const, taxIdNumber: '12ABC34501DE35', name: 'Padaria Alfa Ltda' };
    expect((await f.call(f.us, 'POST', '/api/v2/entries/', createXml('12ABC34501DE35', 'CNPJ', US, company as never))).status).toBe(201);
  });

  test('update changes account data; delete removes the entry and a later lookup is 404', async () => {
    await f.call(f.us, 'POST', '/api/v2/entries/', createXml('+5521912340010', 'PHONE', US));
    const upd = await f.call(f.us, 'PUT', `/api/v2/entries/${encodeURIComponent('+5521912340010')}`, M.UPDATE_ENTRY_REQUEST.build({ key: '+5521912340010', account: account(US, '0000054321'), owner: maria, reason: 'BRANCH_TRANSFER' }));
    expect(upd.status).toBe(200);
    expect(f.parse(M.UPDATE_ENTRY_RESPONSE, upd).entry.account.accountNumber).toBe('0000054321');
    const del = await f.call(f.us, 'POST', `/api/v2/entries/${encodeURIComponent('+5521912340010')}/delete`, M.DELETE_ENTRY_REQUEST.build({ key: '+5521912340010', participant: US, reason: 'USER_REQUESTED' }));
    expect(del.status).toBe(200);
    expect(f.parse(M.DELETE_ENTRY_RESPONSE, del).key).toBe('+5521912340010');
    const gone = await f.call(f.psp, 'GET', `/api/v2/entries/${encodeURIComponent('+5521912340010')}`, undefined, { 'PI-RequestingParticipant': PSP, 'PI-PayerId': 'cd'.repeat(32) });
    expect(gone.status).toBe(404);
  });

  test('keys check reports which keys have entries', async () => {
    await f.call(f.us, 'POST', '/api/v2/entries/', createXml('check@fluxiq.dev', 'EMAIL', US));
    const r = await f.call(f.us, 'POST', '/api/v2/keys/check', M.CHECK_KEYS_REQUEST.build({ keys: ['check@fluxiq.dev', 'nobody@fluxiq.dev'] }));
    expect(f.parse(M.CHECK_KEYS_RESPONSE, r).keys).toEqual([{ value: 'check@fluxiq.dev', hasEntry: 'true' }, { value: 'nobody@fluxiq.dev', hasEntry: 'false' }]);
  });

  test('unsigned and wrongly signed writes are refused with RequestSignatureInvalid', async () => {
    const xml = createXml('+5521912340020', 'PHONE', US);
    const unsigned = await f.us.client.request('POST', '/api/v2/entries/', { body: xml });
    expect(!unsigned.ok && unsigned.error.kind === 'http' && unsigned.error.problem?.type).toMatch(/RequestSignatureInvalid$/);
    // signed by the PSP's key but sent over our participant's TLS connection
    const signedByOther = await f.psp.signer.signDict(xml);
    const wrong = await f.us.client.request('POST', '/api/v2/entries/', { body: signedByOther.ok ? signedByOther.value : '' });
    expect(!wrong.ok && wrong.error.kind === 'http' && wrong.error.problem?.type).toMatch(/RequestSignatureInvalid$/);
  });

  test('a participant cannot write for another: Participant must be the TLS caller', async () => {
    const r = await f.call(f.us, 'POST', '/api/v2/entries/', createXml('+5521912340030', 'PHONE', PSP));
    expect(r.error).toBe('Forbidden');
  });
});
