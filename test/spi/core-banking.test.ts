// The HTTP account authority against a small real core-banking server (Bun.serve): signed requests,
// its decisions, a strict deadline and the configured default when it is late or down; and a payment
// end to end with the core banking deciding.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createLogger } from '../../shared/telemetry.ts';
import { createHttpAuthority, signCoreRequest } from '../../services/spi/accounts/http-authority.ts';
import { cpf, startSpi, type SpiHarness } from './support/harness.ts';

const SECRET = 'core-banking-shared-secret-0123456789';
const HOLDER = { taxId: cpf('987654321'), name: 'Julia Correntista', accountType: 'CACC' };
const calls: { path: string; body: any; signedOk: boolean }[] = [];
let delayMs = 0;
let core: ReturnType<typeof Bun.serve>;
const balances = new Map<string, bigint>([['0007/9001', 10_000n], ['0007/9002', 0n]]);

beforeAll(() => {
  core = Bun.serve({
    port: 0, hostname: '127.0.0.1',
    async fetch(req) {
      const path = new URL(req.url).pathname;
      const raw = await req.text();
      const ts = req.headers.get('x-fluxiq-timestamp') ?? '';
      const signedOk = req.headers.get('x-fluxiq-signature') === signCoreRequest(SECRET, ts, req.method, path, raw);
      const body = JSON.parse(raw);
      calls.push({ path, body, signedOk });
      if (delayMs) await Bun.sleep(delayMs);
      if (!signedOk) return new Response('bad signature', { status: 401 });
      const key = `${body.branch}/${body.number}`;
      if (path === '/v1/debits' || path === '/v1/credits') {
        if (!balances.has(key)) return Response.json({ decision: 'REJECTED', reason: 'AC03' });
        if (path === '/v1/debits' && balances.get(key)! < BigInt(body.amountCentavos)) return Response.json({ decision: 'REJECTED', reason: 'AM04' });
        return Response.json({ decision: 'APPROVED', holder: HOLDER });
      }
      return new Response(null, { status: 204 });
    },
  });
});
afterAll(() => core?.stop(true));

const authority = (defaultDecision: 'approve' | 'reject', timeoutMs = 300, baseUrl = `http://127.0.0.1:${core.port}`) =>
  createHttpAuthority({ baseUrl, secret: SECRET, timeoutMs, defaultDecision, logger: createLogger('test', 'silent') });

describe('the core-banking account authority', () => {
  test('sends HMAC-signed requests and follows the core banking\'s decisions', async () => {
    const a = authority('reject');
    const ok = await a.holdDebit('E1', { branch: '0007', number: '9001' }, 500n);
    expect(ok).toEqual({ ok: true, value: HOLDER as never });
    expect(await a.holdDebit('E2', { branch: '0007', number: '9001' }, 50_000n)).toMatchObject({ ok: false, error: { reason: 'AM04' } });
    expect(await a.holdDebit('E3', { branch: '0007', number: '9999' }, 1n)).toMatchObject({ ok: false, error: { reason: 'AC03' } });
    expect(calls.every((c) => c.signedOk)).toBe(true);
    await a.close();
  });

  test('late: the configured default decides at the deadline (reject → AB09, approve → the known holder)', async () => {
    delayMs = 1_000;
    try {
      const rejecting = authority('reject', 150);
      const started = performance.now();
      expect(await rejecting.holdDebit('E4', { branch: '0007', number: '9001' }, 1n)).toMatchObject({ ok: false, error: { reason: 'AB09' } });
      expect(performance.now() - started).toBeLessThan(600);
      const approving = authority('approve', 150);
      // the holder is only known after one answered call
      expect(await approving.holdDebit('E5', { branch: '0007', number: '9001' }, 1n)).toMatchObject({ ok: false, error: { reason: 'AB09' } });
      delayMs = 0;
      await approving.holdDebit('E6', { branch: '0007', number: '9001' }, 1n);
      delayMs = 1_000;
      expect(await approving.holdDebit('E7', { branch: '0007', number: '9001' }, 1n)).toEqual({ ok: true, value: HOLDER as never });
      expect((await approving.credit('PAYMENT_IN', 'E8', { branch: '0007', number: '9001' }, 1n)).ok).toBe(true);
    } finally {
      delayMs = 0;
    }
  });

  test('down: the default applies at once', async () => {
    const down = authority('reject', 300, 'http://127.0.0.1:1');
    expect(await down.credit('PAYMENT_IN', 'E9', { branch: '0007', number: '9001' }, 1n)).toMatchObject({ ok: false, error: { reason: 'AB09' } });
  });
});

describe('a payment decided by the core banking', () => {
  let h: SpiHarness;
  beforeAll(async () => {
    h = await startSpi('spi-core', { authority: authority('reject', 800) });
    await h.registerKey('kim@example.com', 'EMAIL', { taxId: cpf('159753468'), name: 'Kim Recebedora' });
  }, 30_000);
  afterAll(async () => h?.stop(), 30_000);

  test('settles and the core banking is told it settled; a refusal is a 422 with nothing written', async () => {
    const r = await h.http('POST', '/payments', { amount: '12.00', debtor: { branch: '0007', number: '9001' }, creditor: { key: 'kim@example.com' }, payerId: HOLDER.taxId }, { 'idempotency-key': crypto.randomUUID() });
    expect(r.json.status).toBe('SETTLED');
    await h.until(async () => calls.some((c) => c.path === '/v1/debits/settle' && c.body.ref === r.json.endToEndId));
    const [row] = await h.base.sql`select debtor_name, debtor_tax_id from transactions where end_to_end_id = ${r.json.endToEndId}`;
    expect(row).toMatchObject({ debtor_name: HOLDER.name, debtor_tax_id: HOLDER.taxId });
    const refused = await h.http('POST', '/payments', { amount: '999.00', debtor: { branch: '0007', number: '9001' }, creditor: { key: 'kim@example.com' }, payerId: HOLDER.taxId }, { 'idempotency-key': crypto.randomUUID() });
    expect(refused.status).toBe(422);
    expect(refused.json.type).toEndWith('/InsufficientFunds');
  });
  test('a book transfer: the core banking approves the debit and the credit, then is told the debit settled; a refused payee releases it', async () => {
    const toOurs = (number: string) => h.http('POST', '/payments', {
      amount: '2.00', debtor: { branch: '0007', number: '9001' }, payerId: HOLDER.taxId,
      creditor: { account: { ispb: h.config.ispb, branch: '0007', number, accountType: 'CACC', taxId: HOLDER.taxId, name: HOLDER.name } },
    }, { 'idempotency-key': crypto.randomUUID() });
    const r = await toOurs('9002');
    expect(r.json).toMatchObject({ status: 'SETTLED', creditor: { ispb: h.config.ispb } });
    const e2e = r.json.endToEndId as string;
    await h.until(async () => calls.some((c) => c.path === '/v1/debits/settle' && c.body.ref === e2e));
    expect(calls.filter((c) => c.body.ref === e2e || c.body.ref === `IN:${e2e}`).map((c) => c.path)).toEqual(['/v1/debits', '/v1/credits', '/v1/debits/settle']);
    const [n] = await h.base.sql`select count(*)::int as n from ledger_entries where ref = ${'BOOK:' + e2e}`;
    expect(n!.n).toBe(0); // the core banking keeps these books
    const refused = await toOurs('9003');
    expect(refused.json).toMatchObject({ status: 'RELEASED', rejectReason: 'AC03' });
    await h.until(async () => calls.some((c) => c.path === '/v1/debits/release' && c.body.ref === refused.json.endToEndId));
  });
});
