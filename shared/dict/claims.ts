// Claim state machine (PIX.md § Claims; DICT API spec, tag Claim and operations confirmClaim / cancelClaim /
// completeClaim). Pure: the transition table, who may do what with which reason, and the deadlines. The
// sandbox and the DICT service both apply claims through `applyClaimAction`, so both refuse the same things.
import { fail, ok, type Result } from '../result.ts';
import type { KeyType } from './keys.ts';

export const CLAIM_TYPES = ['OWNERSHIP', 'PORTABILITY'] as const;
export type ClaimType = (typeof CLAIM_TYPES)[number];

export const CLAIM_STATUSES = ['OPEN', 'WAITING_RESOLUTION', 'CONFIRMED', 'CANCELLED', 'COMPLETED'] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

export type ClaimRole = 'CLAIMER' | 'DONOR';

export const CLAIM_CONFIRM_REASONS = ['USER_REQUESTED', 'ACCOUNT_CLOSURE', 'DEFAULT_OPERATION'] as const;
export type ClaimConfirmReason = (typeof CLAIM_CONFIRM_REASONS)[number];
export const CLAIM_CANCEL_REASONS = ['USER_REQUESTED', 'ACCOUNT_CLOSURE', 'FRAUD', 'DEFAULT_OPERATION'] as const;
export type ClaimCancelReason = (typeof CLAIM_CANCEL_REASONS)[number];

/** The spec's state diagram: OPEN only moves on when the donor acknowledges; CANCELLED from CONFIRMED is
 *  for ownership only (checked in CANCEL_STATUSES below). Nothing leaves COMPLETED or CANCELLED. */
export const CLAIM_TRANSITIONS = {
  OPEN: ['WAITING_RESOLUTION'],
  WAITING_RESOLUTION: ['CONFIRMED', 'CANCELLED'],
  CONFIRMED: ['COMPLETED', 'CANCELLED'],
  CANCELLED: [],
  COMPLETED: [],
} as const satisfies Record<ClaimStatus, readonly ClaimStatus[]>;

const DAY_MS = 24 * 60 * 60 * 1000;
/** Resolution period: 7 days from creation (PIX.md § Claims). */
export const CLAIM_RESOLUTION_PERIOD_MS = 7 * DAY_MS;
/** Completion period end as DICT sets it at creation: the spec's examples give it equal to the resolution
 *  end; an ownership confirmed by the donor's user (USER_REQUESTED) brings it forward to the confirmation. */
export const CLAIM_COMPLETION_PERIOD_MS = 7 * DAY_MS;

/** Which key types each claim type accepts (spec, createClaim table). EVP is never claimed. */
export const CLAIMABLE_KEY_TYPES: Record<ClaimType, readonly KeyType[]> = {
  OWNERSHIP: ['PHONE', 'EMAIL'],
  PORTABILITY: ['CPF', 'CNPJ', 'PHONE', 'EMAIL'],
};

type RoleTable<R extends string> = Record<ClaimType, Record<R, readonly ClaimRole[]>>;

/** confirmClaim: who may confirm with which reason (spec table). */
export const CONFIRM_ROLES: RoleTable<ClaimConfirmReason> = {
  OWNERSHIP: { USER_REQUESTED: ['DONOR'], ACCOUNT_CLOSURE: [], DEFAULT_OPERATION: ['DONOR'] },
  PORTABILITY: { USER_REQUESTED: ['DONOR'], ACCOUNT_CLOSURE: ['DONOR'], DEFAULT_OPERATION: [] },
};

/** cancelClaim: who may cancel with which reason (spec table). */
export const CANCEL_ROLES: RoleTable<ClaimCancelReason> = {
  OWNERSHIP: { USER_REQUESTED: ['CLAIMER'], ACCOUNT_CLOSURE: ['CLAIMER'], FRAUD: ['DONOR', 'CLAIMER'], DEFAULT_OPERATION: ['CLAIMER'] },
  PORTABILITY: { USER_REQUESTED: ['DONOR', 'CLAIMER'], ACCOUNT_CLOSURE: ['CLAIMER'], FRAUD: ['DONOR', 'CLAIMER'], DEFAULT_OPERATION: ['DONOR'] },
};

/** cancelClaim: statuses from which each type may be cancelled. */
export const CANCEL_STATUSES: Record<ClaimType, readonly ClaimStatus[]> = {
  OWNERSHIP: ['WAITING_RESOLUTION', 'CONFIRMED'],
  PORTABILITY: ['WAITING_RESOLUTION'],
};

export interface ClaimState {
  type: ClaimType;
  status: ClaimStatus;
  claimerParticipant: string;
  donorParticipant: string;
  createdAtMs: number;
  resolutionPeriodEndMs: number;
  completionPeriodEndMs: number;
  lastModifiedMs: number;
  confirmReason?: ClaimConfirmReason;
  cancelReason?: ClaimCancelReason;
  cancelledBy?: ClaimRole;
}

export type ClaimAction =
  | { kind: 'acknowledge' }
  | { kind: 'confirm'; reason: ClaimConfirmReason }
  | { kind: 'cancel'; reason: ClaimCancelReason }
  | { kind: 'complete' };

export interface ClaimOutcome {
  claim: ClaimState;
  /** false when the action repeats one already applied (the spec makes every claim operation idempotent) */
  changed: boolean;
}

export function isClaimOpen(status: ClaimStatus): boolean {
  return status !== 'COMPLETED' && status !== 'CANCELLED';
}

/** A new claim's state, with its deadlines. */
export function newClaim(type: ClaimType, claimer: string, donor: string, nowMs: number): ClaimState {
  return {
    type,
    status: 'OPEN',
    claimerParticipant: claimer,
    donorParticipant: donor,
    createdAtMs: nowMs,
    resolutionPeriodEndMs: nowMs + CLAIM_RESOLUTION_PERIOD_MS,
    completionPeriodEndMs: nowMs + CLAIM_COMPLETION_PERIOD_MS,
    lastModifiedMs: nowMs,
  };
}

/** createClaim checks that need no directory state: the key type is claimable by this claim type. */
export function checkClaimable(type: ClaimType, keyType: KeyType): Result<null> {
  if (!CLAIMABLE_KEY_TYPES[type].includes(keyType)) {
    return fail('ClaimInvalid', `${keyType} keys cannot be the subject of a ${type} claim`, 'Claim.KeyType', 'claimable');
  }
  return ok(null);
}

/** The roles `ispb` plays in the claim (both, when an ownership claim stays within one participant). */
export function rolesOf(claim: ClaimState, ispb: string): ClaimRole[] {
  const roles: ClaimRole[] = [];
  if (claim.claimerParticipant === ispb) roles.push('CLAIMER');
  if (claim.donorParticipant === ispb) roles.push('DONOR');
  return roles;
}

function canMove(from: ClaimStatus, to: ClaimStatus): boolean {
  return (CLAIM_TRANSITIONS[from] as readonly ClaimStatus[]).includes(to);
}

function moved(claim: ClaimState, status: ClaimStatus, nowMs: number, extra: Partial<ClaimState> = {}): Result<ClaimOutcome> {
  if (!canMove(claim.status, status)) {
    return fail('ClaimOperationInvalid', `a claim in ${claim.status} cannot become ${status}`, 'Status', 'transition');
  }
  return ok({ claim: { ...claim, ...extra, status, lastModifiedMs: nowMs }, changed: true });
}

/** Applies one participant's action at `nowMs`; refuses everything the spec does not allow. */
export function applyClaimAction(claim: ClaimState, action: ClaimAction, actorIspb: string, nowMs: number): Result<ClaimOutcome> {
  const roles = rolesOf(claim, actorIspb);
  if (roles.length === 0) return fail('Forbidden', `participant ${actorIspb} is neither claimer nor donor of this claim`);
  switch (action.kind) {
    case 'acknowledge': {
      if (!roles.includes('DONOR')) return fail('ClaimOperationInvalid', 'only the donor acknowledges a claim', 'Participant', 'role');
      if (claim.status === 'WAITING_RESOLUTION') return ok({ claim, changed: false });
      return moved(claim, 'WAITING_RESOLUTION', nowMs);
    }
    case 'confirm': {
      const allowed = CONFIRM_ROLES[claim.type][action.reason];
      if (!roles.some((r) => allowed.includes(r))) {
        return fail('InvalidReason', `${action.reason} does not allow ${roles.join('/')} to confirm a ${claim.type} claim`, 'Reason', 'role');
      }
      if (claim.status === 'CONFIRMED' && claim.confirmReason === action.reason) return ok({ claim, changed: false });
      if (claim.status !== 'WAITING_RESOLUTION') return fail('ClaimOperationInvalid', `a claim in ${claim.status} cannot be confirmed`, 'Status', 'transition');
      // ownership: the donor confirms for default only once the resolution period is over
      if (claim.type === 'OWNERSHIP' && action.reason === 'DEFAULT_OPERATION' && nowMs < claim.resolutionPeriodEndMs) {
        return fail('ClaimResolutionPeriodNotEnded', 'the donor may confirm for default only after ResolutionPeriodEnd');
      }
      // ownership confirmed by the donor's user: the claimer may complete at once
      const completionPeriodEndMs =
        claim.type === 'OWNERSHIP' && action.reason === 'USER_REQUESTED' ? Math.min(claim.completionPeriodEndMs, nowMs) : claim.completionPeriodEndMs;
      return moved(claim, 'CONFIRMED', nowMs, { confirmReason: action.reason, completionPeriodEndMs });
    }
    case 'cancel': {
      const allowed = CANCEL_ROLES[claim.type][action.reason];
      const role = roles.find((r) => allowed.includes(r));
      if (role === undefined) {
        return fail('InvalidReason', `${action.reason} does not allow ${roles.join('/')} to cancel a ${claim.type} claim`, 'Reason', 'role');
      }
      if (claim.status === 'CANCELLED' && claim.cancelReason === action.reason) return ok({ claim, changed: false });
      if (!CANCEL_STATUSES[claim.type].includes(claim.status)) {
        return fail('ClaimOperationInvalid', `a ${claim.type} claim in ${claim.status} cannot be cancelled`, 'Status', 'transition');
      }
      if (action.reason === 'DEFAULT_OPERATION') {
        // portability: the donor cancels for default once the resolution period is over;
        // ownership: the claimer, once its user's time to prove possession (completion period) is over
        const endMs = claim.type === 'PORTABILITY' ? claim.resolutionPeriodEndMs : claim.completionPeriodEndMs;
        if (nowMs < endMs) {
          return claim.type === 'PORTABILITY'
            ? fail('ClaimResolutionPeriodNotEnded', 'a portability can be cancelled for default only after ResolutionPeriodEnd')
            : fail('ClaimCompletionPeriodNotEnded', 'an ownership claim can be cancelled for default only after CompletionPeriodEnd');
        }
      }
      return moved(claim, 'CANCELLED', nowMs, { cancelReason: action.reason, cancelledBy: role });
    }
    case 'complete': {
      if (!roles.includes('CLAIMER')) return fail('ClaimOperationInvalid', 'only the claimer completes a claim', 'Participant', 'role');
      if (claim.status === 'COMPLETED') return ok({ claim, changed: false });
      if (claim.status !== 'CONFIRMED') return fail('ClaimOperationInvalid', `a claim in ${claim.status} cannot be completed`, 'Status', 'transition');
      if (claim.type === 'OWNERSHIP' && nowMs < claim.completionPeriodEndMs) {
        return fail('ClaimCompletionPeriodNotEnded', 'an ownership claim completes only after CompletionPeriodEnd');
      }
      return moved(claim, 'COMPLETED', nowMs);
    }
  }
}
