// Claims in both roles against the sandbox, whose simulated PSPs play the other side (PIX.md § Claims).
// The service's poller and timers are driven one pass at a time; deadlines by advancing both clocks.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { seedEntryAt } from '../../services/bacen-sandbox/dict/simulation/seed.ts';
import { account, DAY_MS, dictFixture, naturalPerson, type DictFixture, FIXTURE_TIMEOUT_MS } from './support.ts';

let fx: DictFixture;
beforeAll(async () => {
  fx = await dictFixture('claims');
  expect((await fx.sandbox.control('POST', '/dict/seed', { count: 20 })).status).toBe(200);
}, FIXTURE_TIMEOUT_MS);
afterAll(async () => {
  await fx?.close();
}, FIXTURE_TIMEOUT_MS);

/** One round: the simulated PSPs act, we poll DICT and run our due timers. */
async function round(): Promise<void> {
  expect((await fx.sandbox.control('POST', '/dict/simulate/run')).status).toBe(200);
  await fx.services.claims.pollOnce();
  await fx.services.claims.runDueTimers();
}

async function until(what: string, check: () => Promise<boolean>, rounds = 6): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (await check()) return;
    await round();
  }
  throw new Error(`not reached after ${rounds} rounds: ${what}`);
}

const claim = async (id: string) => (await fx.call('GET', `/claims/${id}`)).json;
const keyRow = async (key: string) => (await fx.deps.sql<{ status: string; participant_ispb: string; cid: string }[]>`select status, participant_ispb, cid from pix_keys where key = ${key}`)[0];
const lookup = (key: string, payerId = '52998224725') => fx.call('GET', `/keys/${encodeURIComponent(key)}/lookup`, undefined, { 'pi-payerid': payerId });

async function ourKey(accountNumber: string): Promise<string> {
  const r = await fx.call('POST', '/keys', { keyType: 'CPF', key: OWNERS[accountNumber]!, account: account(accountNumber), owner: naturalPerson(OWNERS[accountNumber]!) });
  expect(r.status).toBe(201);
  return r.json.key;
}
const OWNERS: Record<string, string> = { '7001': '11144477735', '7002': '39053344705', '7003': '71428793860' };

/** The code our user received for a PHONE/EMAIL it claims (possession proof). */
async function code(keyType: string, key: string, accountNumber: string, taxIdNumber: string) {
  const c = await fx.call('POST', '/keys/confirmations', { keyType, key, account: { branch: '0001', accountNumber }, owner: { taxIdNumber } });
  expect(c.status).toBe(201);
  return { id: c.json.id as string, code: fx.sender.lastCode(keyType as 'PHONE', key)! };
}

describe('portability', () => {
  test('as claimer: our customer brings her CPF key from another PSP; the claim walks to COMPLETED and the key is ours', async () => {
    const theirs = seedEntryAt(0).entry; // CPF key at a simulated PSP, owned by that CPF
    const before = await lookup(theirs.key, '39053344705');
    expect(before.json).toMatchObject({ bookTransfer: false, entry: { account: { participant: theirs.account.participant } } });

    const opened = await fx.call('POST', '/claims', { type: 'PORTABILITY', keyType: 'CPF', key: theirs.key, account: account('7100'), owner: naturalPerson(theirs.key, theirs.owner.name) });
    expect(opened.status).toBe(201);
    expect(opened.json).toMatchObject({ role: 'CLAIMER', status: 'OPEN', donorParticipant: theirs.account.participant });
    await until('claim completed', async () => (await claim(opened.json.id)).status === 'COMPLETED');
    expect(await keyRow(theirs.key)).toMatchObject({ status: 'ACTIVE', participant_ispb: '12345678' });

    // the key moved: the cached lookup was invalidated by our pix.keys event
    let after = await lookup(theirs.key, '39053344705');
    for (let i = 0; i < 100 && !after.json.bookTransfer; i++) {
      await Bun.sleep(10);
      after = await lookup(theirs.key, '39053344705');
    }
    expect(after.json).toMatchObject({ bookTransfer: true, entry: { account: { participant: '12345678', accountNumber: '7100' } } });
    // the entry DICT created at completion has the CID we computed: our CPF VSync agrees with DICT's
    expect((await fx.call('POST', '/sync/verifications/CPF')).json.result).toBe('OK');
  });

  test('as donor: the key is locked while the claim is open, our user confirms, the entry is removed and the claim completes', async () => {
    const key = await ourKey('7001');
    const sim = await fx.sandbox.control('POST', '/dict/simulate/claim', { key, type: 'PORTABILITY' });
    expect(sim.status).toBe(200);
    const id = sim.json.claim.id as string;
    await fx.sandbox.control('PUT', '/dict/rules', { claimer: { complete: true } });
    await fx.services.claims.pollOnce();
    expect(await claim(id)).toMatchObject({ role: 'DONOR', status: 'OPEN', nextAction: 'ACKNOWLEDGE' });
    expect((await keyRow(key))!.status).toBe('LOCKED_BY_CLAIM');
    const locked = await fx.call('DELETE', `/keys/${key}`, { reason: 'USER_REQUESTED' });
    expect(locked.json.type).toEndWith('/EntryLockedByClaim');

    await fx.services.claims.runDueTimers();
    expect(await claim(id)).toMatchObject({ status: 'WAITING_RESOLUTION', nextAction: 'CANCEL_DEFAULT' });
    const notified = await fx.deps.sql`select count(*)::int as n from dict_outbox where subject = ${'pix.keys.claims.12345678'} and payload->>'claimId' = ${id}`;
    expect(notified[0]!.n).toBe(2);

    const confirmed = await fx.call('POST', `/claims/${id}/confirm`, { reason: 'USER_REQUESTED' });
    expect(confirmed.json.status).toBe('CONFIRMED');
    expect(await keyRow(key)).toBeUndefined();
    await until('claimer completed', async () => (await claim(id)).status === 'COMPLETED');
  });

  test('left unanswered for 7 days it is cancelled for default, and the timer survives a service restart', async () => {
    const key = await ourKey('7002');
    const sim = await fx.sandbox.control('POST', '/dict/simulate/claim', { key, type: 'PORTABILITY' });
    const id = sim.json.claim.id as string;
    await fx.services.claims.pollOnce();
    await fx.services.claims.runDueTimers();
    const waiting = await claim(id);
    expect(waiting.status).toBe('WAITING_RESOLUTION');
    expect(new Date(waiting.nextActionAt).getTime()).toBe(new Date(waiting.resolutionPeriodEnd).getTime());

    await fx.restart(); // a new process: nothing in memory, the timer is a row
    await fx.advance(7 * DAY_MS - 60_000);
    await fx.services.claims.runDueTimers();
    expect((await claim(id)).status).toBe('WAITING_RESOLUTION');
    const early = await fx.call('POST', `/claims/${id}/cancel`, { reason: 'DEFAULT_OPERATION' });
    expect(early.json.type).toEndWith('/ClaimResolutionPeriodNotEnded');

    await fx.advance(60_001);
    await fx.services.claims.runDueTimers();
    expect(await claim(id)).toMatchObject({ status: 'CANCELLED', cancelReason: 'DEFAULT_OPERATION', cancelledBy: 'DONOR' });
    expect((await keyRow(key))!.status).toBe('ACTIVE');
  });
});

describe('ownership', () => {
  test('as claimer: our user proves possession with a code; the donor\'s user confirms early, so we complete at once', async () => {
    await fx.sandbox.control('PUT', '/dict/rules', { donor: { acknowledge: true, resolve: 'USER_REQUESTED' } });
    const theirs = seedEntryAt(7).entry; // a PHONE key of another person at a simulated PSP
    expect(theirs.keyType).toBe('PHONE');
    const body = { type: 'OWNERSHIP', keyType: 'PHONE', key: theirs.key, account: account('7200'), owner: naturalPerson('71428793860', 'Nova Dona') };
    const unproven = await fx.call('POST', '/claims', body);
    expect(unproven.json.violations).toContainEqual(expect.objectContaining({ field: 'confirmation', rule: 'required' }));
    const opened = await fx.call('POST', '/claims', { ...body, confirmation: await code('PHONE', theirs.key, '7200', '71428793860') });
    expect(opened.status).toBe(201);
    await until('claim completed', async () => (await claim(opened.json.id)).status === 'COMPLETED');
    const done = await claim(opened.json.id);
    expect(done.confirmReason).toBe('USER_REQUESTED');
    expect(new Date(done.completionPeriodEnd).getTime()).toBeLessThan(new Date(done.resolutionPeriodEnd).getTime());
    expect(await keyRow(theirs.key)).toMatchObject({ status: 'ACTIVE', participant_ispb: '12345678' });
  });

  test('a second claim on a key with an open claim is ClaimAlreadyExistsForKey', async () => {
    await fx.sandbox.control('PUT', '/dict/rules', { donor: { acknowledge: false } });
    const theirs = seedEntryAt(12).entry;
    const body = { type: 'OWNERSHIP', keyType: theirs.keyType, key: theirs.key, account: account('7300'), owner: naturalPerson('71428793860', 'Nova Dona') };
    expect((await fx.call('POST', '/claims', { ...body, confirmation: await code('PHONE', theirs.key, '7300', '71428793860') })).status).toBe(201);
    const again = await fx.call('POST', '/claims', { ...body, confirmation: await code('PHONE', theirs.key, '7300', '71428793860') });
    expect(again.json.type).toEndWith('/ClaimAlreadyExistsForKey');
  });
});

describe('listing claims', () => {
  test('the list limit is a whole number: a fraction is refused naming the field, never sent to SQL (was a 500)', async () => {
    const r = await fx.call('GET', '/claims?limit=1.5');
    expect(r.status).toBe(400);
    expect(r.json.violations[0]).toMatchObject({ field: 'limit' });
    expect((await fx.call('GET', '/claims?limit=2')).status).toBe(200);
  });
});
