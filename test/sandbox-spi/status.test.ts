// The sandbox SPI's status query (pacs.028 → signed pacs.002 of the current state), its answer to a badly
// signed payment (signed RJCT DS0G), and the receiver deadline that follows the sandbox clock.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newEndToEndId, newMsgId, newReturnId } from '../../shared/ids.ts';
import { buildPacs002, parsePacs002 } from '../../shared/spi/pacs002.ts';
import { buildPacs004 } from '../../shared/spi/pacs004.ts';
import { buildPacs008, type Pacs008 } from '../../shared/spi/pacs008.ts';
import { buildPacs028 } from '../../shared/spi/pacs028.ts';
import type { XmlSigner } from '../../services/bacen-sandbox/deps.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/support/harness.ts';

const US = '12345678';
const SPI = '00038166';
const PSP = '10000001';
const OTHER = '10000002';
let sb: TestSandbox;
let us: XmlSigner;
let psp: XmlSigner;

const statusOf = (res: any): number => (res.ok ? res.value.status : res.error.kind === 'http' ? res.error.status : 0);
const bodyOf = (res: any): string => String(res.ok ? res.value.body : res.error.body ?? '');
const hdr = (from: string) => ({ from, to: SPI, bizMsgIdr: newMsgId(from), creDt: new Date() });
const tlsOf = (ispb: string) => ({ ...(ispb === US ? sb.pki.participant : sb.pki.psps[ispb]!), ca: sb.pki.ca.cert });

function xmlsecVerify(xml: string): boolean {
  const file = join(sb.dir, `s-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  const p = Bun.spawnSync(['xmlsec1', '--verify', '--trusted-pem', sb.pki.ca.cert, '--id-attr:Id', 'AppHdr', '--id-attr:Id', 'Document', file], { stdout: 'pipe', stderr: 'pipe' });
  rmSync(file, { force: true });
  return p.exitCode === 0;
}

const payment = (from = US, to = PSP, over: Partial<Pacs008> = {}): Pacs008 => ({
  endToEndId: newEndToEndId(from, new Date()), amountCentavos: 1_000n, acceptedAt: new Date(), initiationForm: 'MANU', priority: 'HIGH',
  debtor: { name: 'Ana Pagadora', taxId: '52998224725' }, debtorAccount: { ispb: from, branch: '0001', number: '123456', type: 'CACC' },
  creditor: { name: 'Beto Recebedor', taxId: '11144477735' }, creditorAccount: { ispb: to, branch: '0001', number: '7654321', type: 'CACC' },
  ...over,
});

async function post(path: string, signer: XmlSigner, xml: string, tlsIspb: string) {
  const signed = await signer.signSpi(xml);
  if (!signed.ok) throw new Error(signed.error.detail);
  return sb.client(tlsOf(tlsIspb)).request('POST', path, { body: signed.value });
}
const send = (p: Pacs008, signer = us, tlsIspb = p.debtorAccount.ispb) => post(`/api/v1/out/${tlsIspb}/msgs`, signer, buildPacs008(hdr(p.debtorAccount.ispb), p), tlsIspb);
const ask = (e2e: string, asker = US, signer = us) => post(`/api/v1/out/${asker}/status`, signer, buildPacs028(hdr(asker), { originalEndToEndId: e2e }), asker);

/** Polls `ispb`'s inbox (acking) until `want` messages about `id` arrived or `waitMs` passed. */
async function collect(ispb: string, id: string, want = 1, waitMs = 3_000) {
  const client = sb.client(tlsOf(ispb));
  const got: { type: string; xml: string }[] = [];
  let path = `/api/v1/in/${ispb}/stream/start`;
  const until = Date.now() + waitMs;
  while (got.length < want && Date.now() < until) {
    const body = JSON.parse(bodyOf(await client.request('GET', path)));
    for (const m of body.messages) if (m.xml.includes(id)) got.push(m);
    path = body.pullNext;
    if (body.messages.length === 0) await Bun.sleep(20);
  }
  await client.request('GET', `${path}?max=0`);
  return got;
}
const decidedAtSpi = (e2e: string) => sb.control('GET', `/spi/payments/${e2e}`);

beforeAll(async () => {
  sb = await startTestSandbox('sb-spi-status');
  us = await sb.signerFor(sb.pki.participant);
  psp = await sb.signerFor(sb.pki.psps[PSP]!);
});
afterAll(async () => sb.stop());

describe('status query (pacs.028)', () => {
  test('a settled payment is answered with a signed pacs.002 ACSC, even when its own report was lost', async () => {
    await sb.control('PUT', '/spi/faults', { lostRate: 1 });
    const p = payment();
    expect(statusOf(await send(p))).toBe(201);
    for (let i = 0; i < 100 && (await decidedAtSpi(p.endToEndId)).status !== 200; i++) await Bun.sleep(20);
    await sb.control('DELETE', '/spi/faults');
    const res = await ask(p.endToEndId);
    expect(statusOf(res)).toBe(200);
    const report = parsePacs002(bodyOf(res));
    expect(report).toMatchObject({ ok: true, value: { header: { from: SPI, to: US }, message: { status: 'ACSC', originalEndToEndId: p.endToEndId, originalMsgNmId: 'pacs.008.spi.1.13' } } });
    expect(report.ok && report.value.message.settledAt).toBeInstanceOf(Date);
    expect(xmlsecVerify(bodyOf(res))).toBe(true);
  });

  test('a rejected payment is answered RJCT with its reason; the payee agent may ask too', async () => {
    await sb.control('PUT', '/spi/rules', { rules: [{ ispb: PSP, account: '404', decision: 'reject', reason: 'AC03' }] });
    const p = payment(US, PSP, { creditorAccount: { ispb: PSP, branch: '0001', number: '404', type: 'CACC' } });
    await send(p);
    await collect(US, p.endToEndId);
    await sb.control('PUT', '/spi/rules', { rules: [] });
    for (const [asker, signer] of [[US, us], [PSP, psp]] as const) {
      const res = await ask(p.endToEndId, asker, signer);
      expect(parsePacs002(bodyOf(res))).toMatchObject({ ok: true, value: { header: { to: asker }, message: { status: 'RJCT', reason: 'AC03' } } });
    }
  });

  test('a payment still awaiting its receiver is ACSP; an unknown one is 404; a stranger is refused 403', async () => {
    const p = payment(PSP, US);
    expect(statusOf(await send(p, psp))).toBe(201);
    await collect(US, p.endToEndId); // delivered to us; we do not answer yet
    expect(parsePacs002(bodyOf(await ask(p.endToEndId)))).toMatchObject({ ok: true, value: { message: { status: 'ACSP' } } });
    const stranger = await ask(p.endToEndId, OTHER, await sb.signerFor(sb.pki.psps[OTHER]!));
    expect(statusOf(stranger)).toBe(403);
    const unknown = await ask(newEndToEndId(US, new Date()));
    expect(statusOf(unknown)).toBe(404);
    expect(JSON.parse(bodyOf(unknown)).violations).toMatchObject([{ rule: 'exists' }]);
  });

  test('a status request signed with another key is refused 400 RequestSignatureInvalid', async () => {
    const res = await post(`/api/v1/out/${US}/status`, psp, buildPacs028(hdr(US), { originalEndToEndId: newEndToEndId(US, new Date()) }), US);
    expect(statusOf(res)).toBe(400);
    expect(bodyOf(res)).toContain('RequestSignatureInvalid');
  });
});

describe('a badly signed message', () => {
  test('a payment is answered with a signed pacs.002 RJCT DS0G and moves nothing', async () => {
    const p = payment();
    expect(statusOf(await send(p, psp, US))).toBe(201); // our TLS, someone else's signature
    const [report] = await collect(US, p.endToEndId);
    expect(parsePacs002(report!.xml)).toMatchObject({ ok: true, value: { header: { from: SPI, to: US }, message: { status: 'RJCT', reason: 'DS0G', originalEndToEndId: p.endToEndId } } });
    expect(xmlsecVerify(report!.xml)).toBe(true);
    expect((await decidedAtSpi(p.endToEndId)).status).toBe(404);
  });

  test('a return is answered RJCT DS0G on its ReturnId', async () => {
    const returnId = newReturnId(US, new Date());
    const xml = buildPacs004(hdr(US), { returnId, originalEndToEndId: newEndToEndId(PSP, new Date()), amountCentavos: 100n, reason: 'MD06', returnerIspb: US, receiverIspb: PSP });
    expect(statusOf(await post(`/api/v1/out/${US}/msgs`, psp, xml, US))).toBe(201);
    const [report] = await collect(US, returnId);
    expect(parsePacs002(report!.xml)).toMatchObject({ ok: true, value: { message: { status: 'RJCT', reason: 'DS0G', originalEndToEndId: returnId } } });
  });

  test('a pacs.002 or an unreadable body has no pacs.002 answer: 400 RequestSignatureInvalid', async () => {
    const answer = buildPacs002(hdr(US), { originalMsgId: newMsgId(PSP), originalMsgNmId: 'pacs.008.spi.1.13', originalEndToEndId: newEndToEndId(PSP, new Date()), status: 'ACSP' });
    const res = await post(`/api/v1/out/${US}/msgs`, psp, answer, US);
    expect(statusOf(res)).toBe(400);
    expect(bodyOf(res)).toContain('RequestSignatureInvalid');
    const garbage = await sb.client(tlsOf(US)).request('POST', `/api/v1/out/${US}/msgs`, { body: '<Envelope>not signed</Envelope>' });
    expect(statusOf(garbage)).toBe(400);
    expect(bodyOf(garbage)).toContain('RequestSignatureInvalid');
  });
});

describe('receiver deadline', () => {
  test('follows the sandbox clock: nothing happens in real time, advancing the clock past 10 s rejects AB03', async () => {
    expect((await sb.control('GET', '/spi/settings')).json.receiverTimeoutMs).toBe(10_000);
    const p = payment(PSP, US);
    await send(p, psp);
    await collect(US, p.endToEndId); // the pacs.008, unanswered
    await Bun.sleep(150);
    expect((await decidedAtSpi(p.endToEndId)).status).toBe(404);
    await sb.control('POST', '/clock/advance', { ms: 10_001 });
    const [reject] = await collect(PSP, p.endToEndId, 1, 2_000);
    expect(parsePacs002(reject!.xml)).toMatchObject({ ok: true, value: { message: { status: 'RJCT', reason: 'AB03' } } });
    expect((await decidedAtSpi(p.endToEndId)).json).toMatchObject({ status: 'REJECTED', reason: 'AB03' });
  });
});
