// Returns (pacs.004) both ways: partial and full, never above the original.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { newEndToEndId, newMsgId, newReturnId } from '../../shared/ids.ts';
import { buildPacs004 } from '../../shared/spi/pacs004.ts';
import { buildPacs008 } from '../../shared/spi/pacs008.ts';
import type { BacenClient } from '../../shared/bacen/client.ts';
import type { XmlSigner } from '../../services/bacen-sandbox/deps.ts';
import { createSpiApp } from '../../services/spi/app.ts';
import { cpf, PSP, startSpi, type SpiHarness } from './support/harness.ts';

let h: SpiHarness;
let pspSigner: XmlSigner;
let pspClient: BacenClient;
const HOLDER = cpf('318574925');
const PAYEE = cpf('653728194');

beforeAll(async () => {
  h = await startSpi('spi-returns');
  await h.openAccount('0003', '5001', HOLDER, '100.00');
  await h.registerKey('dora@example.com', 'EMAIL', { taxId: PAYEE, name: 'Dora Recebedora' });
  const files = h.sandbox.pki.psps[PSP]!;
  pspSigner = await h.sandbox.signerFor(files);
  pspClient = h.sandbox.client({ ...files, ca: h.sandbox.pki.ca.cert });
}, 30_000);
afterAll(async () => h?.stop(), 30_000);

async function post(xml: string) {
  const signed = await pspSigner.signSpi(xml);
  if (!signed.ok) throw new Error(signed.error.detail);
  const r = await pspClient.request('POST', `/api/v1/out/${PSP}/msgs`, { body: signed.value });
  if (!r.ok) throw new Error(JSON.stringify(r.error));
}
const balance = async () => (await h.http('GET', '/accounts/0003/5001/balance')).json.balance as string;
const txStatus = async (e2e: string) => (await h.base.sql`select status from transactions where end_to_end_id = ${e2e}`)[0]?.status as string | undefined;

describe('returning a payment we received', () => {
  let e2e: string;
  beforeAll(async () => {
    const now = new Date();
    e2e = newEndToEndId(PSP, now);
    await post(buildPacs008({ from: PSP, to: h.config.bacenIspb, bizMsgIdr: newMsgId(PSP), creDt: now }, {
      endToEndId: e2e, amountCentavos: 3_000n, acceptedAt: now, initiationForm: 'MANU', priority: 'HIGH',
      debtor: { name: 'Eva Pagadora', taxId: PAYEE }, debtorAccount: { ispb: PSP, branch: '0001', number: '11223344', type: 'CACC' },
      creditor: { name: 'Cliente', taxId: HOLDER }, creditorAccount: { ispb: h.config.ispb, branch: '0003', number: '5001', type: 'CACC' },
    }));
    await h.until(async () => (await txStatus(e2e)) === 'SETTLED');
  });

  const ret = (amount: string) => h.http('POST', '/returns', { endToEndId: e2e, amount, reason: 'MD06' });
  const settledReturn = async (id: string) => h.until(async () => (await h.http('GET', `/returns/${id}`)).json.status === 'SETTLED');

  test('a partial return settles, debits the payee and marks the payment partially returned', async () => {
    expect(await balance()).toBe('130.00');
    const r = await ret('10.00');
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ status: 'SENT', amount: '10.00', direction: 'OUTBOUND' });
    await settledReturn(r.json.returnId);
    await h.until(async () => (await txStatus(e2e)) === 'PARTIALLY_RETURNED');
    expect(await balance()).toBe('120.00');
  });

  test('returns above what is left of the original are refused and hold nothing', async () => {
    const r = await ret('20.01');
    expect(r.status).toBe(400);
    expect(r.json.violations).toContainEqual(expect.objectContaining({ field: 'amount', rule: 'returnable' }));
    expect((await h.http('GET', '/accounts/0003/5001/balance')).json.reserved).toBe('0.00');
  });

  test('returning exactly the rest settles and the payment is fully returned; nothing more can go', async () => {
    const r = await ret('20.00');
    expect(r.status).toBe(201);
    await settledReturn(r.json.returnId);
    await h.until(async () => (await txStatus(e2e)) === 'RETURNED');
    expect(await balance()).toBe('100.00');
    const more = await ret('0.01');
    expect(more.status).toBe(409);
    const [sum] = await h.base.sql`select sum(amount_centavos)::bigint as s from spi_returns where end_to_end_id = ${e2e} and status = 'SETTLED'`;
    expect(sum!.s).toBe(3_000n);
  });
});

describe('a return of our payment', () => {
  test('is credited back to the payer and the payment becomes partially returned', async () => {
    const paid = await h.http('POST', '/payments', { amount: '40.00', debtor: { branch: '0003', number: '5001' }, creditor: { key: 'dora@example.com' } }, { 'idempotency-key': crypto.randomUUID() });
    expect(paid.json.status).toBe('SETTLED');
    const before = Number(await balance());
    const now = new Date();
    const returnId = newReturnId(PSP, now);
    await post(buildPacs004({ from: PSP, to: h.config.bacenIspb, bizMsgIdr: newMsgId(PSP), creDt: now }, {
      returnId, originalEndToEndId: paid.json.endToEndId, amountCentavos: 1_500n, reason: 'BE08', returnerIspb: PSP, receiverIspb: h.config.ispb,
    }));
    await h.until(async () => (await txStatus(paid.json.endToEndId)) === 'PARTIALLY_RETURNED');
    expect(Number(await balance())).toBeCloseTo(before + 15, 2);
    const status = await h.http('GET', `/payments/${paid.json.endToEndId}`);
    expect(status.json).toMatchObject({ status: 'PARTIALLY_RETURNED', returnedAmount: '15.00' });
    const [n] = await h.base.sql`select count(*)::int as n from ledger_entries where ref = ${'RTI:' + returnId}`;
    expect(n!.n).toBe(2);
  });
});

describe('a restart while our return awaits its report', () => {
  test('the return is held again and settled by the report waiting in the inbox', async () => {
    const now = new Date();
    const e2e = newEndToEndId(PSP, now);
    await post(buildPacs008({ from: PSP, to: h.config.bacenIspb, bizMsgIdr: newMsgId(PSP), creDt: now }, {
      endToEndId: e2e, amountCentavos: 800n, acceptedAt: now, initiationForm: 'MANU', priority: 'HIGH',
      debtor: { name: 'Lia Pagadora', taxId: PAYEE }, debtorAccount: { ispb: PSP, branch: '0001', number: '55667788', type: 'CACC' },
      creditor: { name: 'Cliente', taxId: HOLDER }, creditorAccount: { ispb: h.config.ispb, branch: '0003', number: '5001', type: 'CACC' },
    }));
    await h.until(async () => (await txStatus(e2e)) === 'SETTLED');
    await h.app.runtime.pollers!.stop(); // the process "dies" before reading SPI's answer
    const r = await h.http('POST', '/returns', { endToEndId: e2e, amount: '8.00', reason: 'BE08' });
    expect(r.json.status).toBe('SENT');
    const dbBalance = async () => (await h.base.sql`select balance_centavos from ledger_accounts where number = '5001'`)[0]!.balance_centavos as bigint;
    const before = await dbBalance();
    const restarted = createSpiApp({ ...h.deps, options: { ...h.deps.options, pollers: 1 } });
    await restarted.runtime.start();
    try {
      await h.until(async () => (await h.http('GET', `/returns/${r.json.returnId}`)).json.status === 'SETTLED');
      await h.until(async () => (await txStatus(e2e)) === 'RETURNED');
      expect(before - (await dbBalance())).toBe(800n);
      expect(restarted.runtime.positions.get('0003', '5001')!.reservedCentavos).toBe(0n);
    } finally {
      await restarted.runtime.stop();
    }
  });
});
