// A pacs.002 lost for good: TIMED_OUT payments are resolved by a signed status query (pacs.028) to SPI,
// which decides them exactly once: settle, reject, or release when SPI never received the payment.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { cpf, PSP, startSpi, type SpiHarness } from './support/harness.ts';

let h: SpiHarness;
const PAYER = cpf('481592637');
const PAYEE = cpf('159753486');

beforeAll(async () => {
  h = await startSpi('spi-resolver', { answerTimeoutMs: 300, syncWaitMs: 400, resolver: { delayMs: 200, retryMs: 200, tickMs: 50 } });
  await h.openAccount('0001', '4001', PAYER, '500.00');
  await h.registerKey('carla@example.com', 'EMAIL', { taxId: PAYEE, name: 'Carla Recebedora' });
  await h.registerKey('+5511988887777', 'PHONE', { taxId: PAYEE, name: 'Carla Recebedora', account: '5559999' });
}, 30_000);
afterAll(async () => h?.stop(), 30_000);

const pay = (key: string, amount: string) =>
  h.http('POST', '/payments', { amount, debtor: { branch: '0001', number: '4001' }, creditor: { key } }, { 'idempotency-key': crypto.randomUUID() });
const balance = async () => (await h.http('GET', '/accounts/0001/4001/balance')).json;
const status = async (e2e: string) => (await h.http('GET', `/payments/${e2e}`)).json;
/** The decision is durable (the row) and applied to the in-memory position (nothing reserved any more). */
async function decided(e2e: string, want: string) {
  await h.until(async () => (await h.base.sql`select status from transactions where end_to_end_id = ${e2e}`)[0]?.status === want, 6_000);
  await h.until(async () => (await balance()).reserved === '0.00');
  return status(e2e);
}
const ledgerRows = async (e2e: string) => Number((await h.base.sql`select count(*)::int as n from ledger_entries where ref = ${'PAY:' + e2e}`)[0]!.n);

describe('a payment whose pacs.002 is lost for good', () => {
  test('times out holding the money, then the status query settles it and debits once', async () => {
    await h.sandbox.control('PUT', '/spi/faults', { lostRate: 1 });
    const before = await balance();
    const r = await pay('carla@example.com', '20.00');
    expect(r.status).toBe(202);
    const e2e = r.json.endToEndId as string;
    await h.until(async () => (await status(e2e)).status === 'TIMED_OUT');
    expect((await balance()).reserved).toBe('20.00');
    const done = await decided(e2e, 'SETTLED');
    expect(done.settledAt).toBeString();
    expect(await balance()).toMatchObject({ balance: (Number(before.balance) - 20).toFixed(2), reserved: '0.00' });
    expect(await ledgerRows(e2e)).toBe(2);
    const [row] = await h.base.sql`select status, pacs002_status from transactions where end_to_end_id = ${e2e}`;
    expect(row).toMatchObject({ status: 'SETTLED', pacs002_status: 'ACSC' });
    // the status answer is kept as evidence, byte for byte, like any pacs.002
    const [msg] = await h.base.sql`select count(*)::int as n from spi_messages where end_to_end_id = ${e2e} and msg_type = 'pacs.002' and direction = 'IN'`;
    expect(msg!.n).toBe(1);
    expect(h.app.runtime.resolver.stats.settled).toBeGreaterThanOrEqual(1);
    expect((await h.sandbox.control('GET', '/spi/stats')).json.faults.lost).toBeGreaterThanOrEqual(1);
    await h.sandbox.control('DELETE', '/spi/faults');
  });

  test('a rejection it never heard of is learnt from the status query and releases the hold', async () => {
    await h.sandbox.control('PUT', '/spi/rules', { rules: [{ ispb: PSP, account: '5559999', decision: 'reject', reason: 'AC03' }] });
    await h.sandbox.control('PUT', '/spi/faults', { lostRate: 1 });
    const before = await balance();
    const r = await pay('+5511988887777', '7.00');
    const done = await decided(r.json.endToEndId, 'REJECTED');
    expect(done.rejectReason).toBe('AC03');
    expect(await balance()).toMatchObject({ balance: before.balance, reserved: '0.00' });
    await h.sandbox.control('DELETE', '/spi/faults');
    await h.sandbox.control('PUT', '/spi/rules', { rules: [] });
  });

  test('a payment SPI never received is released, and nothing moved anywhere', async () => {
    // every send of the pacs.008 fails (503) before SPI's handler runs; the status route still answers
    const rule = (await h.sandbox.control('POST', '/faults', { prefix: `/api/v1/out/${h.config.ispb}/msgs`, errorRate: 1, errorStatus: 503, timeoutRate: 0, resetRate: 0 })).json;
    const before = await balance();
    const r = await pay('carla@example.com', '3.00');
    const e2e = r.json.endToEndId as string;
    await decided(e2e, 'RELEASED');
    await h.sandbox.control('DELETE', `/faults/${rule.id}`);
    expect(await balance()).toMatchObject({ balance: before.balance, reserved: '0.00' });
    expect((await h.sandbox.control('GET', `/spi/payments/${e2e}`)).status).toBe(404);
    expect(await ledgerRows(e2e)).toBe(0);
  });

  test('the status answer and a late inbox pacs.002 decide once: the second changes nothing', async () => {
    // SPI's report reaches our inbox only after 1.5 s: the resolver (300 + 200 ms) asks first
    await h.sandbox.control('PUT', '/spi/faults', { latencyMs: 1_500 });
    const before = await balance();
    const r = await pay('carla@example.com', '4.00');
    const e2e = r.json.endToEndId as string;
    await decided(e2e, 'SETTLED');
    await h.until(async () => Number((await h.base.sql`select count(*)::int as n from spi_messages where end_to_end_id = ${e2e} and msg_type = 'pacs.002'`)[0]!.n) === 2, 5_000);
    expect(await balance()).toMatchObject({ balance: (Number(before.balance) - 4).toFixed(2), reserved: '0.00' });
    expect(await ledgerRows(e2e)).toBe(2);
    await h.sandbox.control('DELETE', '/spi/faults');
  });
});
