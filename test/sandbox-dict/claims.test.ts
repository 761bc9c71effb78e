import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import * as M from '../../shared/dict/messages.ts';
import { FIXTURE_START_MS_MAX, startDictFixture, PSP, US, type Caller, type DictFixture } from './support.ts';

let f: DictFixture;
beforeAll(async () => {
  f = await startDictFixture('sdict-claims');
}, FIXTURE_START_MS_MAX);
afterAll(async () => {
  await f?.t.stop();
});

const account = (participant: string, accountNumber: string) => ({ participant, branch: '0001', accountNumber, accountType: 'CACC' as const, openingDate: '2020-01-01T00:00:00.000Z' });
const maria = { type: 'NATURAL_PERSON' as const, taxIdNumber: '52998224725', name: 'Maria Souza' };
const joao = { type: 'NATURAL_PERSON' as const, taxIdNumber: '11122233396', name: 'João Lima' };
const PAYER = 'ef'.repeat(32);

async function createEntry(who: Caller, key: string, keyType: M.Entry['keyType'], owner = maria, accountNumber = String(Math.floor(Math.random() * 1e9)).padStart(10, '0')) {
  const r = await f.call(who, 'POST', '/api/v2/entries/', M.CREATE_ENTRY_REQUEST.build({ entry: { key, keyType, account: account(who.ispb, accountNumber), owner }, reason: 'USER_REQUESTED', requestId: randomUUID() }));
  expect(r.status).toBe(201);
}

async function openClaim(who: Caller, type: M.Claim['type'], key: string, keyType: M.Entry['keyType'], claimer = maria): Promise<M.Claim> {
  const r = await f.call(who, 'POST', '/api/v2/claims/', M.CREATE_CLAIM_REQUEST.build({ claim: { type, key, keyType, claimerAccount: account(who.ispb, '0000070000'), claimer } }));
  expect(r.status).toBe(201);
  return f.parse(M.CREATE_CLAIM_RESPONSE, r).claim;
}

const OPS = { acknowledge: M.ACKNOWLEDGE_CLAIM_REQUEST, confirm: M.CONFIRM_CLAIM_REQUEST, cancel: M.CANCEL_CLAIM_REQUEST, complete: M.COMPLETE_CLAIM_REQUEST } as const;
async function act(who: Caller, op: keyof typeof OPS, id: string, extra: { reason?: string; requestId?: string } = {}) {
  return f.call(who, 'POST', `/api/v2/claims/${id}/${op}`, OPS[op].build({ claimId: id, participant: who.ispb, ...extra }));
}
const RESPONSES = { acknowledge: M.ACKNOWLEDGE_CLAIM_RESPONSE, confirm: M.CONFIRM_CLAIM_RESPONSE } as const;
async function statusAfter(who: Caller, op: keyof typeof RESPONSES, id: string, extra: { reason?: string } = {}) {
  return f.parse(RESPONSES[op], await act(who, op, id, extra)).claim.status;
}

async function lookup(who: Caller, key: string) {
  return f.call(who, 'GET', `/api/v2/entries/${encodeURIComponent(key)}`, undefined, { 'PI-RequestingParticipant': who.ispb, 'PI-PayerId': PAYER });
}

describe('portability', () => {
  test('walked to COMPLETED with us as claimer: the donor lists, acknowledges and confirms; we complete and own the key', async () => {
    await createEntry(f.psp, '+5521955550001', 'PHONE');
    const claim = await openClaim(f.us, 'PORTABILITY', '+5521955550001', 'PHONE');
    expect(claim).toMatchObject({ status: 'OPEN', donorParticipant: PSP });
    expect(Date.parse(claim.resolutionPeriodEnd) - Date.parse(claim.lastModified)).toBe(7 * 86_400_000);

    const listed = f.parse(M.LIST_CLAIMS_RESPONSE, await f.call(f.psp, 'GET', `/api/v2/claims/?Participant=${PSP}&IsDonor=true&Status=OPEN`));
    expect(listed.claims.map((c) => c.id)).toContain(claim.id);

    expect(await statusAfter(f.psp, 'acknowledge', claim.id)).toBe('WAITING_RESOLUTION');
    expect(await statusAfter(f.psp, 'confirm', claim.id, { reason: 'USER_REQUESTED' })).toBe('CONFIRMED');
    // the donor's entry left DICT at confirmation
    expect((await lookup(f.us, '+5521955550001')).status).toBe(404);
    const done = await act(f.us, 'complete', claim.id, { requestId: randomUUID() });
    expect(done.status).toBe(200);
    expect(f.parse(M.COMPLETE_CLAIM_RESPONSE, done).claim.status).toBe('COMPLETED');
    const now = f.parse(M.GET_ENTRY_RESPONSE, await lookup(f.psp, '+5521955550001'));
    expect(now.entry.account.participant).toBe(US);
  });

  test('walked to COMPLETED with us as donor', async () => {
    await createEntry(f.us, 'donor@fluxiq.dev', 'EMAIL');
    const claim = await openClaim(f.psp, 'PORTABILITY', 'donor@fluxiq.dev', 'EMAIL');
    const mine = f.parse(M.LIST_CLAIMS_RESPONSE, await f.call(f.us, 'GET', `/api/v2/claims/?Participant=${US}&IsDonor=true`));
    expect(mine.claims.find((c) => c.id === claim.id)?.status).toBe('OPEN');
    await act(f.us, 'acknowledge', claim.id);
    await act(f.us, 'confirm', claim.id, { reason: 'USER_REQUESTED' });
    expect(f.parse(M.COMPLETE_CLAIM_RESPONSE, await act(f.psp, 'complete', claim.id, { requestId: randomUUID() })).claim.status).toBe('COMPLETED');
    const got = f.parse(M.GET_CLAIM_RESPONSE, await f.call(f.us, 'GET', `/api/v2/claims/${claim.id}`));
    expect(got.claim.status).toBe('COMPLETED');
  });

  test('left unanswered, it can be cancelled for default only after 7 days; the entry stays', async () => {
    await createEntry(f.us, 'stay@fluxiq.dev', 'EMAIL');
    const claim = await openClaim(f.psp, 'PORTABILITY', 'stay@fluxiq.dev', 'EMAIL');
    await act(f.us, 'acknowledge', claim.id);
    expect((await act(f.us, 'cancel', claim.id, { reason: 'DEFAULT_OPERATION' })).error).toBe('ClaimResolutionPeriodNotEnded');
    // the entry is locked while the claim is open
    const del = await f.call(f.us, 'POST', `/api/v2/entries/${encodeURIComponent('stay@fluxiq.dev')}/delete`, M.DELETE_ENTRY_REQUEST.build({ key: 'stay@fluxiq.dev', participant: US, reason: 'USER_REQUESTED' }));
    expect(del.error).toBe('EntryLockedByClaim');
    await f.advanceDays(7);
    const cancelled = f.parse(M.CANCEL_CLAIM_RESPONSE, await act(f.us, 'cancel', claim.id, { reason: 'DEFAULT_OPERATION' }));
    expect(cancelled.claim).toMatchObject({ status: 'CANCELLED', cancelReason: 'DEFAULT_OPERATION', cancelledBy: 'DONOR' });
    expect(f.parse(M.GET_ENTRY_RESPONSE, await lookup(f.psp, 'stay@fluxiq.dev')).entry.account.participant).toBe(US);
  });

  test('a second claim on a key with an open claim is ClaimAlreadyExistsForKey; a claim on a missing key is ClaimKeyNotFound', async () => {
    await createEntry(f.us, '+5521955550002', 'PHONE');
    await openClaim(f.psp, 'PORTABILITY', '+5521955550002', 'PHONE');
    const again = await f.call(f.psp, 'POST', '/api/v2/claims/', M.CREATE_CLAIM_REQUEST.build({ claim: { type: 'PORTABILITY', key: '+5521955550002', keyType: 'PHONE', claimerAccount: account(PSP, '0000070001'), claimer: maria } }));
    expect(again.error).toBe('ClaimAlreadyExistsForKey');
    const missing = await f.call(f.psp, 'POST', '/api/v2/claims/', M.CREATE_CLAIM_REQUEST.build({ claim: { type: 'PORTABILITY', key: '+5521955559999', keyType: 'PHONE', claimerAccount: account(PSP, '0000070001'), claimer: maria } }));
    expect(missing.error).toBe('ClaimKeyNotFound');
    const inconsistent = await f.call(f.psp, 'POST', '/api/v2/claims/', M.CREATE_CLAIM_REQUEST.build({ claim: { type: 'OWNERSHIP', key: 'donor@fluxiq.dev', keyType: 'EMAIL', claimerAccount: account(PSP, '0000070001'), claimer: maria } }));
    expect(inconsistent.error).toBe('ClaimTypeInconsistent');
  });
});

describe('ownership', () => {
  test('the donor\'s user confirms early (USER_REQUESTED): the claimer completes at once and the key changes owner', async () => {
    await createEntry(f.psp, '+5521955550003', 'PHONE', joao);
    const claim = await openClaim(f.us, 'OWNERSHIP', '+5521955550003', 'PHONE', maria);
    await act(f.psp, 'acknowledge', claim.id);
    // before confirmation the claimer cannot complete
    expect((await act(f.us, 'complete', claim.id, { requestId: randomUUID() })).error).toBe('ClaimOperationInvalid');
    // for default the donor must wait for the resolution period
    expect((await act(f.psp, 'confirm', claim.id, { reason: 'DEFAULT_OPERATION' })).error).toBe('ClaimResolutionPeriodNotEnded');
    await act(f.psp, 'confirm', claim.id, { reason: 'USER_REQUESTED' });
    const done = f.parse(M.COMPLETE_CLAIM_RESPONSE, await act(f.us, 'complete', claim.id, { requestId: randomUUID() }));
    expect(done.claim.status).toBe('COMPLETED');
    const entry = f.parse(M.GET_ENTRY_RESPONSE, await lookup(f.psp, '+5521955550003')).entry;
    expect(entry.owner.taxIdNumber).toBe(maria.taxIdNumber);
    expect(entry.account.participant).toBe(US);
  });
});

describe('simulated PSPs act on rules', () => {
  test('a simulated PSP opens a portability against our key and completes it once we confirm', async () => {
    await createEntry(f.us, 'moving@fluxiq.dev', 'EMAIL');
    const opened = await f.t.control('POST', '/dict/simulate/claim', { key: 'moving@fluxiq.dev', type: 'PORTABILITY' });
    expect(opened.status).toBe(200);
    const id = opened.json.claim.id as string;
    await act(f.us, 'acknowledge', id);
    await act(f.us, 'confirm', id, { reason: 'USER_REQUESTED' });
    await f.t.control('PUT', '/dict/rules', { claimer: { complete: true } });
    // one pass completes it (the background loop may get there first: either way it is done after this)
    expect((await f.t.control('POST', '/dict/simulate/run')).status).toBe(200);
    expect(f.parse(M.GET_CLAIM_RESPONSE, await f.call(f.us, 'GET', `/api/v2/claims/${id}`)).claim.status).toBe('COMPLETED');
    await f.t.control('PUT', '/dict/rules', { claimer: { complete: false } });
  });

  test('a simulated donor acknowledges and confirms our claim on its seeded key', async () => {
    const seeded = await f.t.control('POST', '/dict/seed', { count: 30 });
    expect(seeded.json.total).toBe(30);
    const keys = (await f.t.control('GET', `/dict/entries?participant=${'10000003'}`)).json.entries as { key: string; keyType: string }[];
    const phone = keys.find((k) => k.keyType === 'PHONE')!;
    const owner = f.parse(M.GET_ENTRY_RESPONSE, await lookup(f.us, phone.key)).entry.owner;
    const claim = await openClaim(f.us, 'PORTABILITY', phone.key, 'PHONE', owner as typeof maria);
    await f.t.control('PUT', '/dict/rules', { donor: { acknowledge: true, resolve: 'USER_REQUESTED' } });
    await f.t.control('POST', '/dict/simulate/run');
    await f.t.control('POST', '/dict/simulate/run');
    await f.t.control('PUT', '/dict/rules', { donor: { acknowledge: false, resolve: 'NEVER' } });
    expect(f.parse(M.GET_CLAIM_RESPONSE, await f.call(f.us, 'GET', `/api/v2/claims/${claim.id}`)).claim.status).toBe('CONFIRMED');
    expect(f.parse(M.COMPLETE_CLAIM_RESPONSE, await act(f.us, 'complete', claim.id, { requestId: randomUUID() })).claim.status).toBe('COMPLETED');
  });
});
