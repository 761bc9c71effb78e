import { afterAll, beforeAll, expect, test } from 'bun:test';
import { computeCid, vsyncOf } from '../../shared/dict/cid.ts';
import * as M from '../../shared/dict/messages.ts';
import { SANDBOX_PSPS } from '../../shared/participants.ts';
import { seedEntryAt } from '../../services/bacen-sandbox/dict/simulation/seed.ts';
import { cidEntryOf } from '../../services/bacen-sandbox/dict/entries/store.ts';
import { FIXTURE_START_MS_MAX, startDictFixture, type DictFixture } from './support.ts';

let f: DictFixture;
beforeAll(async () => {
  f = await startDictFixture('sdict-seed');
}, FIXTURE_START_MS_MAX);
afterAll(async () => {
  await f?.t.stop();
});

const SEED = 100_000;

test('the simulated PSPs get 100,000 entries in one call; a repeat adds none; entries and CIDs are the deterministic ones', async () => {
  const started = performance.now();
  const r = await f.t.control('POST', '/dict/seed', { count: SEED });
  const ms = Math.round(performance.now() - started);
  console.log(`seeded ${r.json.inserted} DICT entries in ${ms} ms (${Math.round((r.json.inserted * 1000) / ms)} entries/s)`);
  expect(r.json).toMatchObject({ inserted: SEED, total: SEED });
  const [counted] = await f.t.deps.sql<{ n: bigint }[]>`select count(*) as n from dict_entries`;
  expect(Number(counted!.n)).toBe(SEED);
  const [events] = await f.t.deps.sql<{ e: bigint }[]>`select count(*) as e from dict_cid_events where type = 'ADDED'`;
  expect(Number(events!.e)).toBe(SEED);
  expect((await f.t.control('POST', '/dict/seed', { count: SEED })).json).toMatchObject({ inserted: 0, total: SEED });

  // entry 12345 is what seedEntryAt says, and a lookup by another participant finds it
  const { entry, requestId } = seedEntryAt(12_345);
  const got = f.parse(M.GET_ENTRY_RESPONSE, await f.call(f.us, 'GET', `/api/v2/entries/${encodeURIComponent(entry.key)}`, undefined, { 'PI-RequestingParticipant': '12345678', 'PI-PayerId': '0a'.repeat(32) }));
  expect(got.entry).toMatchObject({ key: entry.key, keyType: entry.keyType, owner: { taxIdNumber: entry.owner.taxIdNumber } });

  // a simulated PSP's VSync over its CPF keys equals the XOR of the deterministic CIDs
  const psp = SANDBOX_PSPS[0]!.ispb;
  const cids: string[] = [];
  for (let i = 0; i < SEED; i++) {
    const s = seedEntryAt(i);
    if (s.entry.account.participant === psp && s.entry.keyType === 'CPF') cids.push(computeCid(s.requestId, cidEntryOf(s.entry)));
  }
  const [xor] = await f.t.deps.sql<{ v: string }[]>`select bit_xor(('x' || cid)::bit(256))::text as v from dict_entries where participant = ${psp} and key_type = 'CPF'`;
  expect(BigInt('0b' + xor!.v).toString(16).padStart(64, '0')).toBe(vsyncOf(cids));
  expect(computeCid(requestId, cidEntryOf(entry))).toMatch(/^[0-9a-f]{64}$/);
}, 60_000);
