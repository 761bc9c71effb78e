import { describe, expect, test } from 'bun:test';
import { applyInfractionAction, INFRACTION_STATUSES, type InfractionAction, type InfractionState } from '../../shared/dict/infractions.ts';
import { applyRefundAction, checkRefundRequest, REFUND_STATUSES, type RefundAction, type RefundState } from '../../shared/dict/refunds.ts';

const DEBITED = '12345678';
const CREDITED = '10000002';
const T0 = Date.UTC(2026, 10, 25, 12);
const DAY = 86_400_000;

describe('infraction reports', () => {
  const ACTIONS: InfractionAction[] = [{ kind: 'acknowledge' }, { kind: 'close', result: 'AGREED', details: 'ok' }, { kind: 'cancel' }];
  // created by the debited participant: the credited one acknowledges and closes, the creator cancels
  const LEGAL: Record<string, string> = {
    'OPEN acknowledge CREDITED': 'ACKNOWLEDGED',
    'OPEN cancel DEBITED': 'CANCELLED',
    'ACKNOWLEDGED acknowledge CREDITED': '=',
    'ACKNOWLEDGED close CREDITED': 'CLOSED',
    'ACKNOWLEDGED cancel DEBITED': 'CANCELLED',
    'CLOSED close CREDITED': '=',
    'CLOSED cancel DEBITED': 'CANCELLED',
    'CANCELLED cancel DEBITED': '=',
  };
  test('every legal transition and only those', () => {
    for (const status of INFRACTION_STATUSES)
      for (const action of ACTIONS)
        for (const [who, ispb] of [['DEBITED', DEBITED], ['CREDITED', CREDITED]] as const) {
          const key = `${status} ${action.kind} ${who}`;
          const report: InfractionState = {
            status,
            reportedBy: 'DEBITED_PARTICIPANT',
            debitedParticipant: DEBITED,
            creditedParticipant: CREDITED,
            lastModifiedMs: T0,
            ...(status === 'CLOSED' ? { analysisResult: 'AGREED' as const, analysisDetails: 'ok' } : {}),
          };
          const r = applyInfractionAction(report, action, ispb, T0 + 1);
          const expected = LEGAL[key];
          expect({ key, ok: r.ok }).toEqual({ key, ok: expected !== undefined });
          if (!r.ok || expected === undefined) continue;
          if (expected === '=') expect({ key, changed: r.value.changed }).toEqual({ key, changed: false });
          else expect({ key, status: r.value.report.status }).toEqual({ key, status: expected as never });
        }
  });
  test('closing records the analysis result', () => {
    const r = applyInfractionAction(
      { status: 'ACKNOWLEDGED', reportedBy: 'CREDITED_PARTICIPANT', debitedParticipant: DEBITED, creditedParticipant: CREDITED, lastModifiedMs: T0 },
      { kind: 'close', result: 'DISAGREED', details: 'not fraud' },
      DEBITED,
      T0 + 5,
    );
    expect(r.ok && r.value.report).toMatchObject({ status: 'CLOSED', analysisResult: 'DISAGREED', analysisDetails: 'not fraud', lastModifiedMs: T0 + 5 });
  });
});

describe('refunds', () => {
  const ACTIONS: RefundAction[] = [{ kind: 'close', result: 'TOTALLY_ACCEPTED', details: 'returned', refundTransactionId: 'D12345678202611251200abcdefghijk' }, { kind: 'cancel' }];
  const LEGAL: Record<string, string> = {
    'OPEN close CONTESTED': 'CLOSED',
    'OPEN cancel REQUESTER': 'CANCELLED',
    'CLOSED close CONTESTED': '=',
    'CANCELLED cancel REQUESTER': '=',
  };
  test('every legal transition and only those', () => {
    for (const status of REFUND_STATUSES)
      for (const action of ACTIONS)
        for (const [who, ispb] of [['REQUESTER', DEBITED], ['CONTESTED', CREDITED]] as const) {
          const key = `${status} ${action.kind} ${who}`;
          const refund: RefundState = {
            status,
            requestingParticipant: DEBITED,
            contestedParticipant: CREDITED,
            amountCentavos: 10000n,
            lastModifiedMs: T0,
            ...(status === 'CLOSED' ? { analysisResult: 'TOTALLY_ACCEPTED' as const, refundTransactionId: 'D12345678202611251200abcdefghijk' } : {}),
          };
          const r = applyRefundAction(refund, action, ispb, T0 + 1);
          const expected = LEGAL[key];
          expect({ key, ok: r.ok }).toEqual({ key, ok: expected !== undefined });
          if (!r.ok || expected === undefined) continue;
          if (expected === '=') expect({ key, changed: r.value.changed }).toEqual({ key, changed: false });
          else expect({ key, status: r.value.refund.status }).toEqual({ key, status: expected as never });
        }
  });
  test('an accepted refund must name its pacs.004 ReturnId; a rejection need not', () => {
    const open: RefundState = { status: 'OPEN', requestingParticipant: DEBITED, contestedParticipant: CREDITED, amountCentavos: 100n, lastModifiedMs: T0 };
    const r = applyRefundAction(open, { kind: 'close', result: 'PARTIALLY_ACCEPTED', details: 'x' }, CREDITED, T0);
    expect(r.ok ? null : r.error).toMatchObject({ code: 'RefundInvalid', field: 'RefundTransactionId' });
    expect(applyRefundAction(open, { kind: 'close', result: 'REJECTED', details: 'no' }, CREDITED, T0).ok).toBe(true);
  });
  test('a refund is requested within 80 days of the payment, for at most its amount', () => {
    expect(checkRefundRequest(T0, 1000n, 1000n, T0 + 80 * DAY).ok).toBe(true);
    const late = checkRefundRequest(T0, 1000n, 1000n, T0 + 80 * DAY + 1);
    expect(late.ok ? null : late.error.code).toBe('RefundPeriodExpired');
    const more = checkRefundRequest(T0, 1000n, 1001n, T0);
    expect(more.ok ? null : more.error.rule).toBe('maximum');
  });
});
