// The sandbox SPI over mTLS: payments settle gross between PI accounts, rejections carry the right
// reason, our ISPB answers or times out, the inbox delivers each message once, and every pacs.002 the
// sandbox signs verifies with xmlsec1.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newEndToEndId, newMsgId } from '../../shared/ids.ts';
import { parseCamt052 } from '../../shared/spi/camt052.ts';
import { parseCamt053 } from '../../shared/spi/camt053.ts';
import { parseSpiMessage } from '../../shared/spi/message.ts';
import { buildPacs002, parsePacs002 } from '../../shared/spi/pacs002.ts';
import { buildPacs008, type Pacs008 } from '../../shared/spi/pacs008.ts';
import { buildCanonicalXml, el } from '../../shared/xml/build.ts';
import type { XmlSigner } from '../../services/bacen-sandbox/deps.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/support/harness.ts';

const US = '12345678';
const SPI = '00038166';
const PSP = '10000001';
let sb: TestSandbox;
let us: XmlSigner;
let psp: XmlSigner;

function xmlsecVerify(xml: string): boolean {
  const file = join(sb.dir, `v-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  const p = Bun.spawnSync(['xmlsec1', '--verify', '--trusted-pem', sb.pki.ca.cert, '--id-attr:Id', 'AppHdr', '--id-attr:Id', 'Document', file], { stdout: 'pipe', stderr: 'pipe' });
  rmSync(file, { force: true });
  return p.exitCode === 0;
}

const payment = (over: Partial<Pacs008> = {}, from = US, to = PSP): Pacs008 => ({
  endToEndId: newEndToEndId(from, new Date()), amountCentavos: 1_234n, acceptedAt: new Date(), initiationForm: 'MANU', priority: 'HIGH',
  debtor: { name: 'Ana Pagadora', taxId: '52998224725' }, debtorAccount: { ispb: from, branch: '0001', number: '123456', type: 'CACC' },
  creditor: { name: 'Beto Recebedor', taxId: '11144477735' }, creditorAccount: { ispb: to, branch: '0001', number: '7654321', type: 'CACC' },
  ...over,
});

async function post(signer: XmlSigner, from: string, xml: string, tls = sb.pki.participant) {
  const signed = await signer.signSpi(xml);
  if (!signed.ok) throw new Error(signed.error.detail);
  const res = await sb.client({ ...tls, ca: sb.pki.ca.cert }).request('POST', `/api/v1/out/${from}/msgs`, { body: signed.value });
  if (!res.ok && res.error.kind !== 'http') throw new Error(`transport: ${res.error.kind}`);
  return { status: statusOf(res), body: bodyOf(res), signed: signed.value };
}

async function send(p: Pacs008, signer = us, tls = sb.pki.participant) {
  const from = p.debtorAccount.ispb;
  return post(signer, from, buildPacs008({ from, to: SPI, bizMsgIdr: newMsgId(from), creDt: new Date() }, p), tls);
}

/** Polls `ispb`'s inbox (acking each batch) until `want` messages matching `match` arrived, or 5 s passed. */
async function collect(ispb: string, tls: { cert: string; key: string }, match: (xml: string) => boolean, want = 1, waitMs = 5_000) {
  const client = sb.client({ ...tls, ca: sb.pki.ca.cert });
  const got: { type: string; xml: string }[] = [];
  let path = `/api/v1/in/${ispb}/stream/start`;
  const until = Date.now() + waitMs;
  while (got.length < want && Date.now() < until) {
    const res = await client.request('GET', path);
    if (!res.ok || res.value.status !== 200) throw new Error(`poll failed ${JSON.stringify(res)}`);
    const body = JSON.parse(String(res.value.body));
    for (const m of body.messages) if (match(m.xml)) got.push(m);
    path = body.pullNext;
    if (body.messages.length === 0) await Bun.sleep(20);
  }
  await client.request('GET', `${path}?max=0`); // acknowledge the last batch
  return got;
}

/** HTTP status of a client result (non-2xx answers come back as kind 'http' errors) */
const statusOf = (res: any): number => (res.ok ? res.value.status : res.error.kind === 'http' ? res.error.status : 0);
const bodyOf = (res: any): string => String(res.ok ? res.value.body : res.error.body ?? '');

const aboutE2e = (e2e: string) => (xml: string) => xml.includes(`<OrgnlEndToEndId>${e2e}</OrgnlEndToEndId>`);
const balances = async () => Object.fromEntries((await sb.control('GET', '/spi/accounts')).json.accounts.map((a: any) => [a.ispb, BigInt(a.balanceCentavos)]));

beforeAll(async () => {
  sb = await startTestSandbox('sandbox-spi');
  us = await sb.signerFor(sb.pki.participant);
  psp = await sb.signerFor(sb.pki.psps[PSP]!);
});
afterAll(async () => {
  await sb.control('DELETE', '/spi/traffic');
  await sb.stop();
});

describe('payments from us to a simulated PSP', () => {
  test('a payment settles with ACSC and moves exactly its amount between the PI accounts', async () => {
    const before = await balances();
    const p = payment({ amountCentavos: 12_345n });
    const res = await send(p);
    expect(res.status).toBe(201);
    const [report] = await collect(US, sb.pki.participant, aboutE2e(p.endToEndId));
    const parsed = parsePacs002(report!.xml);
    expect(parsed).toMatchObject({ ok: true, value: { header: { from: SPI, to: US }, message: { status: 'ACSC', originalEndToEndId: p.endToEndId } } });
    expect(xmlsecVerify(report!.xml)).toBe(true);
    const after = await balances();
    expect(after[US]).toBe(before[US]! - 12_345n);
    expect(after[PSP]).toBe(before[PSP]! + 12_345n);
  });

  test('a payment above our PI balance is rejected AM04 and moves nothing', async () => {
    await sb.control('PUT', `/spi/accounts/${US}`, { balanceCentavos: '1000' });
    const p = payment({ amountCentavos: 1_001n });
    await send(p);
    const [report] = await collect(US, sb.pki.participant, aboutE2e(p.endToEndId));
    expect(parsePacs002(report!.xml)).toMatchObject({ ok: true, value: { message: { status: 'RJCT', reason: 'AM04' } } });
    expect((await balances())[US]).toBe(1000n);
    await sb.control('PUT', `/spi/accounts/${US}`, { balanceCentavos: '100000000' });
  });

  test('a simulated PSP that does not know the account rejects AC03 (rules)', async () => {
    await sb.control('PUT', '/spi/rules', { rules: [{ ispb: PSP, account: '999', decision: 'reject', reason: 'AC03' }] });
    const p = payment({ creditorAccount: { ispb: PSP, branch: '0001', number: '999', type: 'CACC' } });
    await send(p);
    const [report] = await collect(US, sb.pki.participant, aboutE2e(p.endToEndId));
    expect(parsePacs002(report!.xml)).toMatchObject({ ok: true, value: { message: { status: 'RJCT', reason: 'AC03' } } });
    await sb.control('PUT', '/spi/rules', { rules: [] });
  });

  test('a second payment with the same EndToEndId is refused AM05 and settles nothing twice', async () => {
    const p = payment({ amountCentavos: 500n });
    const before = await balances();
    await send(p);
    await collect(US, sb.pki.participant, aboutE2e(p.endToEndId));
    await send(p);
    const [dup] = await collect(US, sb.pki.participant, aboutE2e(p.endToEndId));
    expect(parsePacs002(dup!.xml)).toMatchObject({ ok: true, value: { message: { status: 'RJCT', reason: 'AM05' } } });
    expect((await balances())[US]).toBe(before[US]! - 500n);
  });

  test('a payment signed with another key is answered RJCT DS0G, one posted for another ISPB is refused; nothing is recorded', async () => {
    const p = payment();
    const xml = buildPacs008({ from: US, to: SPI, bizMsgIdr: newMsgId(US), creDt: new Date() }, p);
    const byPsp = await psp.signSpi(xml);
    const res = await sb.client().request('POST', `/api/v1/out/${US}/msgs`, { body: byPsp.ok ? byPsp.value : '' });
    expect(statusOf(res)).toBe(201);
    const [report] = await collect(US, sb.pki.participant, aboutE2e(p.endToEndId));
    expect(parsePacs002(report!.xml)).toMatchObject({ ok: true, value: { header: { from: SPI, to: US }, message: { status: 'RJCT', reason: 'DS0G' } } });
    expect(xmlsecVerify(report!.xml)).toBe(true);
    const ours = await us.signSpi(xml);
    const other = await sb.client().request('POST', `/api/v1/out/${PSP}/msgs`, { body: ours.ok ? ours.value : '' });
    expect(statusOf(other)).toBe(403);
    expect((await sb.control('GET', `/spi/payments/${p.endToEndId}`)).status).toBe(404);
  });
});

describe('payments to our ISPB', () => {
  test('the sandbox delivers the pacs.008 to our inbox, our ACSP settles it and both sides get ACSC', async () => {
    const p = payment({ amountCentavos: 777n }, PSP, US);
    const before = await balances();
    expect((await send(p, psp, sb.pki.psps[PSP]!)).status).toBe(201);
    const [delivered] = await collect(US, sb.pki.participant, (x) => x.includes(`<EndToEndId>${p.endToEndId}</EndToEndId>`));
    const inbound = parseSpiMessage(delivered!.xml);
    expect(inbound).toMatchObject({ ok: true, value: { type: 'pacs.008', header: { from: PSP }, signed: true } });
    const answer = buildPacs002({ from: US, to: SPI, bizMsgIdr: newMsgId(US), creDt: new Date() },
      { originalMsgId: inbound.ok ? inbound.value.header.bizMsgIdr : '', originalMsgNmId: 'pacs.008.spi.1.13', originalEndToEndId: p.endToEndId, status: 'ACSP' });
    expect((await post(us, US, answer)).status).toBe(201);
    const [ours] = await collect(US, sb.pki.participant, aboutE2e(p.endToEndId));
    expect(parsePacs002(ours!.xml)).toMatchObject({ ok: true, value: { message: { status: 'ACSC' } } });
    const [theirs] = await collect(PSP, sb.pki.psps[PSP]!, aboutE2e(p.endToEndId));
    expect(parsePacs002(theirs!.xml)).toMatchObject({ ok: true, value: { message: { status: 'ACSC' } } });
    expect((await balances())[US]).toBe(before[US]! + 777n);
  });

  test('without our answer within the deadline the payment is rejected AB03, and a late answer is refused', async () => {
    await sb.control('PUT', '/spi/settings', { receiverTimeoutMs: 200 });
    const p = payment({}, PSP, US);
    await send(p, psp, sb.pki.psps[PSP]!);
    const got = await collect(US, sb.pki.participant, (x) => x.includes(p.endToEndId), 2);
    const reject = got.find((m) => m.type === 'pacs.002');
    expect(parsePacs002(reject!.xml)).toMatchObject({ ok: true, value: { message: { status: 'RJCT', reason: 'AB03' } } });
    const late = buildPacs002({ from: US, to: SPI, bizMsgIdr: newMsgId(US), creDt: new Date() }, { originalMsgId: newMsgId(PSP), originalMsgNmId: 'pacs.008.spi.1.13', originalEndToEndId: p.endToEndId, status: 'ACSP' });
    expect((await post(us, US, late)).status).toBe(409);
    expect((await sb.control('GET', `/spi/payments/${p.endToEndId}`)).json).toMatchObject({ status: 'REJECTED', reason: 'AB03' });
    await sb.control('PUT', '/spi/settings', { receiverTimeoutMs: 10_000 });
  });
});

describe('inbox', () => {
  test('concurrent pollers each get disjoint messages; acknowledged ones never come back', async () => {
    const engine = await (await import('../../services/bacen-sandbox/spi/engine.ts')).spiEngineOf(sb.deps);
    await collect(US, sb.pki.participant, () => false, 1, 300); // drain whatever earlier tests left
    for (let i = 0; i < 60; i++) void engine.deliver(US, 'test', newMsgId(SPI), `<T>${i}</T>`);
    await engine.inbox.drain();
    const seen: string[] = [];
    const poller = async () => {
      const client = sb.client();
      let path = `/api/v1/in/${US}/stream/start?max=5`;
      for (let round = 0; round < 40 && seen.length < 60; round++) {
        const body = JSON.parse(bodyOf(await client.request('GET', path)));
        for (const m of body.messages) seen.push(m.xml);
        path = `${body.pullNext}?max=5`;
      }
      await client.request('GET', path.replace('max=5', 'max=0'));
    };
    await Promise.all([poller(), poller(), poller(), poller()]);
    expect(seen.length).toBe(60);
    expect(new Set(seen).size).toBe(60);
    const again = await sb.client().request('GET', `/api/v1/in/${US}/stream/start`);
    expect(JSON.parse(bodyOf(again)).messages.filter((m: any) => m.xml.startsWith('<T>'))).toEqual([]);
  });

  test('a poll with ?waitMs= on an empty inbox is answered when a message arrives (long polling), or empty when the wait ends', async () => {
    const engine = await (await import('../../services/bacen-sandbox/spi/engine.ts')).spiEngineOf(sb.deps);
    await collect(US, sb.pki.participant, () => false, 1, 300); // drain whatever earlier tests left
    const client = sb.client();
    const t0 = performance.now();
    const empty = JSON.parse(bodyOf(await client.request('GET', `/api/v1/in/${US}/stream/start?waitMs=150`)));
    expect(empty.messages).toEqual([]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    const t1 = performance.now();
    const pending = client.request('GET', `${empty.pullNext}?waitMs=1500`);
    setTimeout(() => void engine.deliver(US, 'test', newMsgId(SPI), '<Wake>1</Wake>'), 50);
    const body = JSON.parse(bodyOf(await pending));
    expect(body.messages.map((m: any) => m.xml)).toEqual(['<Wake>1</Wake>']);
    expect(performance.now() - t1).toBeLessThan(1_000);
    await client.request('GET', `${body.pullNext}?max=0`);
  });

  test('another participant cannot read our inbox', async () => {
    const res = await sb.client({ ...sb.pki.psps[PSP]!, ca: sb.pki.ca.cert }).request('GET', `/api/v1/in/${US}/stream/start`);
    expect(statusOf(res)).toBe(403);
  });
});

describe('traffic, statements, STR', () => {
  test('the generator sends N payments to us, each delivered to our inbox', async () => {
    await sb.control('PUT', '/spi/settings', { receiverTimeoutMs: 100 });
    const start = (await sb.control('POST', '/spi/traffic', { ratePerS: 200, seconds: 0.1 })).json;
    expect(start.total).toBe(20);
    const { json } = await sb.control('POST', '/spi/traffic/wait');
    expect(json.generated.pacs008).toBe(20);
    const got = await collect(US, sb.pki.participant, (x) => x.includes('<MsgDefIdr>pacs.008.spi'), 20);
    expect(got.length).toBe(20);
    await sb.control('PUT', '/spi/settings', { receiverTimeoutMs: 10_000 });
  });

  test('camt.052 and camt.053 agree with the PI balance; an STR transfer moves it', async () => {
    const client = sb.client();
    const strBody = buildCanonicalXml(el('StrTransferRequest', null, el('TransferId', null, `STR-${Date.now()}`), el('Direction', null, 'TO_PI'), el('Amount', null, '10.00'), el('Signature', null)));
    const before = (await balances())[US]!;
    const signed = await us.signDict(strBody);
    const str = await client.request('POST', `/api/v1/str/${US}/transfers`, { body: signed.ok ? signed.value : '' });
    expect(statusOf(str)).toBe(200);
    expect((await balances())[US]).toBe(before + 1000n);
    const bal = await client.request('GET', `/api/v1/balance/${US}`);
    const camt052 = parseCamt052(String(bal.ok && bal.value.body));
    expect(camt052).toMatchObject({ ok: true, value: { message: { accountIspb: US, balanceCentavos: before + 1000n } } });
    expect(xmlsecVerify(String(bal.ok && bal.value.body))).toBe(true);
    const stmt = await client.request('GET', `/api/v1/statement/${US}?from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    const camt053 = parseCamt053(String(stmt.ok && stmt.value.body));
    expect(camt053.ok).toBe(true);
    if (camt053.ok) {
      expect(camt053.value.message.closingCentavos).toBe(before + 1000n);
      expect(camt053.value.message.entries.some((e) => e.kind === 'STR' && e.amountCentavos === 1000n)).toBe(true);
    }
  });
});

describe('message faults', () => {
  for (const [mode, body, check] of [
    ['lost', { lostRate: 1 }, (got: any[]) => expect(got.length).toBe(0)],
    ['duplicated', { duplicateRate: 1 }, (got: any[]) => expect(got.length).toBe(2)],
    ['malformed', { malformedRate: 1 }, (got: any[]) => expect(parsePacs002(got[0].xml)).toMatchObject({ ok: false, error: { rule: 'well-formed' } })],
    ['badly signed', { badSignatureRate: 1 }, (got: any[]) => { expect(xmlsecVerify(got[0].xml)).toBe(false); expect(sb.verifier.verify(got[0].xml, readFileSync(sb.pki.bacen.cert, 'utf8'))).toMatchObject({ ok: false }); }],
  ] as const) {
    test(`${mode} pacs.002 is observable`, async () => {
      await sb.control('PUT', '/spi/faults', body);
      const p = payment({ amountCentavos: 1n });
      await send(p);
      await (await import('../../services/bacen-sandbox/spi/engine.ts')).spiEngineOf(sb.deps).then(async (e) => { await Bun.sleep(50); await e.settler.drain(); await e.inbox.drain(); });
      const got = await collect(US, sb.pki.participant, (x) => x.includes(p.endToEndId) || x.length < 4000 && x.includes('pacs.002'), mode === 'duplicated' ? 2 : 1, mode === 'lost' ? 400 : 3_000);
      await sb.control('DELETE', '/spi/faults');
      check(got);
      expect((await sb.control('GET', '/spi/stats')).json.faults[mode === 'badly signed' ? 'badSignature' : mode]).toBeGreaterThan(0);
    });
  }

  test('connection resets and latency come from the transport fault rules on /api/v1/out', async () => {
    const { json } = await sb.control('POST', '/faults', { prefix: '/api/v1/out', resetRate: 1 });
    const p = payment();
    const signed = await us.signSpi(buildPacs008({ from: US, to: SPI, bizMsgIdr: newMsgId(US), creDt: new Date() }, p));
    const res = await sb.client().request('POST', `/api/v1/out/${US}/msgs`, { body: signed.ok ? signed.value : '' });
    expect(res.ok).toBe(false);
    await sb.control('DELETE', `/faults/${json.id}`);
  });
});
