// Load shedding at intake: past the in-flight bound a payment request is answered 429 with Retry-After
// before any work, so overload never queues into the internal timeouts (and the gateway's breaker).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { cpf, PSP, startSpi, type SpiHarness } from './support/harness.ts';

let h: SpiHarness;
const PAYER = cpf('529982247');
const PAYEE = cpf('111444777');
/** the simulated receiver answers this late, so the first payment stays in flight meanwhile */
const RECEIVER_LATENCY_MS = 800;

beforeAll(async () => {
  h = await startSpi('spi-intake', { intakeInFlightMax: 1 });
  await h.openAccount('0001', '1001', PAYER, '100.00');
  await h.registerKey('slow@example.com', 'EMAIL', { taxId: PAYEE, name: 'Ana Recebedora', account: '5550009' });
  await h.sandbox.control('PUT', '/spi/rules', { rules: [{ ispb: PSP, account: '5550009', decision: 'accept', latencyMs: RECEIVER_LATENCY_MS }] });
}, 30_000);
afterAll(async () => h?.stop(), 30_000);

const pay = (idem: string) =>
  h.http('POST', '/payments', { amount: '1.00', debtor: { branch: '0001', number: '1001' }, creditor: { key: 'slow@example.com' } }, { 'idempotency-key': idem });

describe('intake admission', () => {
  test('past the in-flight bound a payment is refused 429 with Retry-After, nothing claimed; the same key later pays once', async () => {
    const first = pay('intake-first');
    await Bun.sleep(150); // the first request is now waiting for its receiver
    const second = await pay('intake-second');
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('1');
    expect(second.json.title).toBe('Too many requests');
    expect((await first).status).toBe(201);

    const retried = await pay('intake-second');
    expect(retried.status).toBe(201);
    expect(retried.json.status).toBe('SETTLED');
    const rows = await h.base.sql`select count(*)::int as n from transactions where idempotency_key in ('intake-first', 'intake-second')`;
    expect(rows[0]!.n).toBe(2);
    expect((await h.http('GET', '/accounts/0001/1001/balance')).json.balance).toBe('98.00');
  }, 15_000);
});
