import { afterAll, beforeAll, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { newEndToEndId } from '../../shared/ids.ts';
import * as M from '../../shared/dict/messages.ts';
import { FIXTURE_START_MS_MAX, startDictFixture, PSP, US, type DictFixture } from './support.ts';

let f: DictFixture;
beforeAll(async () => {
  f = await startDictFixture('sdict-med');
}, FIXTURE_START_MS_MAX);
afterAll(async () => {
  await f?.t.stop();
});

async function settled(amount: string): Promise<string> {
  const e2e = newEndToEndId(US, new Date());
  const r = await f.t.control('POST', '/dict/transactions', { endToEndId: e2e, credited: PSP, amount });
  expect(r.status).toBe(200);
  return e2e;
}

test('an infraction report we open is acknowledged and closed AGREED by the other side', async () => {
  const e2e = await settled('150.00');
  const created = await f.call(f.us, 'POST', '/api/v2/infraction-reports/', M.CREATE_INFRACTION_REPORT_REQUEST.build({ participant: US, infractionReport: { transactionId: e2e, infractionType: 'FRAUD', reportDetails: 'golpe do falso boleto' } }));
  expect(created.status).toBe(201);
  const report = f.parse(M.CREATE_INFRACTION_REPORT_RESPONSE, created).infractionReport;
  expect(report).toMatchObject({ status: 'OPEN', reportedBy: 'DEBITED_PARTICIPANT', debitedParticipant: US, creditedParticipant: PSP });

  const again = await f.call(f.us, 'POST', '/api/v2/infraction-reports/', M.CREATE_INFRACTION_REPORT_REQUEST.build({ participant: US, infractionReport: { transactionId: e2e, infractionType: 'FRAUD', reportDetails: 'de novo' } }));
  expect(again.error).toBe('InfractionReportAlreadyBeingProcessedForTransaction');

  const theirs = f.parse(M.LIST_INFRACTION_REPORTS_RESPONSE, await f.call(f.psp, 'GET', `/api/v2/infraction-reports/?Participant=${PSP}&IsCredited=true&Status=OPEN`));
  expect(theirs.infractionReports.map((r) => r.id)).toContain(report.id);
  // only the other side acknowledges
  expect((await f.call(f.us, 'POST', `/api/v2/infraction-reports/${report.id}/acknowledge`, M.ACKNOWLEDGE_INFRACTION_REPORT_REQUEST.build({ infractionReportId: report.id, participant: US }))).error).toBe('InfractionReportOperationInvalid');
  await f.call(f.psp, 'POST', `/api/v2/infraction-reports/${report.id}/acknowledge`, M.ACKNOWLEDGE_INFRACTION_REPORT_REQUEST.build({ infractionReportId: report.id, participant: PSP }));
  const closed = await f.call(f.psp, 'POST', `/api/v2/infraction-reports/${report.id}/close`, M.CLOSE_INFRACTION_REPORT_REQUEST.build({ infractionReportId: report.id, participant: PSP, analysisResult: 'AGREED', analysisDetails: 'valor bloqueado' }));
  expect(f.parse(M.CLOSE_INFRACTION_REPORT_RESPONSE, closed).infractionReport).toMatchObject({ status: 'CLOSED', analysisResult: 'AGREED' });
  expect(f.parse(M.GET_INFRACTION_REPORT_RESPONSE, await f.call(f.us, 'GET', `/api/v2/infraction-reports/${report.id}`)).infractionReport.status).toBe('CLOSED');
});

test('a simulated PSP acknowledges and closes a report addressed to it, by rule', async () => {
  const e2e = await settled('20.00');
  const report = f.parse(M.CREATE_INFRACTION_REPORT_RESPONSE, await f.call(f.us, 'POST', '/api/v2/infraction-reports/', M.CREATE_INFRACTION_REPORT_REQUEST.build({ participant: US, infractionReport: { transactionId: e2e, infractionType: 'FRAUD', reportDetails: 'conta laranja' } }))).infractionReport;
  await f.t.control('PUT', '/dict/rules', { infractions: { acknowledge: true, close: 'DISAGREED' } });
  await f.t.control('POST', '/dict/simulate/run');
  await f.t.control('POST', '/dict/simulate/run');
  await f.t.control('PUT', '/dict/rules', { infractions: { acknowledge: false, close: 'NEVER' } });
  expect(f.parse(M.GET_INFRACTION_REPORT_RESPONSE, await f.call(f.us, 'GET', `/api/v2/infraction-reports/${report.id}`)).infractionReport).toMatchObject({ status: 'CLOSED', analysisResult: 'DISAGREED' });
});

test('a refund is walked to closed: requested by the payer\'s PSP, closed by the payee\'s with the pacs.004 ReturnId', async () => {
  const e2e = await settled('100.00');
  const tooMuch = await f.call(f.us, 'POST', '/api/v2/refunds/', M.CREATE_REFUND_REQUEST.build({ participant: US, refund: { transactionId: e2e, refundReason: 'FRAUD', refundAmount: '100.01' } }));
  expect(tooMuch.error).toBe('RefundInvalid');
  const requestId = randomUUID();
  const xml = M.CREATE_REFUND_REQUEST.build({ participant: US, refund: { transactionId: e2e, refundReason: 'FRAUD', refundAmount: '100.00', refundDetails: 'fraude confirmada' }, requestId });
  const created = await f.call(f.us, 'POST', '/api/v2/refunds/', xml);
  expect(created.status).toBe(201);
  const refund = f.parse(M.CREATE_REFUND_RESPONSE, created).refund;
  expect(refund).toMatchObject({ status: 'OPEN', requestingParticipant: US, contestedParticipant: PSP, refundAmount: '100.00' });
  // the same RequestId replays the first answer
  expect(f.parse(M.CREATE_REFUND_RESPONSE, await f.call(f.us, 'POST', '/api/v2/refunds/', xml)).refund.id).toBe(refund.id);

  const returnId = `D${PSP}${'202611251200'}abcdefghijk`;
  const closed = await f.call(f.psp, 'POST', `/api/v2/refunds/${refund.id}/close`, M.CLOSE_REFUND_REQUEST.build({ refundId: refund.id, participant: PSP, refundAnalysisResult: 'TOTALLY_ACCEPTED', refundAnalysisDetails: 'devolvido', refundTransactionId: returnId }));
  expect(f.parse(M.CLOSE_REFUND_RESPONSE, closed).refund).toMatchObject({ status: 'CLOSED', refundAnalysisResult: 'TOTALLY_ACCEPTED', refundTransactionId: returnId });
  const cancel = await f.call(f.us, 'POST', `/api/v2/refunds/${refund.id}/cancel`, M.CANCEL_REFUND_REQUEST.build({ refundId: refund.id, participant: US }));
  expect(cancel.error).toBe('RefundOperationInvalid');
});

test('a refund more than 80 days after the payment is RefundPeriodExpired; a simulated payee closes open refunds by rule', async () => {
  const old = await settled('10.00');
  await f.advanceDays(81);
  const late = await f.call(f.us, 'POST', '/api/v2/refunds/', M.CREATE_REFUND_REQUEST.build({ participant: US, refund: { transactionId: old, refundReason: 'FRAUD', refundAmount: '10.00' } }));
  expect(late.error).toBe('RefundPeriodExpired');

  const e2e = await settled('30.00');
  const refund = f.parse(M.CREATE_REFUND_RESPONSE, await f.call(f.us, 'POST', '/api/v2/refunds/', M.CREATE_REFUND_REQUEST.build({ participant: US, refund: { transactionId: e2e, refundReason: 'OPERATIONAL_FLAW', refundAmount: '30.00' } }))).refund;
  await f.t.control('PUT', '/dict/rules', { refunds: { close: 'TOTALLY_ACCEPTED' } });
  await f.t.control('POST', '/dict/simulate/run');
  await f.t.control('PUT', '/dict/rules', { refunds: { close: 'NEVER' } });
  const now = f.parse(M.GET_REFUND_RESPONSE, await f.call(f.us, 'GET', `/api/v2/refunds/${refund.id}`)).refund;
  expect(now.status).toBe('CLOSED');
  expect(now.refundTransactionId).toMatch(/^D10000002\d{12}[a-zA-Z0-9]{11}$/);
});

test('as the reported party: a simulated PSP reports a payment it made to us and asks for a refund; we answer both', async () => {
  const e2e = newEndToEndId(PSP, new Date());
  expect((await f.t.control('POST', '/dict/transactions', { endToEndId: e2e, credited: US, amount: '75.50' })).status).toBe(200);
  const reported = await f.t.control('POST', '/dict/simulate/infraction', { endToEndId: e2e });
  expect(reported.json.infractionReport).toMatchObject({ reportedBy: 'DEBITED_PARTICIPANT', debitedParticipant: PSP, creditedParticipant: US, status: 'OPEN' });
  const id = reported.json.infractionReport.id as string;
  const ours = f.parse(M.LIST_INFRACTION_REPORTS_RESPONSE, await f.call(f.us, 'GET', `/api/v2/infraction-reports/?Participant=${US}&IsCredited=true`));
  expect(ours.infractionReports.map((r) => r.id)).toContain(id);
  await f.call(f.us, 'POST', `/api/v2/infraction-reports/${id}/acknowledge`, M.ACKNOWLEDGE_INFRACTION_REPORT_REQUEST.build({ infractionReportId: id, participant: US }));
  const closed = await f.call(f.us, 'POST', `/api/v2/infraction-reports/${id}/close`, M.CLOSE_INFRACTION_REPORT_REQUEST.build({ infractionReportId: id, participant: US, analysisResult: 'DISAGREED', analysisDetails: 'cliente legítimo' }));
  expect(f.parse(M.CLOSE_INFRACTION_REPORT_RESPONSE, closed).infractionReport.status).toBe('CLOSED');

  const asked = await f.t.control('POST', '/dict/simulate/refund', { endToEndId: e2e });
  expect(asked.json.refund).toMatchObject({ requestingParticipant: PSP, contestedParticipant: US, refundAmount: '75.50', status: 'OPEN' });
  const refundId = asked.json.refund.id as string;
  const rejected = await f.call(f.us, 'POST', `/api/v2/refunds/${refundId}/close`, M.CLOSE_REFUND_REQUEST.build({ refundId, participant: US, refundAnalysisResult: 'REJECTED', refundAnalysisDetails: 'sem saldo' }));
  expect(f.parse(M.CLOSE_REFUND_RESPONSE, rejected).refund).toMatchObject({ status: 'CLOSED', refundAnalysisResult: 'REJECTED' });
});

test('lookups and owner statistics count settlements and reported / confirmed frauds of the key\'s owner', async () => {
  const owner = { type: 'NATURAL_PERSON' as const, taxIdNumber: '39053344705', name: 'Ana Recebedora' };
  const created = await f.call(f.psp, 'POST', '/api/v2/entries/', M.CREATE_ENTRY_REQUEST.build({
    entry: { key: 'ana@psp.dev', keyType: 'EMAIL', account: { participant: PSP, branch: '0001', accountNumber: '0000000555', accountType: 'CACC', openingDate: '2020-01-01T00:00:00.000Z' }, owner },
    reason: 'USER_REQUESTED',
    requestId: randomUUID(),
  }));
  expect(created.status).toBe(201);
  const e2es: string[] = [];
  for (let i = 0; i < 3; i++) {
    const e2e = newEndToEndId(US, new Date());
    await f.t.control('POST', '/dict/transactions', { endToEndId: e2e, credited: PSP, amount: '10.00', creditedKey: 'ana@psp.dev' });
    e2es.push(e2e);
  }
  const report = f.parse(M.CREATE_INFRACTION_REPORT_RESPONSE, await f.call(f.us, 'POST', '/api/v2/infraction-reports/', M.CREATE_INFRACTION_REPORT_REQUEST.build({ participant: US, infractionReport: { transactionId: e2es[0]!, infractionType: 'FRAUD', reportDetails: 'golpe' } }))).infractionReport;
  await f.call(f.psp, 'POST', `/api/v2/infraction-reports/${report.id}/acknowledge`, M.ACKNOWLEDGE_INFRACTION_REPORT_REQUEST.build({ infractionReportId: report.id, participant: PSP }));
  await f.call(f.psp, 'POST', `/api/v2/infraction-reports/${report.id}/close`, M.CLOSE_INFRACTION_REPORT_REQUEST.build({ infractionReportId: report.id, participant: PSP, analysisResult: 'AGREED', analysisDetails: 'confirmado' }));

  const stats = f.parse(M.GET_OWNER_STATISTICS_RESPONSE, await f.call(f.us, 'GET', `/api/v2/owners/${owner.taxIdNumber}/statistics`)).ownerStatistics;
  const byType = Object.fromEntries(stats.counters.map((c) => [c.type, c.d3]));
  // three settlements are quantised up to 5 (spec: 0, 1, 5, 10, 50 ...)
  expect(byType).toEqual({ SETTLEMENTS: '5', REPORTED_FRAUDS: '1', CONFIRMED_FRAUDS: '1' });
  const lookup = f.parse(M.GET_ENTRY_RESPONSE, await f.call(f.us, 'GET', '/api/v2/entries/ana%40psp.dev', undefined, { 'PI-RequestingParticipant': US, 'PI-PayerId': '0b'.repeat(32) }));
  expect(lookup.statistics?.counters.find((c) => c.type === 'REPORTED_FRAUDS' && c.by === 'KEY')?.d30).toBe('1');
});
