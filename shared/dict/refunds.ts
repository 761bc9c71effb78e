// Refund requests (MED; PIX.md § Fraud; DICT API spec refunds examples): the payer's PSP (requesting
// participant) asks the payee's PSP (contested participant) to return funds of a payment, for fraud or an
// operational flaw, within 80 days of the payment. The contested side closes it (totally / partially
// accepted, or rejected) within 7 days; the requester may cancel while it is open.
import { fail, ok, type Result } from '../result.ts';

export const REFUND_STATUSES = ['OPEN', 'CLOSED', 'CANCELLED'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];
export const REFUND_REASONS = ['FRAUD', 'OPERATIONAL_FLAW', 'REFUND_CANCELLED'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];
export const REFUND_RESULTS = ['TOTALLY_ACCEPTED', 'PARTIALLY_ACCEPTED', 'REJECTED'] as const;
export type RefundResult = (typeof REFUND_RESULTS)[number];

export const REFUND_TRANSITIONS = {
  OPEN: ['CLOSED', 'CANCELLED'],
  CLOSED: [],
  CANCELLED: [],
} as const satisfies Record<RefundStatus, readonly RefundStatus[]>;

const DAY_MS = 24 * 60 * 60 * 1000;
/** A refund may be requested up to 80 days after the payment (PIX.md § Fraud). */
export const REFUND_REQUEST_WINDOW_MS = 80 * DAY_MS;
/** The contested participant answers within 7 days. */
export const REFUND_ANSWER_PERIOD_MS = 7 * DAY_MS;
/** A cautionary block holds the funds for at most 72 hours. */
export const CAUTIONARY_BLOCK_MS_MAX = 72 * 60 * 60 * 1000;

export interface RefundState {
  status: RefundStatus;
  requestingParticipant: string;
  contestedParticipant: string;
  amountCentavos: bigint;
  lastModifiedMs: number;
  analysisResult?: RefundResult;
  analysisDetails?: string;
  refundTransactionId?: string;
}

export type RefundAction =
  | { kind: 'close'; result: RefundResult; details: string; refundTransactionId?: string }
  | { kind: 'cancel' };

/** createRefund checks: within 80 days of the payment, and an amount in (0, payment amount]. */
export function checkRefundRequest(paymentAtMs: number, paymentCentavos: bigint, amountCentavos: bigint, nowMs: number): Result<null> {
  if (nowMs - paymentAtMs > REFUND_REQUEST_WINDOW_MS) return fail('RefundPeriodExpired', 'a refund is requested within 80 days of the payment');
  if (amountCentavos <= 0n) return fail('RefundInvalid', 'the refund amount must be positive', 'Refund.RefundAmount', 'minimum');
  if (amountCentavos > paymentCentavos) return fail('RefundInvalid', 'the refund amount exceeds the payment', 'Refund.RefundAmount', 'maximum');
  return ok(null);
}

export function refundAnswerDeadlineMs(createdAtMs: number): number {
  return createdAtMs + REFUND_ANSWER_PERIOD_MS;
}

export function applyRefundAction(refund: RefundState, action: RefundAction, actorIspb: string, nowMs: number): Result<{ refund: RefundState; changed: boolean }> {
  const { requestingParticipant: requester, contestedParticipant: contested } = refund;
  if (actorIspb !== requester && actorIspb !== contested) return fail('Forbidden', `participant ${actorIspb} is not a party to this refund`);
  const mustBe = action.kind === 'cancel' ? requester : contested;
  if (actorIspb !== mustBe) {
    return fail('RefundOperationInvalid', action.kind === 'cancel' ? 'only the requesting participant cancels a refund' : 'only the contested participant closes a refund', 'Participant', 'role');
  }
  const to: RefundStatus = action.kind === 'close' ? 'CLOSED' : 'CANCELLED';
  if (refund.status === to && (action.kind === 'cancel' || (refund.analysisResult === action.result && refund.refundTransactionId === action.refundTransactionId))) {
    return ok({ refund, changed: false });
  }
  if (!(REFUND_TRANSITIONS[refund.status] as readonly RefundStatus[]).includes(to)) {
    return fail('RefundOperationInvalid', `a refund in ${refund.status} cannot become ${to}`, 'Status', 'transition');
  }
  if (action.kind === 'close') {
    // funds go back with a pacs.004, whose ReturnId the acceptance must name
    if (action.result !== 'REJECTED' && !action.refundTransactionId) {
      return fail('RefundInvalid', 'an accepted refund names the ReturnId of its pacs.004', 'RefundTransactionId', 'required');
    }
    return ok({
      refund: {
        ...refund,
        status: 'CLOSED',
        analysisResult: action.result,
        analysisDetails: action.details,
        ...(action.refundTransactionId ? { refundTransactionId: action.refundTransactionId } : {}),
        lastModifiedMs: nowMs,
      },
      changed: true,
    });
  }
  return ok({ refund: { ...refund, status: 'CANCELLED', lastModifiedMs: nowMs }, changed: true });
}
