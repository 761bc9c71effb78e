// Outbound payments over mTLS against the sandbox SPI: settle, reject, ledger.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { cpf, PSP, startSpi, type SpiHarness } from './support/harness.ts';

let h: SpiHarness;
const PAYER = cpf('529982247');
const PAYEE = cpf('111444777');

beforeAll(async () => {
  h = await startSpi('spi-payments');
  await h.openAccount('0001', '1001', PAYER, '1000.00');
  await h.registerKey('ana@example.com', 'EMAIL', { taxId: PAYEE, name: 'Ana Recebedora' });
  await h.registerKey('+5511999990001', 'PHONE', { taxId: PAYEE, name: 'Ana Recebedora', account: '5550001' });
}, 30_000);
afterAll(async () => h?.stop(), 30_000);

const pay = (key: string, amount: string, idem = crypto.randomUUID(), debtor = { branch: '0001', number: '1001' }) =>
  h.http('POST', '/payments', { amount, debtor, creditor: { key } }, { 'idempotency-key': idem });

async function ledgerSums() {
  const [entries] = await h.base.sql`select coalesce(sum(amount_centavos), 0)::bigint as total, count(*)::int as n from ledger_entries`;
  const [accounts] = await h.base.sql`select coalesce(sum(balance_centavos), 0)::bigint as total from ledger_accounts`;
  return { entries: entries!.total as bigint, accounts: accounts!.total as bigint };
}

describe('a payment by key', () => {
  test('settles over mTLS, debits the payer once and the ledger balances', async () => {
    const r = await pay('ana@example.com', '12.34');
    expect(r.status).toBe(201);
    expect(r.json.status).toBe('SETTLED');
    expect(r.json.amount).toBe('12.34');
    expect(r.json.creditor.ispb).toBe(PSP);
    expect(r.json.creditor.taxId).toBe('***.444.777-**');
    const balance = await h.http('GET', '/accounts/0001/1001/balance');
    expect(balance.json).toMatchObject({ balance: '987.66', reserved: '0.00', available: '987.66' });
    const [row] = await h.base.sql`select status, pacs002_status, settled_at, amount_centavos from transactions where end_to_end_id = ${r.json.endToEndId}`;
    expect(row).toMatchObject({ status: 'SETTLED', pacs002_status: 'ACSC', amount_centavos: 1234n });
    expect(row!.settled_at).toBeInstanceOf(Date);
    const sums = await ledgerSums();
    expect(sums.entries).toBe(0n);
    expect(sums.accounts).toBe(0n);
    const [db] = await h.base.sql`select balance_centavos from ledger_accounts where number = '1001'`;
    expect(db!.balance_centavos).toBe(98_766n);
    const status = await h.http('GET', `/payments/${r.json.endToEndId}`);
    expect(status.json.status).toBe('SETTLED');
  });

  test('an AC03 rejection from the receiver releases the reservation', async () => {
    await h.sandbox.control('PUT', '/spi/rules', { rules: [{ ispb: PSP, account: '5550001', decision: 'reject', reason: 'AC03' }] });
    const before = (await h.http('GET', '/accounts/0001/1001/balance')).json;
    const r = await pay('+5511999990001', '5.00');
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ status: 'REJECTED', rejectReason: 'AC03' });
    const after = (await h.http('GET', '/accounts/0001/1001/balance')).json;
    expect(after).toMatchObject({ balance: before.balance, reserved: '0.00', available: before.available });
    await h.sandbox.control('PUT', '/spi/rules', { rules: [] });
  });

  test('an AM04 rejection (our PI account empty) releases the reservation', async () => {
    const accounts = (await h.sandbox.control('GET', '/spi/accounts')).json.accounts as { ispb: string; balanceCentavos: string }[];
    const ours = accounts.find((a) => a.ispb === h.config.ispb)!;
    await h.sandbox.control('PUT', `/spi/accounts/${h.config.ispb}`, { balanceCentavos: '100' });
    const r = await pay('ana@example.com', '50.00');
    expect(r.json).toMatchObject({ status: 'REJECTED', rejectReason: 'AM04' });
    expect((await h.http('GET', '/accounts/0001/1001/balance')).json.reserved).toBe('0.00');
    await h.sandbox.control('PUT', `/spi/accounts/${h.config.ispb}`, { balanceCentavos: ours.balanceCentavos });
  });

  test('the balance is cached in Redis and our PI account at SPI went down by what settled', async () => {
    const cached = await h.base.redis.hgetall(`${h.config.redisPrefix}:spi:balance:0001:1001`);
    const api = (await h.http('GET', '/accounts/0001/1001/balance')).json;
    await h.until(async () => (await h.base.redis.hget(`${h.config.redisPrefix}:spi:balance:0001:1001`, 'balance')) === api.balance.replace('.', ''));
    expect(cached.status).toBe('ACTIVE');
    const pi = await h.http('GET', '/positions/pi');
    expect(pi.status).toBe(200);
    expect(pi.json.ispb).toBe(h.config.ispb);
    expect(Number(pi.json.balance)).toBeCloseTo(1_000_000 - 12.34, 2);
  });

  test('more than the available balance is refused before anything is written', async () => {
    const r = await pay('ana@example.com', '5000.00');
    expect(r.status).toBe(422);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect(r.json.type).toEndWith('/InsufficientFunds');
    const [n] = await h.base.sql`select count(*)::int as n from transactions where amount_centavos = 500000`;
    expect(n!.n).toBe(0);
  });
});
