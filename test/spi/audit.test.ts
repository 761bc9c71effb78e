// The audit trail of the SPI service (issue 9): every BACEN message kept in spi_messages is also in
// audit_log with the very same signed bytes, every money change has its row, each written in the database
// transaction of the change it records, and the hash chain over all of it verifies.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { verifyAuditChain } from '../../shared/audit.ts';
import { newEndToEndId, newMsgId } from '../../shared/ids.ts';
import { buildPacs008 } from '../../shared/spi/pacs008.ts';
import { spiEngineOf } from '../../services/bacen-sandbox/spi/engine.ts';
import { writeOrThrow } from '../../services/spi/pipeline/store.ts';
import { cpf, PSP, startSpi, type SpiHarness } from './support/harness.ts';

let h: SpiHarness;
const PAYER = cpf('385296174');
const PAYEE = cpf('604827139');
const INTERNAL = cpf('917364028');

beforeAll(async () => {
  h = await startSpi('spi-audit');
  await h.openAccount('0008', '6001', PAYER, '500.00');
  await h.openAccount('0008', '6002', INTERNAL);
  await h.registerKey('gil@example.com', 'EMAIL', { taxId: PAYEE, name: 'Gil Recebedor' });
  await h.registerKey('+5511999990042', 'PHONE', { taxId: PAYEE, name: 'Gil Recebedor', account: '5550042' });
  await h.registerKey('interno@example.com', 'EMAIL', { ispb: h.config.ispb, branch: '0008', account: '6002', taxId: INTERNAL, name: 'Conta Interna' });
}, 30_000);
afterAll(async () => h?.stop(), 30_000);

interface AuditRow {
  chain_seq: bigint;
  action: string;
  entity_type: string;
  entity_id: string;
  detail: Record<string, any>;
  xid: string;
}

/** The audit rows about one payment: its messages (by EndToEndId) and its changes, in chain order. */
const trailOf = (e2e: string) => h.base.sql<AuditRow[]>`
  select chain_seq, action, entity_type, entity_id, detail, xmin::text as xid from audit_log
   where entity_id = ${e2e} or detail->>'endToEndId' = ${e2e} order by chain_seq`;
const messagesOf = (e2e: string) => h.base.sql<{ msg_id: string; msg_type: string; direction: string; signed_xml: string; xid: string }[]>`
  select msg_id, msg_type, direction, signed_xml, xmin::text as xid from spi_messages where end_to_end_id = ${e2e} order by id`;
const auditCount = async () => Number((await h.base.sql`select count(*)::int as n from audit_log`)[0]!.n);
const pay = (key: string, amount: string) =>
  h.http('POST', '/payments', { amount, debtor: { branch: '0008', number: '6001' }, creditor: { key } }, { 'idempotency-key': crypto.randomUUID() });

describe('the audit trail of an outbound payment', () => {
  test('holds the signed pacs.008 and pacs.002 byte for byte and the settlement with its posting, each in the transaction that wrote it', async () => {
    const r = await pay('gil@example.com', '12.34');
    expect(r.json.status).toBe('SETTLED');
    const e2e = r.json.endToEndId as string;
    const trail = await trailOf(e2e);
    expect(trail.map((a) => `${a.action} ${a.detail.msgType ?? ''}`.trim())).toEqual(['message.out pacs.008', 'message.in pacs.002', 'payment.settled']);

    const messages = await messagesOf(e2e);
    const pacs008 = messages.find((m) => m.msg_type === 'pacs.008' && m.direction === 'OUT')!;
    const pacs002 = messages.find((m) => m.msg_type === 'pacs.002' && m.direction === 'IN')!;
    expect(trail[0]!).toMatchObject({ entity_type: 'spi_message', entity_id: pacs008.msg_id, detail: { msgId: pacs008.msg_id, msgType: 'pacs.008', direction: 'OUT', endToEndId: e2e } });
    expect(trail[0]!.detail.signedXml).toBe(pacs008.signed_xml);
    expect(trail[1]!.detail.signedXml).toBe(pacs002.signed_xml);
    expect(pacs002.signed_xml).toContain('<TxSts>ACSC</TxSts>');

    const [payer] = await h.base.sql`select id::text from ledger_accounts where number = '6001'`;
    const [clearing] = await h.base.sql`select id::text from ledger_accounts where code = 'SPI_CLEARING'`;
    expect(trail[2]!).toMatchObject({ entity_type: 'transaction', entity_id: e2e });
    expect(trail[2]!.detail).toEqual({
      direction: 'OUTBOUND', amountCentavos: '1234', from: 'SENT', to: 'SETTLED',
      posting: { ref: `PAY:${e2e}`, kind: 'PAYMENT_OUT', entries: [{ accountId: payer!.id, amountCentavos: '-1234' }, { accountId: clearing!.id, amountCentavos: '1234' }] },
    });

    // same database transaction: the pacs.008 with the payment row; the pacs.002 with the decision and its posting
    const [row] = await h.base.sql`select xmin::text as xid from transactions where end_to_end_id = ${e2e}`;
    const [posting] = await h.base.sql`select xmin::text as xid from ledger_transactions where ref = ${'PAY:' + e2e}`;
    expect(trail[0]!.xid).toBe(pacs008.xid);
    expect([trail[1]!.xid, trail[2]!.xid, pacs002.xid, posting!.xid]).toEqual([row!.xid, row!.xid, row!.xid, row!.xid]);
    expect(trail[0]!.xid).not.toBe(row!.xid);
  });

  test('a rejection is audited from SENT to REJECTED with its reason and no posting', async () => {
    await h.sandbox.control('PUT', '/spi/rules', { rules: [{ ispb: PSP, account: '5550042', decision: 'reject', reason: 'AC03' }] });
    const r = await pay('+5511999990042', '5.00');
    await h.sandbox.control('PUT', '/spi/rules', { rules: [] });
    expect(r.json).toMatchObject({ status: 'REJECTED', rejectReason: 'AC03' });
    const trail = await trailOf(r.json.endToEndId);
    expect(trail.map((a) => a.action)).toEqual(['message.out', 'message.in', 'payment.rejected']);
    expect(trail[2]!.detail).toEqual({ direction: 'OUTBOUND', amountCentavos: '500', from: 'SENT', to: 'REJECTED', rejectReason: 'AC03', posting: null });
  });

  test('a book transfer has no message, one row born SETTLED, with its one ledger transaction', async () => {
    const r = await pay('interno@example.com', '7.00');
    expect(r.json.status).toBe('SETTLED');
    const trail = await trailOf(r.json.endToEndId);
    expect(trail.map((a) => a.action)).toEqual(['payment.settled']);
    expect(trail[0]!.detail).toMatchObject({ direction: 'OUTBOUND', amountCentavos: '700', from: null, to: 'SETTLED', posting: { ref: `BOOK:${r.json.endToEndId}`, kind: 'BOOK_TRANSFER' } });
  });

  test('a write the database refuses adds no audit row: a transition from a state the payment left, a deposit repeated', async () => {
    const r = await pay('gil@example.com', '1.00');
    const e2e = r.json.endToEndId as string;
    const [row] = await h.base.sql`select created_at from transactions where end_to_end_id = ${e2e}`;
    const before = await auditCount();
    const refused = await writeOrThrow(h.app.runtime.store, { kind: 'update-tx', endToEndId: e2e, createdAt: row!.created_at, from: ['SENT', 'TIMED_OUT'], to: 'REJECTED', rejectReason: 'AB03', at: new Date() });
    expect(refused.applied).toBe(false);
    expect(await auditCount()).toBe(before);

    const deposit = () => h.http('POST', '/accounts/0008/6001/deposits', { amount: '3.00', depositId: 'audit-dep-1' });
    expect((await deposit()).json.applied).toBe(true);
    expect((await deposit()).json.applied).toBe(false);
    const rows = await h.base.sql<AuditRow[]>`select action, entity_type, detail from audit_log where entity_id = 'DEP:audit-dep-1'`;
    expect(rows.map((a) => [a.action, a.entity_type, a.detail.kind, a.detail.entries.map((e: { amountCentavos: string }) => e.amountCentavos)])).toEqual([['ledger.posted', 'ledger_transaction', 'DEPOSIT', ['-300', '300']]]);
  });
});

describe('the audit trail of an inbound payment', () => {
  let e2e: string;
  test("holds the payer PSP's pacs.008 exactly as signed, our answer and SPI's, and the credit; a duplicate delivery adds only our second answer", async () => {
    const files = h.sandbox.pki.psps[PSP]!;
    const pspSigner = await h.sandbox.signerFor(files);
    const now = new Date();
    e2e = newEndToEndId(PSP, now);
    const msgId = newMsgId(PSP);
    const signed = await pspSigner.signSpi(buildPacs008({ from: PSP, to: h.config.bacenIspb, bizMsgIdr: msgId, creDt: now }, {
      endToEndId: e2e, amountCentavos: 4_200n, acceptedAt: now, initiationForm: 'MANU', priority: 'HIGH',
      debtor: { name: 'Iara Pagadora', taxId: cpf('271828182') }, debtorAccount: { ispb: PSP, branch: '0001', number: '31415', type: 'CACC' },
      creditor: { name: 'Cliente', taxId: INTERNAL }, creditorAccount: { ispb: h.config.ispb, branch: '0008', number: '6002', type: 'CACC' },
    }));
    if (!signed.ok) throw new Error(signed.error.detail);
    expect((await h.sandbox.client({ ...files, ca: h.sandbox.pki.ca.cert }).request('POST', `/api/v1/out/${PSP}/msgs`, { body: signed.value })).ok).toBe(true);
    await h.until(async () => (await trailOf(e2e)).some((a) => a.action === 'payment.settled'));

    const trail = await trailOf(e2e);
    expect(trail.map((a) => `${a.action} ${a.detail.msgType ?? ''}`.trim()).sort()).toEqual(['message.in pacs.002', 'message.in pacs.008', 'message.out pacs.002', 'payment.settled']);
    expect(trail[0]!.detail).toMatchObject({ msgId, msgType: 'pacs.008', direction: 'IN', signedXml: signed.value });
    const settled = trail.find((a) => a.action === 'payment.settled')!;
    expect(settled.detail).toMatchObject({ direction: 'INBOUND', amountCentavos: '4200', from: 'ACCEPTED', to: 'SETTLED', posting: { ref: `IN:${e2e}`, kind: 'PAYMENT_IN' } });
    // SPI's ACSC comes before the credit it causes
    expect(trail.findIndex((a) => a.action === 'message.in' && a.detail.msgType === 'pacs.002')).toBeLessThan(trail.indexOf(settled));

    await (await spiEngineOf(h.sandbox.deps)).deliver(h.config.ispb, 'pacs.008', msgId, signed.value);
    await h.until(async () => (await trailOf(e2e)).filter((a) => a.action === 'message.out').length === 2);
    const after = await trailOf(e2e);
    expect(after.filter((a) => a.detail.msgType === 'pacs.008')).toHaveLength(1);
    expect(after.filter((a) => a.action.startsWith('payment.'))).toHaveLength(1);
  });

  test('returning part of it: our signed pacs.004, SPI\'s report, the return settled with its posting, the payment partially returned', async () => {
    const r = await h.http('POST', '/returns', { endToEndId: e2e, amount: '1.50', reason: 'MD06' });
    expect(r.status).toBe(201);
    const returnId = r.json.returnId as string;
    await h.until(async () => (await h.http('GET', `/returns/${returnId}`)).json.status === 'SETTLED');
    await h.until(async () => (await trailOf(e2e)).some((a) => a.action === 'payment.partially_returned'));

    const trail = (await trailOf(e2e)).filter((a) => a.action !== 'message.in' || a.detail.msgType !== 'pacs.008');
    const [pacs004] = await h.base.sql`select msg_id, signed_xml from spi_messages where msg_type = 'pacs.004' and direction = 'OUT' and end_to_end_id = ${e2e}`;
    const sent = trail.find((a) => a.detail.msgType === 'pacs.004')!;
    expect(sent).toMatchObject({ action: 'message.out', entity_id: pacs004!.msg_id });
    expect(sent.detail.signedXml).toBe(pacs004!.signed_xml);
    const [returned] = await h.base.sql<AuditRow[]>`select action, entity_type, detail from audit_log where entity_id = ${returnId}`;
    expect(returned).toMatchObject({ action: 'return.settled', entity_type: 'return' });
    expect(returned!.detail).toMatchObject({ endToEndId: e2e, direction: 'OUTBOUND', amountCentavos: '150', reason: 'MD06', from: 'SENT', to: 'SETTLED', posting: { ref: `RTO:${returnId}`, kind: 'RETURN_OUT' } });
    const payment = trail.filter((a) => a.action.startsWith('payment.')).map((a) => [a.action, a.detail.from, a.detail.to, a.detail.amountCentavos]);
    expect(payment).toEqual([['payment.settled', 'ACCEPTED', 'SETTLED', '4200'], ['payment.partially_returned', 'SETTLED', 'PARTIALLY_RETURNED', '4200']]);
  });
});

describe('the whole trail', () => {
  test('every stored message has one audit row with the same bytes, and the chain verifies (library and ./fluxiq audit verify)', async () => {
    const [m] = await h.base.sql`
      select count(*)::int as messages,
             count(*) filter (where (select count(*) from audit_log a where a.action like 'message.%' and a.entity_id = s.msg_id and a.detail->>'signedXml' = s.signed_xml) = 1)::int as audited
        from spi_messages s`;
    expect(m!.messages).toBeGreaterThan(8);
    expect(m!.audited).toBe(m!.messages);
    const [a] = await h.base.sql`select count(*)::int as n from audit_log where action like 'message.%'`;
    expect(a!.n).toBe(m!.messages);

    const report = await verifyAuditChain(h.base.sql);
    expect(report).toMatchObject({ broken: null, rows: await auditCount() });
    const cli = Bun.spawnSync(['bun', join(import.meta.dir, '../../cli/main.ts'), 'audit', 'verify'], {
      env: { ...process.env, DB_SCHEMA: h.config.dbSchema, LOG_LEVEL: 'warn' }, stdout: 'pipe', stderr: 'pipe',
    });
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout.toString()).toContain(`last hash ${report.lastHash}`);
  });
});
