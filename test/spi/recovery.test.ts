// Timeouts, late answers, faults and a crash between accept and send.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createSpiApp } from '../../services/spi/app.ts';
import { cpf, startSpi, type SpiHarness } from './support/harness.ts';

let h: SpiHarness;
const PAYER = cpf('746971314');
const PAYEE = cpf('935411347');

beforeAll(async () => {
  h = await startSpi('spi-recovery', { answerTimeoutMs: 300, syncWaitMs: 1_000 });
  await h.openAccount('0001', '3001', PAYER, '300.00');
  await h.registerKey('bob@example.com', 'EMAIL', { taxId: PAYEE, name: 'Bob Recebedor' });
}, 30_000);
afterAll(async () => h?.stop(), 30_000);

const pay = (amount: string) =>
  h.http('POST', '/payments', { amount, debtor: { branch: '0001', number: '3001' }, creditor: { key: 'bob@example.com' } }, { 'idempotency-key': crypto.randomUUID() });
const balance = async () => (await h.http('GET', '/accounts/0001/3001/balance')).json;
const status = async (e2e: string) => (await h.http('GET', `/payments/${e2e}`)).json.status as string;

describe('no answer in time', () => {
  test('the payment times out holding the money, then a late duplicated ACSC settles it once', async () => {
    // SPI's pacs.002 reaches our inbox only after 800 ms, twice: our deadline is 300 ms
    await h.sandbox.control('PUT', '/spi/faults', { latencyMs: 800, duplicateRate: 1 });
    const before = await balance();
    const r = await pay('10.00');
    expect(r.status).toBe(202);
    expect(r.headers.get('location')).toBe(`/payments/${r.json.endToEndId}`);
    await h.until(async () => (await status(r.json.endToEndId)) === 'TIMED_OUT');
    expect((await balance()).reserved).toBe('10.00');
    await h.until(async () => (await status(r.json.endToEndId)) === 'SETTLED');
    await h.sandbox.control('DELETE', '/spi/faults');
    await Bun.sleep(100); // let the duplicate arrive too
    const after = await balance();
    expect(after.reserved).toBe('0.00');
    expect(Number(before.balance) - Number(after.balance)).toBeCloseTo(10, 2);
    const [n] = await h.base.sql`select count(*)::int as n from ledger_entries where ref = ${'PAY:' + r.json.endToEndId}`;
    expect(n!.n).toBe(2);
    const [m] = await h.base.sql`select count(*)::int as n from spi_messages where end_to_end_id = ${r.json.endToEndId} and msg_type = 'pacs.002'`;
    expect(m!.n).toBe(2);
  });

  test('a badly signed pacs.002 decides nothing; the payment stays open', async () => {
    await h.sandbox.control('PUT', '/spi/faults', { badSignatureRate: 1 });
    const r = await pay('1.00');
    expect(r.status).toBe(202);
    await h.until(async () => (await status(r.json.endToEndId)) === 'TIMED_OUT');
    expect((await balance()).reserved).toBe('1.00');
    expect(h.app.runtime.pollers!.stats.outcomes['bad-signature']).toBeGreaterThan(0);
    await h.sandbox.control('DELETE', '/spi/faults');
  });
});

describe('a crash between accept and send', () => {
  test('loses nothing: after restart the payment is sent and completes', async () => {
    // a second instance on the same database whose link to SPI is down: it accepts (durably) and dies
    const deadLink = { send: async () => ({ kind: 'unknown' as const, detail: 'process killed' }), status: async () => ({ kind: 'failed' as const, detail: 'process killed' }), cursor: () => ({ pull: async () => ({ ok: true as const, messages: [] }) }) };
    await h.app.runtime.pollers!.stop(); // the restarted instance below is the only one reading the inbox
    const crashed = createSpiApp({ ...h.deps, options: { link: deadLink, syncWaitMs: 50, answerTimeoutMs: 60_000, pollers: 1 } });
    await crashed.runtime.positions.load();
    const res = await crashed.handle(new Request('http://localhost/payments', {
      method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
      body: JSON.stringify({ amount: '3.00', debtor: { branch: '0001', number: '3001' }, creditor: { key: 'bob@example.com' } }),
    }));
    const answer = (await res.json()) as { endToEndId: string };
    expect({ status: res.status, answer }).toMatchObject({ status: 202 });
    const { endToEndId } = answer;
    await crashed.runtime.engine.stop();
    await crashed.runtime.store.stop();
    const [row] = await h.base.sql`select status from transactions where end_to_end_id = ${endToEndId}`;
    expect(row!.status).toBe('SENT'); // durable, never actually sent
    // "restart": a fresh runtime recovers open payments and re-sends their signed pacs.008
    const restarted = createSpiApp({ ...h.deps, options: { syncWaitMs: 50, answerTimeoutMs: 5_000, pollers: 1 } });
    await restarted.runtime.start();
    try {
      await h.until(async () => (await h.base.sql`select status from transactions where end_to_end_id = ${endToEndId}`)[0]!.status === 'SETTLED');
    } finally {
      await restarted.runtime.stop();
    }
  });
});

