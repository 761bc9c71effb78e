// BR Codes: static and dynamic round trips, refusals with the reason, the preview before paying, paying
// by BR Code, and the CLI.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { ROOT_DIR } from '../../shared/config.ts';
import { crc16 } from '../../shared/spi/brcode.ts';
import { newEndToEndId, newMsgId } from '../../shared/ids.ts';
import { buildPacs008 } from '../../shared/spi/pacs008.ts';
import { cpf, PSP, startSpi, type SpiHarness } from './support/harness.ts';

let h: SpiHarness;
const PAYER = cpf('105836927');
const PAYEE = cpf('847502961');

beforeAll(async () => {
  h = await startSpi('spi-qr');
  await h.openAccount('0004', '6001', PAYER, '200.00');
  await h.registerKey('feira@example.com', 'EMAIL', { taxId: PAYEE, name: 'Feira Livre' });
}, 30_000);
afterAll(async () => h?.stop(), 30_000);

const parse = (brCode: string) => h.http('POST', '/qr/parse', { brCode });
/** re-computes the CRC so only the intended defect remains */
const withCrc = (body: string) => body + crc16(body);

describe('static BR Codes', () => {
  test('round-trip: generated, parsed back to the same fields', async () => {
    const made = await h.http('POST', '/qr/static', { key: 'feira@example.com', amount: '12.34', name: 'Feira Livre', city: 'Recife', txid: 'PEDIDO42' });
    expect(made.status).toBe(201);
    const parsed = await parse(made.json.brCode);
    expect(parsed.json).toMatchObject({ kind: 'static', key: 'feira@example.com', amount: '12.34', name: 'Feira Livre', city: 'Recife', txid: 'PEDIDO42' });
  });

  test('a broken CRC, a truncated code and an oversized field are refused with the field and reason', async () => {
    const good = (await h.http('POST', '/qr/static', { key: 'feira@example.com', name: 'Feira Livre', city: 'Recife' })).json.brCode as string;
    const badCrc = good.slice(0, -1) + (good.endsWith('0') ? '1' : '0');
    expect((await parse(badCrc)).json.violations).toContainEqual(expect.objectContaining({ field: 'brCode.63', rule: 'crc' }));
    const truncated = await parse(good.slice(0, 40));
    expect(truncated.status).toBe(400);
    expect(truncated.json.violations[0].rule).toMatch(/truncated|required/);
    const longName = withCrc(good.slice(0, -8).replace('5911Feira Livre', `5930${'A'.repeat(30)}`) + '6304');
    const oversized = await parse(longName);
    expect(oversized.json.violations).toContainEqual(expect.objectContaining({ field: 'brCode.59', rule: 'max-length' }));
    const tooLong = await h.http('POST', '/qr/static', { key: 'feira@example.com', name: 'N'.repeat(26), city: 'Recife' });
    expect(tooLong.json.violations).toContainEqual(expect.objectContaining({ field: 'name', rule: 'max-length' }));
  });

  test('paying a static BR Code sends a QRES payment carrying the key and txid', async () => {
    const code = (await h.http('POST', '/qr/static', { key: 'feira@example.com', amount: '3.50', name: 'Feira Livre', city: 'Recife', txid: 'BANCA7' })).json.brCode;
    const r = await h.http('POST', '/payments', { debtor: { branch: '0004', number: '6001' }, creditor: { brCode: code } }, { 'idempotency-key': crypto.randomUUID() });
    expect(r.json).toMatchObject({ status: 'SETTLED', amount: '3.50', initiationForm: 'QRES', txid: 'BANCA7', key: 'feira@example.com' });
  });
});

describe('dynamic BR Codes (charges)', () => {
  test('a cob round-trips through its signed payload; the preview shows payee, masked tax id, institution and amount', async () => {
    const charge = await h.http('POST', '/qr/charges', { kind: 'cob', key: 'feira@example.com', amount: '45.90', name: 'Feira Livre', city: 'Recife', expiresInS: 600 });
    expect(charge.status).toBe(201);
    const parsed = await parse(charge.json.brCode);
    expect(parsed.json).toMatchObject({ kind: 'dynamic', url: charge.json.location, amount: '45.90' });
    const preview = await h.http('POST', '/qr/preview', { brCode: charge.json.brCode, payerId: PAYER });
    expect(preview.json).toMatchObject({
      payee: { name: 'Feira Livre', taxId: '***.502.961-**' }, institution: { ispb: PSP, name: 'Banco Simulado Alfa' },
      amount: '45.90', txid: charge.json.txid, expired: false, paid: false, payable: true,
    });
    const paid = await h.http('POST', '/payments', { debtor: { branch: '0004', number: '6001' }, creditor: { brCode: charge.json.brCode } }, { 'idempotency-key': crypto.randomUUID() });
    expect(paid.json).toMatchObject({ status: 'SETTLED', amount: '45.90', initiationForm: 'QRDN', txid: charge.json.txid });
  });

  test('an expired charge shows as expired in the preview and cannot be paid', async () => {
    const charge = await h.http('POST', '/qr/charges', { kind: 'cob', key: 'feira@example.com', amount: '9.99', name: 'Feira Livre', city: 'Recife', expiresInS: 60 });
    await h.base.sql`update spi_charges set created_at = now() - interval '2 minutes' where txid = ${charge.json.txid}`;
    const preview = await h.http('POST', '/qr/preview', { brCode: charge.json.brCode, payerId: PAYER });
    expect(preview.json).toMatchObject({ expired: true, payable: false });
    const r = await h.http('POST', '/payments', { debtor: { branch: '0004', number: '6001' }, creditor: { brCode: charge.json.brCode } }, { 'idempotency-key': crypto.randomUUID() });
    expect(r.status).toBe(409);
    expect(r.json.violations).toContainEqual(expect.objectContaining({ rule: 'expired' }));
  });

  test('our charge paid by another PSP\'s customer becomes CONCLUIDA: the preview then shows it paid', async () => {
    await h.openAccount('0004', '6002', PAYEE, undefined, 'Feira Livre');
    await h.base.sql`update pix_keys set participant_ispb = ${h.config.ispb}, branch = '0004', account_number = '6002' where key = 'feira@example.com'`;
    const charge = await h.http('POST', '/qr/charges', { kind: 'cob', key: 'feira@example.com', amount: '15.00', name: 'Feira Livre', city: 'Recife' });
    const now = new Date();
    const e2e = newEndToEndId(PSP, now);
    const files = h.sandbox.pki.psps[PSP]!;
    const signed = await (await h.sandbox.signerFor(files)).signSpi(buildPacs008({ from: PSP, to: h.config.bacenIspb, bizMsgIdr: newMsgId(PSP), creDt: now }, {
      endToEndId: e2e, amountCentavos: 1_500n, acceptedAt: now, initiationForm: 'QRDN', priority: 'HIGH', key: 'feira@example.com', txid: charge.json.txid,
      debtor: { name: 'Pagador Externo', taxId: cpf('271828182') }, debtorAccount: { ispb: PSP, branch: '0001', number: '42', type: 'CACC' },
      creditor: { name: 'Feira Livre', taxId: PAYEE }, creditorAccount: { ispb: h.config.ispb, branch: '0004', number: '6002', type: 'CACC' },
    }));
    if (!signed.ok) throw new Error(signed.error.detail);
    const sent = await h.sandbox.client({ ...files, ca: h.sandbox.pki.ca.cert }).request('POST', `/api/v1/out/${PSP}/msgs`, { body: signed.value });
    expect(sent.ok).toBe(true);
    await h.until(async () => (await h.base.sql`select status from spi_charges where txid = ${charge.json.txid}`)[0]!.status === 'CONCLUIDA');
    const preview = await h.http('POST', '/qr/preview', { brCode: charge.json.brCode, payerId: PAYER });
    expect(preview.json).toMatchObject({ paid: true, payable: false });
    expect((await h.http('GET', '/accounts/0004/6002/balance')).json.balance).toBe('15.00');
  });

  test('a cobv carries its due date', async () => {
    const charge = await h.http('POST', '/qr/charges', { kind: 'cobv', key: 'feira@example.com', amount: '100.00', name: 'Feira Livre', city: 'Recife', dueDate: '2099-01-31' });
    const preview = await h.http('POST', '/qr/preview', { brCode: charge.json.brCode, payerId: PAYER });
    expect(preview.json).toMatchObject({ dueDate: '2099-01-31', amount: '100.00', expired: false });
  });

  test('a cobv due date that is not a calendar date is a 400 naming dueDate, and no charge is kept (0000-00-00 was a 500)', async () => {
    const before = (await h.base.sql`select count(*)::int as n from spi_charges`)[0]!.n;
    for (const dueDate of ['0000-00-00', '2026-02-30', '2026-13-01', '0999-01-01']) {
      const r = await h.http('POST', '/qr/charges', { kind: 'cobv', key: 'feira@example.com', amount: '100.00', name: 'Feira Livre', city: 'Recife', dueDate });
      expect(r.status, dueDate).toBe(400);
      expect(r.json.violations[0], dueDate).toMatchObject({ field: 'dueDate' });
    }
    expect((await h.base.sql`select count(*)::int as n from spi_charges`)[0]!.n).toBe(before);
  });
});

describe('./fluxiq qr', () => {
  const cli = (...args: string[]) => {
    const p = Bun.spawnSync(['bun', join(ROOT_DIR, 'cli/main.ts'), 'qr', ...args], { env: { ...process.env, LOG_LEVEL: 'silent' } });
    return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
  };
  test('make prints the code as its last line and parse prints its fields as JSON', () => {
    const made = cli('make', '--key', 'feira@example.com', '--amount', '12.34', '--name', 'Feira Livre', '--city', 'Recife', '--txid', 'T1');
    expect(made.code).toBe(0);
    const code = made.out.trim().split('\n').at(-1)!;
    const parsed = cli('parse', code);
    expect(parsed.code).toBe(0);
    expect(JSON.parse(parsed.out)).toMatchObject({ key: 'feira@example.com', amount: '12.34', txid: 'T1' });
  });
  test('parse exits 1 with the reason on a broken code', () => {
    const r = cli('parse', '00020126370014br.gov.bcb.pix0115ana@example.com5204000053039865802BR5909Ana Souza6009Sao Paulo62070503***63041234');
    expect(r.code).toBe(1);
    expect(r.err).toContain('crc');
  });
});
