// Infraction reports (PIX.md § Fraud; DICT API spec, tag InfractionReport): created by either side of a
// payment, acknowledged and then closed (AGREED / DISAGREED) by the other side; the creator may cancel at
// any time, even after closing. Pure transition table and actor rules.
import { fail, ok, type Result } from '../result.ts';

export const INFRACTION_STATUSES = ['OPEN', 'ACKNOWLEDGED', 'CLOSED', 'CANCELLED'] as const;
export type InfractionStatus = (typeof INFRACTION_STATUSES)[number];
export const INFRACTION_TYPES = ['FRAUD'] as const;
export type InfractionType = (typeof INFRACTION_TYPES)[number];
export const INFRACTION_REPORTERS = ['DEBITED_PARTICIPANT', 'CREDITED_PARTICIPANT'] as const;
export type InfractionReporter = (typeof INFRACTION_REPORTERS)[number];
export const INFRACTION_RESULTS = ['AGREED', 'DISAGREED'] as const;
export type InfractionResult = (typeof INFRACTION_RESULTS)[number];

export const INFRACTION_TRANSITIONS = {
  OPEN: ['ACKNOWLEDGED', 'CANCELLED'],
  ACKNOWLEDGED: ['CLOSED', 'CANCELLED'],
  CLOSED: ['CANCELLED'], // "o criador do relato pode cancelá-lo a qualquer momento, mesmo depois de fechado"
  CANCELLED: [],
} as const satisfies Record<InfractionStatus, readonly InfractionStatus[]>;

export interface InfractionState {
  status: InfractionStatus;
  reportedBy: InfractionReporter;
  debitedParticipant: string;
  creditedParticipant: string;
  lastModifiedMs: number;
  analysisResult?: InfractionResult;
  analysisDetails?: string;
}

export type InfractionAction =
  | { kind: 'acknowledge' }
  | { kind: 'close'; result: InfractionResult; details: string }
  | { kind: 'cancel' };

/** The participant that created the report, and the one that must answer it. */
export function reporterOf(r: InfractionState): string {
  return r.reportedBy === 'DEBITED_PARTICIPANT' ? r.debitedParticipant : r.creditedParticipant;
}
export function counterpartyOf(r: InfractionState): string {
  return r.reportedBy === 'DEBITED_PARTICIPANT' ? r.creditedParticipant : r.debitedParticipant;
}

/** Which side a creator is, from its ISPB and the payment's two participants. */
export function reporterRole(creator: string, debited: string, credited: string): Result<InfractionReporter> {
  if (creator === debited) return ok('DEBITED_PARTICIPANT');
  if (creator === credited) return ok('CREDITED_PARTICIPANT');
  return fail('Forbidden', `participant ${creator} is not a party to the transaction`);
}

export function isInfractionOpen(s: InfractionStatus): boolean {
  return s === 'OPEN' || s === 'ACKNOWLEDGED';
}

export function applyInfractionAction(
  report: InfractionState,
  action: InfractionAction,
  actorIspb: string,
  nowMs: number,
): Result<{ report: InfractionState; changed: boolean }> {
  const creator = reporterOf(report);
  const answerer = counterpartyOf(report);
  if (actorIspb !== creator && actorIspb !== answerer) return fail('Forbidden', `participant ${actorIspb} is not a party to this report`);
  const to: InfractionStatus = action.kind === 'acknowledge' ? 'ACKNOWLEDGED' : action.kind === 'close' ? 'CLOSED' : 'CANCELLED';
  const mustBe = action.kind === 'cancel' ? creator : answerer;
  if (actorIspb !== mustBe) {
    return fail('InfractionReportOperationInvalid', action.kind === 'cancel' ? 'only the creator cancels a report' : `only the other party may ${action.kind} a report`, 'Participant', 'role');
  }
  // the spec makes every operation idempotent: a repeat with the same parameters answers the same
  if (report.status === to && (action.kind !== 'close' || (report.analysisResult === action.result && report.analysisDetails === action.details))) {
    return ok({ report, changed: false });
  }
  if (!(INFRACTION_TRANSITIONS[report.status] as readonly InfractionStatus[]).includes(to)) {
    return fail('InfractionReportOperationInvalid', `a report in ${report.status} cannot become ${to}`, 'Status', 'transition');
  }
  const extra = action.kind === 'close' ? { analysisResult: action.result, analysisDetails: action.details } : {};
  return ok({ report: { ...report, ...extra, status: to, lastModifiedMs: nowMs }, changed: true });
}
