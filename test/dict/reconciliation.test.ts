// Reconciliation (PIX.md § Reconciliation): the sync worker compares our VSync per key type with DICT's;
// on a mismatch it fetches the CID set file, repairs with reason RECONCILIATION and writes a repair report.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import * as M from '../../shared/dict/messages.ts';
import { createDictTransport } from '../../services/dict/dictapi/transport.ts';
import { createDictApi } from '../../services/dict/dictapi/api.ts';
import { readPem } from '../../shared/pki.ts';
import { createXmlSigner } from '../../shared/xml/signer.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { account, dictFixture, naturalPerson, type DictFixture, FIXTURE_TIMEOUT_MS } from './support.ts';

let fx: DictFixture;
beforeAll(async () => {
  fx = await dictFixture('recon');
}, FIXTURE_TIMEOUT_MS);
afterAll(async () => {
  await fx?.close();
}, FIXTURE_TIMEOUT_MS);

const owner = naturalPerson('52998224725', 'Maria da Silva');
const reports = async () => (await fx.call('GET', '/sync/reports')).json.reports as any[];

describe('sync verification', () => {
  test('with nothing drifted DICT answers OK and the report says so', async () => {
    expect((await fx.call('POST', '/keys', { keyType: 'EVP', account: account('8001'), owner })).status).toBe(201);
    const r = await fx.call('POST', '/sync/verifications/EVP');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ keyType: 'EVP', result: 'OK', added: 0, removed: 0 });
  });

  test('an entry DICT holds for us but we lost is found by its CID and written back with reason RECONCILIATION', async () => {
    // created in DICT directly with our certificate and signature, as if our commit had failed after DICT's answer
    const signer = await fx.sandbox.signerFor(fx.sandbox.pki.participant);
    const client = fx.sandbox.client();
    const requestId = randomUUID();
    const body = M.CREATE_ENTRY_REQUEST.build({
      entry: { key: '', keyType: 'EVP', account: { participant: '12345678', branch: '0001', accountNumber: '8002', accountType: 'CACC', openingDate: '2020-01-10T03:00:00.000Z' }, owner },
      reason: 'USER_REQUESTED',
      requestId,
    });
    const signed = await signer.signDict(body);
    if (!signed.ok) throw new Error(signed.error.detail);
    const created = await client.request('POST', '/api/v2/entries/', { body: signed.value });
    expect(created.ok).toBe(true);
    const lostKey = M.CREATE_ENTRY_RESPONSE.parse(created.ok ? created.value.body : '');
    if (!lostKey.ok) throw new Error(lostKey.error.detail);

    const r = await fx.call('POST', '/sync/verifications/EVP');
    expect(r.json).toMatchObject({ result: 'REPAIRED', added: 1, removed: 0 });
    expect(r.json.detail.cidMismatches).toEqual([]);
    expect(r.json.detail.reverification).toBe('OK');
    const [row] = await fx.deps.sql`select account_number, request_id from pix_keys where key = ${lostKey.value.entry.key}`;
    expect(row).toMatchObject({ account_number: '8002', request_id: requestId });
    const [audit] = await fx.deps.sql`select detail from audit_log where entity_id = ${lostKey.value.entry.key} and action = 'key.created'`;
    expect(audit!.detail.reason).toBe('RECONCILIATION');
    expect((await fx.call('POST', '/sync/verifications/EVP')).json.result).toBe('OK');
  });

  test('an entry we hold but DICT does not is removed with reason RECONCILIATION', async () => {
    const ghost = await fx.services.keys.insertLocally({
      key: randomUUID(), keyType: 'EVP',
      account: { participant: '12345678', branch: '0001', accountNumber: '8003', accountType: 'CACC', openingDate: new Date('2020-01-10T03:00:00Z') },
      owner, creationDate: new Date(), keyOwnershipDate: new Date(),
    }, randomUUID(), 'USER_REQUESTED', { actor: 'test' });
    // a row this fresh may be a registration still settling: left alone until it is a minute old
    const fresh = await fx.call('POST', '/sync/verifications/EVP');
    expect(fresh.json).toMatchObject({ result: 'FAILED', removed: 0 });
    await fx.advance(61_000);
    const r = await fx.call('POST', '/sync/verifications/EVP');
    expect(r.json).toMatchObject({ result: 'REPAIRED', added: 0, removed: 1 });
    expect(r.json.detail.removedCids).toEqual([ghost.cid]);
    expect(await fx.deps.sql`select 1 from pix_keys where key = ${ghost.key}`).toHaveLength(0);
    const [audit] = await fx.deps.sql`select detail from audit_log where entity_id = ${ghost.key} and action = 'key.removed'`;
    expect(audit!.detail.reason).toBe('RECONCILIATION');
  });

  test('a drifted VSync counter (entries intact) is recomputed from the CIDs', async () => {
    await fx.deps.sql`update dict_vsyncs set vsync = ${'f'.repeat(64)} where key_type = 'EVP'`;
    const r = await fx.call('POST', '/sync/verifications/EVP');
    expect(r.json).toMatchObject({ result: 'REPAIRED', added: 0, removed: 0 });
    expect(r.json.detail.reverification).toBe('OK');
    const all = await reports();
    expect(all.map((x) => x.result)).toEqual(['REPAIRED', 'REPAIRED', 'FAILED', 'OK', 'REPAIRED', 'OK']);
  });
});

describe('sync reports', () => {
  test('the list limit is a whole number: a fraction is refused naming the field, never sent to SQL (was a 500)', async () => {
    const r = await fx.call('GET', '/sync/reports?limit=72.000001');
    expect(r.status).toBe(400);
    expect(r.json.violations[0]).toMatchObject({ field: 'limit' });
    expect((await fx.call('GET', '/sync/reports?limit=72')).status).toBe(200);
  });
});

describe('DICT answers are verified', () => {
  test('an answer signed by anyone but BACEN is discarded (503), never acted upon', async () => {
    const signer = await createXmlSigner({ keyPem: readPem(fx.sandbox.pki.participant.key), certPem: readPem(fx.sandbox.pki.participant.cert), threads: 0 });
    const transport = createDictTransport({
      bacen: fx.sandbox.client(),
      signer,
      trustedCaPem: readPem(fx.sandbox.pki.ca.cert),
      bacenCertPem: readPem(fx.sandbox.pki.participant.cert), // not BACEN's certificate
      bacenIspb: '00038166',
      logger: createLogger('test', 'silent'),
    });
    const api = createDictApi(transport, { ispb: '12345678' });
    const r = await api.getCategory();
    await signer.close();
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('ServiceUnavailable');
      expect(r.error.detail).toContain('invalid signature');
    }
  });
});
