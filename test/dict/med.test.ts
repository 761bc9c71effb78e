// MED (PIX.md § Fraud): infraction reports and refunds walked to closed in both roles against the sandbox.
// The simulated PSPs answer ours by their rules; theirs against us are created through the mTLS API with a
// simulated PSP's own certificate and signature.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import * as M from '../../shared/dict/messages.ts';
import { newReturnId } from '../../shared/ids.ts';
import { endToEndId } from '../db/support.ts';
import { DAY_MS, dictFixture, type DictFixture, FIXTURE_TIMEOUT_MS } from './support.ts';

let fx: DictFixture;
const US = '12345678';
const PSP = '10000002';

beforeAll(async () => {
  fx = await dictFixture('med');
}, FIXTURE_TIMEOUT_MS);
afterAll(async () => {
  await fx?.close();
}, FIXTURE_TIMEOUT_MS);

/** A settled payment known to both sides: our transactions table and the sandbox's DICT. */
async function settledPayment(suffix: string, direction: 'OUTBOUND' | 'INBOUND', amount: string, at = fx.clock.now()) {
  const e2e = endToEndId(at, suffix, direction === 'OUTBOUND' ? US : PSP);
  const [debited, credited] = direction === 'OUTBOUND' ? [US, PSP] : [PSP, US];
  await fx.deps.sql`insert into transactions (end_to_end_id, direction, status, amount_centavos, debtor_ispb, debtor_branch, debtor_account, debtor_tax_id,
      debtor_name, creditor_ispb, creditor_branch, creditor_account, creditor_tax_id, creditor_name, initiation_form, pacs002_status, settled_at, created_at, updated_at)
    values (${e2e}, ${direction}, 'SETTLED', ${BigInt(amount.replace('.', ''))}, ${debited}, '0001', '9001', '52998224725', 'Pagadora',
      ${credited}, '0001', '9002', '11144477735', 'Recebedor', 'DICT', 'ACSC', ${at}, ${at}, ${at})`;
  const r = await fx.sandbox.control('POST', '/dict/transactions', { endToEndId: e2e, debited, credited, amount, settledAt: at.toISOString() });
  expect(r.status).toBe(200);
  return e2e;
}

/** A simulated PSP calling DICT itself (its certificate, its signature). */
async function asPsp<T>(path: string, body: string, res: M.Message<T> | { parse(xml: string): any }): Promise<T> {
  const files = fx.sandbox.pki.psps[PSP]!;
  const signer = await fx.sandbox.signerFor(files);
  const signed = await signer.signDict(body);
  if (!signed.ok) throw new Error(signed.error.detail);
  const r = await fx.sandbox.client({ ...files, ca: fx.sandbox.pki.ca.cert }).request('POST', path, { body: signed.value });
  if (!r.ok) throw new Error(`${path}: ${r.error.detail}`);
  const parsed = res.parse(r.value.body);
  if (!parsed.ok) throw new Error(parsed.error.detail);
  return parsed.value;
}

const round = async () => {
  expect((await fx.sandbox.control('POST', '/dict/simulate/run')).status).toBe(200);
  return fx.services.med.pollOnce();
};

describe('infraction reports', () => {
  test('as reporter: our report is acknowledged and closed AGREED by the other PSP', async () => {
    const e2e = await settledPayment('IRREPORTER1', 'OUTBOUND', '250.00');
    const r = await fx.call('POST', '/infraction-reports', { endToEndId: e2e, details: 'customer says the payment was a scam' });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ role: 'REPORTER', status: 'OPEN', counterparty: PSP });
    for (let i = 0; i < 3; i++) await round();
    const closed = (await fx.call('GET', `/infraction-reports/${r.json.id}`)).json;
    expect(closed).toMatchObject({ status: 'CLOSED', analysisResult: 'AGREED' });
  });

  test('as reported party: we acknowledge on sight and our analyst closes it; only the creator may cancel', async () => {
    const e2e = await settledPayment('IRREPORTED1', 'INBOUND', '180.00');
    const created = await asPsp('/api/v2/infraction-reports/', M.CREATE_INFRACTION_REPORT_REQUEST.build({
      participant: PSP, infractionReport: { transactionId: e2e, infractionType: 'FRAUD', reportDetails: 'payer reported a scam' }, requestId: randomUUID(),
    }), M.CREATE_INFRACTION_REPORT_RESPONSE);
    const id = created.infractionReport.id;
    await fx.services.med.pollOnce();
    expect((await fx.call('GET', `/infraction-reports/${id}`)).json).toMatchObject({ role: 'REPORTED', status: 'ACKNOWLEDGED', counterparty: US });
    const cancel = await fx.call('POST', `/infraction-reports/${id}/cancel`);
    expect(cancel.json.type).toEndWith('/InfractionReportOperationInvalid');
    const closed = await fx.call('POST', `/infraction-reports/${id}/close`, { result: 'DISAGREED', details: 'the receiver is a known merchant' });
    expect(closed.json).toMatchObject({ status: 'CLOSED', analysisResult: 'DISAGREED' });
    const audit = await fx.deps.sql`select action from audit_log where entity_id = ${id} order by id`;
    expect(audit.map((a) => a.action)).toEqual(['infraction.acknowledged', 'infraction.closed']);
  });

  test('an X-Actor the audit trail cannot hold is a 400 naming it, before DICT is asked (was a 500 after DICT took the report)', async () => {
    const e2e = await settledPayment('IRACTOR0001', 'OUTBOUND', '10.00');
    const asked = async () => ((await fx.sandbox.control('GET', '/requests')).json.entries as { method: string; path: string }[]).filter((e) => e.method === 'POST' && e.path.includes('infraction')).length;
    const before = await asked();
    for (const actor of ['u'.repeat(201), '']) {
      const r = await fx.call('POST', '/infraction-reports', { endToEndId: e2e, details: 'scam' }, { 'x-actor': actor });
      expect(r.status).toBe(400);
      expect(r.json.violations[0]).toMatchObject({ field: 'x-actor' });
    }
    expect(await asked()).toBe(before);
    const ok = await fx.call('POST', '/infraction-reports', { endToEndId: e2e, details: 'scam' }, { 'x-actor': 'u'.repeat(200) });
    expect(ok.status).toBe(201);
  });

  test('a report on a payment DICT does not know is refused with the field and rule DICT named', async () => {
    const r = await fx.call('POST', '/infraction-reports', { endToEndId: endToEndId(fx.clock.now(), 'IRUNKNOWN01', US), details: 'never paid' });
    expect(r.status).toBe(400);
    expect(r.json.type).toEndWith('/InfractionReportInvalid');
    expect(r.json.violations).toEqual([expect.objectContaining({ field: 'InfractionReport.TransactionId', rule: 'not-found' })]);
  });
});

describe('refunds', () => {
  test('as requester: within 80 days and up to the amount paid; the payee\'s PSP closes it accepted', async () => {
    const old = await settledPayment('RFTOOOLD001', 'OUTBOUND', '90.00', new Date(fx.clock.nowMs() - 81 * DAY_MS));
    const late = await fx.call('POST', '/refunds', { endToEndId: old, reason: 'FRAUD', amount: '90.00' });
    expect(late.json.type).toEndWith('/RefundPeriodExpired');

    const e2e = await settledPayment('RFREQUEST01', 'OUTBOUND', '300.00');
    const over = await fx.call('POST', '/refunds', { endToEndId: e2e, reason: 'FRAUD', amount: '300.01' });
    expect(over.json.violations).toContainEqual(expect.objectContaining({ rule: 'maximum' }));

    const r = await fx.call('POST', '/refunds', { endToEndId: e2e, reason: 'FRAUD', amount: '120.00', details: 'scam' });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ role: 'REQUESTER', status: 'OPEN', amount: '120.00', contested: PSP });
    expect(new Date(r.json.answerDueAt).getTime() - fx.clock.nowMs()).toBeGreaterThan(6 * DAY_MS);
    for (let i = 0; i < 3; i++) await round();
    const closed = (await fx.call('GET', `/refunds/${r.json.id}`)).json;
    expect(closed).toMatchObject({ status: 'CLOSED', analysisResult: 'TOTALLY_ACCEPTED' });
    expect(closed.refundTransactionId).toMatch(/^D/);
  });

  test('as contested party: we answer a refund asked of us, naming the pacs.004 ReturnId', async () => {
    const e2e = await settledPayment('RFCONTEST01', 'INBOUND', '75.50');
    const created = await asPsp('/api/v2/refunds/', M.CREATE_REFUND_REQUEST.build({
      participant: PSP, refund: { transactionId: e2e, refundReason: 'FRAUD', refundAmount: '75.50' }, requestId: randomUUID(),
    }), M.CREATE_REFUND_RESPONSE);
    const id = created.refund.id;
    await fx.services.med.pollOnce();
    expect((await fx.call('GET', `/refunds/${id}`)).json).toMatchObject({ role: 'CONTESTED', status: 'OPEN', amount: '75.50' });
    const noReturn = await fx.call('POST', `/refunds/${id}/close`, { result: 'TOTALLY_ACCEPTED', details: 'funds returned' });
    expect(noReturn.json.violations).toContainEqual(expect.objectContaining({ field: 'RefundTransactionId', rule: 'required' }));
    const returnId = newReturnId(US, fx.clock.now());
    const closed = await fx.call('POST', `/refunds/${id}/close`, { result: 'TOTALLY_ACCEPTED', details: 'funds returned', refundTransactionId: returnId });
    expect(closed.json).toMatchObject({ status: 'CLOSED', analysisResult: 'TOTALLY_ACCEPTED', refundTransactionId: returnId });
  });
});
