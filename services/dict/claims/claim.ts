// Our side of a claim, pure: given a claim as DICT reports it and our role, what we do next and when
// (the timer stored in dict_claims), and what the change means for our entry. The transitions and who may
// do what are shared/dict/claims.ts (the same table the sandbox applies).
import { isClaimOpen, type ClaimRole, type ClaimStatus, type ClaimType } from '../../../shared/dict/claims.ts';

export type TimerAction = 'ACKNOWLEDGE' | 'CANCEL_DEFAULT' | 'CONFIRM_DEFAULT' | 'COMPLETE';

export interface ClaimFacts {
  type: ClaimType;
  status: ClaimStatus;
  role: ClaimRole;
  resolutionPeriodEndMs: number;
  completionPeriodEndMs: number;
}

export interface Timer {
  action: TimerAction;
  atMs: number;
}

/**
 * The one timer a claim has in each state (PIX.md § Claims):
 * - donor, OPEN: acknowledge at once (we have seen it; the 7 days already run from creation);
 * - donor, WAITING_RESOLUTION: a portability our user never confirmed is cancelled for default at
 *   ResolutionPeriodEnd; an ownership claim our user never disputed is confirmed for default then;
 * - claimer, CONFIRMED: complete — a portability at once, an ownership at CompletionPeriodEnd
 *   (brought forward by DICT when the donor's user confirmed);
 * - anything else waits for the other side or is over.
 */
export function timerFor(c: ClaimFacts, nowMs: number): Timer | null {
  if (!isClaimOpen(c.status)) return null;
  if (c.role === 'DONOR') {
    if (c.status === 'OPEN') return { action: 'ACKNOWLEDGE', atMs: nowMs };
    if (c.status === 'WAITING_RESOLUTION') return { action: c.type === 'PORTABILITY' ? 'CANCEL_DEFAULT' : 'CONFIRM_DEFAULT', atMs: c.resolutionPeriodEndMs };
    return null;
  }
  if (c.status === 'CONFIRMED') return { action: 'COMPLETE', atMs: c.type === 'PORTABILITY' ? nowMs : c.completionPeriodEndMs };
  return null;
}

/** What a status change means for the entry held here (PIX.md § Claims: the donor's entry is removed
 *  at confirmation, the claimer's is created at completion; the entry is locked while the claim is open). */
export type EntryEffect = 'LOCK' | 'UNLOCK' | 'REMOVE' | 'CREATE' | 'NONE';

export function entryEffect(role: ClaimRole, before: ClaimStatus | null, after: ClaimStatus): EntryEffect {
  if (before === after) return 'NONE';
  if (role === 'DONOR') {
    if (after === 'CONFIRMED' || after === 'COMPLETED') return before === 'CONFIRMED' ? 'NONE' : 'REMOVE';
    if (after === 'CANCELLED') return 'UNLOCK';
    return before === null ? 'LOCK' : 'NONE';
  }
  return after === 'COMPLETED' ? 'CREATE' : 'NONE';
}
