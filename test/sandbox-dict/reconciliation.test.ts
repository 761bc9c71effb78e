import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createHash, randomUUID } from 'node:crypto';
import { computeCid, VSYNC_EMPTY, vsyncOf } from '../../shared/dict/cid.ts';
import * as M from '../../shared/dict/messages.ts';
import { FIXTURE_START_MS_MAX, startDictFixture, US, type DictFixture } from './support.ts';

let f: DictFixture;
beforeAll(async () => {
  f = await startDictFixture('sdict-recon');
}, FIXTURE_START_MS_MAX);
afterAll(async () => {
  await f?.t.stop();
});

const owner = { type: 'NATURAL_PERSON' as const, taxIdNumber: '52998224725', name: 'Maria' };
const account = (n: string) => ({ participant: US, branch: '0001', accountNumber: n, accountType: 'CACC' as const, openingDate: '2020-01-01T00:00:00.000Z' });

async function verify(vsync: string) {
  const r = await f.call(f.us, 'POST', '/api/v2/sync-verifications/', M.CREATE_SYNC_VERIFICATION_REQUEST.build({ syncVerification: { participant: US, keyType: 'EMAIL', syncVerifier: vsync } }));
  expect(r.status).toBe(201);
  return f.parse(M.CREATE_SYNC_VERIFICATION_RESPONSE, r).syncVerification.result;
}

test('VSync, CID file, CID events and entry by CID agree with the entries we created and removed', async () => {
  expect(await verify(VSYNC_EMPTY)).toBe('OK');
  const cids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const requestId = randomUUID();
    const e = { key: `recon${i}@fluxiq.dev`, keyType: 'EMAIL' as const, account: account(`000000100${i}`), owner };
    expect((await f.call(f.us, 'POST', '/api/v2/entries/', M.CREATE_ENTRY_REQUEST.build({ entry: e, reason: 'USER_REQUESTED', requestId }))).status).toBe(201);
    cids.push(computeCid(requestId, { keyType: 'EMAIL', key: e.key, ownerTaxIdNumber: owner.taxIdNumber, ownerName: owner.name, ownerTradeName: null, participant: US, branch: '0001', accountNumber: e.account.accountNumber, accountType: 'CACC' }));
  }
  await f.call(f.us, 'POST', '/api/v2/entries/recon1%40fluxiq.dev/delete', M.DELETE_ENTRY_REQUEST.build({ key: 'recon1@fluxiq.dev', participant: US, reason: 'RECONCILIATION' }));
  const live = [cids[0]!, cids[2]!];

  expect(await verify(vsyncOf(live))).toBe('OK');
  // drift: our side still counts the removed entry
  expect(await verify(vsyncOf(cids))).toBe('NOK');

  const file = f.parse(M.CREATE_CID_SET_FILE_RESPONSE, await f.call(f.us, 'POST', '/api/v2/cids/files/', M.CREATE_CID_SET_FILE_REQUEST.build({ participant: US, keyType: 'EMAIL' }))).cidSetFile;
  expect(file.status).toBe('AVAILABLE');
  const got = f.parse(M.GET_CID_SET_FILE_RESPONSE, await f.call(f.us, 'GET', `/api/v2/cids/files/${file.id}`)).cidSetFile;
  const content = await f.us.client.request('GET', got.url!);
  const text = content.ok ? content.value.body : '';
  expect(text.trim().split('\n').sort()).toEqual([...live].sort());
  expect(createHash('sha256').update(text).digest('hex')).toBe(got.sha256!);

  const events = f.parse(M.LIST_CID_SET_EVENTS_RESPONSE, await f.call(f.us, 'GET', `/api/v2/cids/events?Participant=${US}&KeyType=EMAIL`));
  expect(events.cidSetEvents.map((e) => `${e.type}:${e.cid}`)).toEqual([...cids.map((c) => `ADDED:${c}`), `REMOVED:${cids[1]}`]);
  expect(events.syncVerifierStart).toBe(VSYNC_EMPTY);
  expect(events.syncVerifierEnd).toBe(vsyncOf(live));

  const byCid = f.parse(M.GET_ENTRY_BY_CID_RESPONSE, await f.call(f.us, 'GET', `/api/v2/cids/entries/${cids[2]}`));
  expect(byCid.entry.key).toBe('recon2@fluxiq.dev');
  expect((await f.call(f.us, 'GET', `/api/v2/cids/entries/${cids[1]}`)).status).toBe(404);
});
