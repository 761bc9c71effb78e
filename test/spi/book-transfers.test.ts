// Book transfers: a payment whose payee is one of our own accounts never reaches SPI; it settles in one
// ledger transaction (payer debited, payee credited), with an EndToEndId, a row and an event.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { streamName, subject } from '../../shared/nats/index.ts';
import { recordOfRow } from '../../services/spi/payments/engine.ts';
import { viewOf } from '../../services/spi/payments/payment.ts';
import { cpf, startSpi, type SpiHarness } from './support/harness.ts';

let h: SpiHarness;
const PAYER = cpf('714602380');
const PAYEE = cpf('853513468');
const BLOCKED = cpf('269431910');

beforeAll(async () => {
  h = await startSpi('spi-book');
  await h.openAccount('0001', '3001', PAYER, '300.00', 'Pagador Interno');
  await h.openAccount('0001', '3002', PAYEE, undefined, 'Recebedora Interna');
  await h.openAccount('0001', '3003', BLOCKED, undefined, 'Conta Bloqueada');
  expect((await h.http('PATCH', '/accounts/0001/3003', { status: 'BLOCKED' })).status).toBe(200);
  await h.registerKey('interna@example.com', 'EMAIL', { ispb: h.config.ispb, branch: '0001', account: '3002', taxId: PAYEE, name: 'Recebedora Interna' });
}, 30_000);
afterAll(async () => h?.stop(), 30_000);

const balance = async (number: string) => (await h.http('GET', `/accounts/0001/${number}/balance`)).json;
const toAccount = (number: string, taxId: string, amount: string, idem = crypto.randomUUID()) =>
  h.http('POST', '/payments', { amount, debtor: { branch: '0001', number: '3001' }, creditor: { account: { ispb: h.config.ispb, branch: '0001', number, accountType: 'CACC', taxId, name: 'Alguém' } } }, { 'idempotency-key': idem });

describe('a payment to a key of our own', () => {
  test('settles in one ledger transaction: payer debited, payee credited, nothing sent to SPI', async () => {
    const r = await h.http('POST', '/payments', { amount: '25.50', debtor: { branch: '0001', number: '3001' }, creditor: { key: 'interna@example.com' } }, { 'idempotency-key': crypto.randomUUID() });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ status: 'SETTLED', amount: '25.50', creditor: { ispb: h.config.ispb, number: '3002' }, initiationForm: 'DICT' });
    const e2e = r.json.endToEndId as string;
    expect(e2e).toMatch(new RegExp(`^E${h.config.ispb}\\d{12}[a-zA-Z0-9]{11}$`));
    expect(await balance('3001')).toMatchObject({ balance: '274.50', reserved: '0.00' });
    expect((await balance('3002')).balance).toBe('25.50');

    expect(r.json.settledAt).toBe(r.json.createdAt);
    // SETTLED without SPI's settlement time: windows and reconciliation (by settled_at) leave it out
    const [row] = await h.base.sql`select status, direction, settled_at, pacs002_status, signed_xml, creditor_ispb from transactions where end_to_end_id = ${e2e}`;
    expect(row).toMatchObject({ status: 'SETTLED', direction: 'OUTBOUND', settled_at: null, pacs002_status: null, signed_xml: null, creditor_ispb: h.config.ispb });
    const entries = await h.base.sql`select t.kind, a.number, e.amount_centavos from ledger_entries e join ledger_transactions t using (ref) join ledger_accounts a on a.id = e.account_id where e.ref = ${'BOOK:' + e2e} order by e.amount_centavos`;
    expect(entries.map((e) => [e.kind, e.number.trim(), e.amount_centavos])).toEqual([['BOOK_TRANSFER', '3001', -2550n], ['BOOK_TRANSFER', '3002', 2550n]]);
    const [others] = await h.base.sql`select count(*)::int as n from ledger_entries where ref in (${'PAY:' + e2e}, ${'IN:' + e2e})`;
    expect(others!.n).toBe(0);
    const [msgs] = await h.base.sql`select count(*)::int as n from spi_messages where end_to_end_id = ${e2e}`;
    expect(msgs!.n).toBe(0);
    expect((await h.sandbox.control('GET', `/spi/payments/${e2e}`)).status).toBe(404);

    await h.app.runtime.events.drain();
    // published for webhooks, on a subject settlement positions (pix.payments.*.settled) do not take
    const ev = await h.base.jsm.streams.getMessage(streamName(h.config, 'payments'), { last_by_subj: subject(h.config, 'pix.payments.book.outbound.settled') });
    expect(ev.json<{ eventId: string; type: string; payment: { endToEndId: string } }>()).toMatchObject({ eventId: `${e2e}.SETTLED`, type: 'payment.settled', payment: { endToEndId: e2e } });
    // after a restart the view is read back from the row: the same answer
    const [full] = await h.base.sql`select t.*, 0::bigint as returned from transactions t where end_to_end_id = ${e2e}`;
    expect(viewOf(recordOfRow(full!))).toEqual(r.json);
  });

  test('the same Idempotency-Key twice moves the money once and answers the same', async () => {
    const idem = crypto.randomUUID();
    const before = (await balance('3002')).balance;
    const [a, b] = await Promise.all([toAccount('3002', PAYEE, '1.00', idem), toAccount('3002', PAYEE, '1.00', idem)]);
    expect(a.status).toBe(201);
    expect(b.text).toBe(a.text);
    const [n] = await h.base.sql`select count(*)::int as n from transactions where idempotency_key = ${idem}`;
    expect(n!.n).toBe(1);
    expect(Number((await balance('3002')).balance) - Number(before)).toBeCloseTo(1, 2);
  });
});

describe('a book transfer the payee cannot take', () => {
  for (const [what, number, taxId, reason] of [
    ['an unknown account', '3999', PAYEE, 'AC03'],
    ['a blocked account', '3003', BLOCKED, 'AC06'],
    ['a creditor who is not the holder', '3002', BLOCKED, 'BE01'],
  ] as const) {
    test(`${what} is refused with ${reason}, the hold released and nothing posted`, async () => {
      const before = await balance('3001');
      const r = await toAccount(number, taxId, '10.00');
      expect(r.status).toBe(201);
      expect(r.json).toMatchObject({ status: 'RELEASED', rejectReason: reason });
      expect(await balance('3001')).toMatchObject({ balance: before.balance, reserved: '0.00' });
      const [row] = await h.base.sql`select status, reject_reason from transactions where end_to_end_id = ${r.json.endToEndId}`;
      expect(row).toMatchObject({ status: 'RELEASED', reject_reason: reason });
      const [posted] = await h.base.sql`select count(*)::int as n from ledger_transactions where ref = ${'BOOK:' + r.json.endToEndId}`;
      expect(posted!.n).toBe(0);
    });
  }

  test('more than the payer has is refused before anything is written; paying oneself is refused', async () => {
    const r = await toAccount('3002', PAYEE, '9999.00');
    expect(r.status).toBe(422);
    expect(r.json.type).toEndWith('/InsufficientFunds');
    const self = await toAccount('3001', PAYER, '1.00');
    expect(self.status).toBe(400);
    expect(self.json.violations).toMatchObject([{ field: 'creditor', rule: 'distinct' }]);
    const [n] = await h.base.sql`select count(*)::int as n from transactions where amount_centavos in (999900, 100) and creditor_account in ('3002', '3001') and status <> 'SETTLED'`;
    expect(n!.n).toBe(0);
  });
});
