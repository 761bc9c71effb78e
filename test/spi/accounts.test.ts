// Opening accounts in the built-in ledger: a refused request leaves no account behind.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { cpf, startSpi, type SpiHarness } from './support/harness.ts';

let h: SpiHarness;
const HOLDER = cpf('318574925');

beforeAll(async () => {
  h = await startSpi('spi-accounts');
}, 30_000);
afterAll(async () => h?.stop(), 30_000);

const open = (number: string, extra: Record<string, string>) =>
  h.http('POST', '/accounts', { branch: '0009', number, accountType: 'CACC', holderTaxId: HOLDER, holderName: 'Cliente', ...extra });
const rows = async (number: string) => (await h.base.sql`select count(*)::int as n from ledger_accounts where branch = '0009' and number = ${number}`)[0]!.n as number;

describe('opening an account', () => {
  test('an initial deposit the amount rules refuse is a 400 naming it, and no account is opened (it was, before the refusal)', async () => {
    // leading zero and zero: the schema's pattern lets them through, parseAmount refuses them (found by the endpoint fuzz)
    for (const [number, initialDeposit] of [['7001', '0516968.32'], ['7002', '0.00']] as const) {
      const r = await open(number, { initialDeposit });
      expect(r.status).toBe(400);
      expect(r.json.violations[0]).toMatchObject({ field: 'initialDeposit' });
      expect(await rows(number)).toBe(0);
      expect((await h.http('GET', `/accounts/0009/${number}/balance`)).status).toBe(404);
    }
    // the same number opens afterwards: nothing was left to conflict with
    const ok = await open('7001', { initialDeposit: '516968.32' });
    expect(ok.status).toBe(201);
    expect(ok.json.balance).toBe('516968.32');
  });

  test('a refused overdraft opens nothing either', async () => {
    const r = await open('7003', { overdraft: '00.50' });
    expect(r.status).toBe(400);
    expect(r.json.violations[0]).toMatchObject({ field: 'overdraft' });
    expect(await rows('7003')).toBe(0);
  });
});
