import { describe, expect, test } from 'bun:test';
import {
  applyClaimAction,
  CLAIM_CANCEL_REASONS,
  CLAIM_CONFIRM_REASONS,
  CLAIM_RESOLUTION_PERIOD_MS,
  CLAIM_STATUSES,
  CLAIM_TYPES,
  checkClaimable,
  newClaim,
  type ClaimAction,
  type ClaimRole,
  type ClaimState,
} from '../../shared/dict/claims.ts';

const CLAIMER = '12345678';
const DONOR = '10000001';
const T0 = Date.UTC(2026, 10, 25, 12);
const AFTER_DEADLINES = T0 + CLAIM_RESOLUTION_PERIOD_MS + 1;
const ispbOf = (r: ClaimRole) => (r === 'CLAIMER' ? CLAIMER : DONOR);

const ACTIONS: ClaimAction[] = [
  { kind: 'acknowledge' },
  ...CLAIM_CONFIRM_REASONS.map((reason) => ({ kind: 'confirm', reason }) as const),
  ...CLAIM_CANCEL_REASONS.map((reason) => ({ kind: 'cancel', reason }) as const),
  { kind: 'complete' },
];
const label = (a: ClaimAction) => ('reason' in a ? `${a.kind}:${a.reason}` : a.kind);

// Every legal (type, status, action, role) once all deadlines have passed, and what it leads to.
// `=` means an idempotent repeat: the claim is returned unchanged.
const LEGAL: Record<string, string> = {
  'OWNERSHIP OPEN acknowledge DONOR': 'WAITING_RESOLUTION',
  'PORTABILITY OPEN acknowledge DONOR': 'WAITING_RESOLUTION',
  'OWNERSHIP WAITING_RESOLUTION acknowledge DONOR': '=',
  'PORTABILITY WAITING_RESOLUTION acknowledge DONOR': '=',
  'OWNERSHIP WAITING_RESOLUTION confirm:USER_REQUESTED DONOR': 'CONFIRMED',
  'OWNERSHIP WAITING_RESOLUTION confirm:DEFAULT_OPERATION DONOR': 'CONFIRMED',
  'PORTABILITY WAITING_RESOLUTION confirm:USER_REQUESTED DONOR': 'CONFIRMED',
  'PORTABILITY WAITING_RESOLUTION confirm:ACCOUNT_CLOSURE DONOR': 'CONFIRMED',
  'OWNERSHIP WAITING_RESOLUTION cancel:USER_REQUESTED CLAIMER': 'CANCELLED',
  'OWNERSHIP WAITING_RESOLUTION cancel:ACCOUNT_CLOSURE CLAIMER': 'CANCELLED',
  'OWNERSHIP WAITING_RESOLUTION cancel:FRAUD CLAIMER': 'CANCELLED',
  'OWNERSHIP WAITING_RESOLUTION cancel:FRAUD DONOR': 'CANCELLED',
  'OWNERSHIP WAITING_RESOLUTION cancel:DEFAULT_OPERATION CLAIMER': 'CANCELLED',
  'PORTABILITY WAITING_RESOLUTION cancel:USER_REQUESTED CLAIMER': 'CANCELLED',
  'PORTABILITY WAITING_RESOLUTION cancel:USER_REQUESTED DONOR': 'CANCELLED',
  'PORTABILITY WAITING_RESOLUTION cancel:ACCOUNT_CLOSURE CLAIMER': 'CANCELLED',
  'PORTABILITY WAITING_RESOLUTION cancel:FRAUD CLAIMER': 'CANCELLED',
  'PORTABILITY WAITING_RESOLUTION cancel:FRAUD DONOR': 'CANCELLED',
  'PORTABILITY WAITING_RESOLUTION cancel:DEFAULT_OPERATION DONOR': 'CANCELLED',
  // CONFIRMED fixtures carry confirmReason USER_REQUESTED; repeating it is idempotent
  'OWNERSHIP CONFIRMED confirm:USER_REQUESTED DONOR': '=',
  'PORTABILITY CONFIRMED confirm:USER_REQUESTED DONOR': '=',
  'OWNERSHIP CONFIRMED complete CLAIMER': 'COMPLETED',
  'PORTABILITY CONFIRMED complete CLAIMER': 'COMPLETED',
  'OWNERSHIP CONFIRMED cancel:USER_REQUESTED CLAIMER': 'CANCELLED',
  'OWNERSHIP CONFIRMED cancel:ACCOUNT_CLOSURE CLAIMER': 'CANCELLED',
  'OWNERSHIP CONFIRMED cancel:FRAUD CLAIMER': 'CANCELLED',
  'OWNERSHIP CONFIRMED cancel:FRAUD DONOR': 'CANCELLED',
  'OWNERSHIP CONFIRMED cancel:DEFAULT_OPERATION CLAIMER': 'CANCELLED',
  'OWNERSHIP COMPLETED complete CLAIMER': '=',
  'PORTABILITY COMPLETED complete CLAIMER': '=',
  // CANCELLED fixtures carry cancelReason FRAUD
  'OWNERSHIP CANCELLED cancel:FRAUD CLAIMER': '=',
  'OWNERSHIP CANCELLED cancel:FRAUD DONOR': '=',
  'PORTABILITY CANCELLED cancel:FRAUD CLAIMER': '=',
  'PORTABILITY CANCELLED cancel:FRAUD DONOR': '=',
};

function fixture(type: ClaimState['type'], status: ClaimState['status']): ClaimState {
  const c = { ...newClaim(type, CLAIMER, DONOR, T0), status };
  if (status === 'CONFIRMED' || status === 'COMPLETED') c.confirmReason = 'USER_REQUESTED';
  if (status === 'CANCELLED') c.cancelReason = 'FRAUD';
  return c;
}

describe('claim transition table', () => {
  test('every legal transition leads where the spec says, and every other one is refused', () => {
    let legal = 0;
    for (const type of CLAIM_TYPES)
      for (const status of CLAIM_STATUSES)
        for (const action of ACTIONS)
          for (const role of ['CLAIMER', 'DONOR'] as const) {
            const key = `${type} ${status} ${label(action)} ${role}`;
            const claim = fixture(type, status);
            const r = applyClaimAction(claim, action, ispbOf(role), AFTER_DEADLINES);
            const expected = LEGAL[key];
            if (expected === undefined) {
              expect({ key, ok: r.ok }).toEqual({ key, ok: false });
              continue;
            }
            legal++;
            expect({ key, ok: r.ok }).toEqual({ key, ok: true });
            if (!r.ok) continue;
            if (expected === '=') {
              expect({ key, changed: r.value.changed, claim: r.value.claim }).toEqual({ key, changed: false, claim });
            } else {
              expect({ key, status: r.value.claim.status, changed: r.value.changed }).toEqual({ key, status: expected as never, changed: true });
              expect(r.value.claim.lastModifiedMs).toBe(AFTER_DEADLINES);
            }
          }
    expect(legal).toBe(Object.keys(LEGAL).length);
  });

  test('a participant that is neither claimer nor donor is forbidden', () => {
    const r = applyClaimAction(fixture('PORTABILITY', 'OPEN'), { kind: 'acknowledge' }, '99999999', T0);
    expect(r.ok ? null : r.error.code).toBe('Forbidden');
  });

  test('a cancellation records who cancelled and why', () => {
    const r = applyClaimAction(fixture('PORTABILITY', 'WAITING_RESOLUTION'), { kind: 'cancel', reason: 'FRAUD' }, DONOR, T0);
    expect(r.ok && r.value.claim).toMatchObject({ status: 'CANCELLED', cancelReason: 'FRAUD', cancelledBy: 'DONOR' });
  });
});

describe('claim deadlines', () => {
  test('new claims end their resolution period 7 days after creation', () => {
    const c = newClaim('PORTABILITY', CLAIMER, DONOR, T0);
    expect(c.resolutionPeriodEndMs - T0).toBe(7 * 24 * 3600 * 1000);
    expect(c.status).toBe('OPEN');
  });
  test('portability left unanswered cannot be cancelled for default before 7 days, and can after', () => {
    const c = fixture('PORTABILITY', 'WAITING_RESOLUTION');
    const early = applyClaimAction(c, { kind: 'cancel', reason: 'DEFAULT_OPERATION' }, DONOR, c.resolutionPeriodEndMs - 1);
    expect(early.ok ? null : early.error.code).toBe('ClaimResolutionPeriodNotEnded');
    const late = applyClaimAction(c, { kind: 'cancel', reason: 'DEFAULT_OPERATION' }, DONOR, c.resolutionPeriodEndMs);
    expect(late.ok && late.value.claim.status).toBe('CANCELLED');
  });
  test('ownership: the donor confirms for default only after the resolution period', () => {
    const c = fixture('OWNERSHIP', 'WAITING_RESOLUTION');
    const early = applyClaimAction(c, { kind: 'confirm', reason: 'DEFAULT_OPERATION' }, DONOR, T0 + 1000);
    expect(early.ok ? null : early.error.code).toBe('ClaimResolutionPeriodNotEnded');
  });
  test('ownership confirmed by the donor\'s user brings completion forward so the claimer completes at once', () => {
    const c = fixture('OWNERSHIP', 'WAITING_RESOLUTION');
    const at = T0 + 60_000;
    const confirmed = applyClaimAction(c, { kind: 'confirm', reason: 'USER_REQUESTED' }, DONOR, at);
    expect(confirmed.ok && confirmed.value.claim.completionPeriodEndMs).toBe(at);
    if (!confirmed.ok) return;
    const done = applyClaimAction(confirmed.value.claim, { kind: 'complete' }, CLAIMER, at);
    expect(done.ok && done.value.claim.status).toBe('COMPLETED');
  });
  test('ownership confirmed for default cannot be completed before CompletionPeriodEnd', () => {
    const c = { ...fixture('OWNERSHIP', 'CONFIRMED'), confirmReason: 'DEFAULT_OPERATION' as const };
    const r = applyClaimAction(c, { kind: 'complete' }, CLAIMER, c.completionPeriodEndMs - 1);
    expect(r.ok ? null : r.error.code).toBe('ClaimCompletionPeriodNotEnded');
  });
  test('portability completes as soon as it is confirmed', () => {
    const c = fixture('PORTABILITY', 'CONFIRMED');
    expect(applyClaimAction(c, { kind: 'complete' }, CLAIMER, T0 + 1).ok).toBe(true);
  });
});

test('EVP keys cannot be claimed; CPF/CNPJ only by portability', () => {
  expect(checkClaimable('PORTABILITY', 'EVP').ok).toBe(false);
  expect(checkClaimable('OWNERSHIP', 'CPF').ok).toBe(false);
  expect(checkClaimable('PORTABILITY', 'CNPJ').ok).toBe(true);
  expect(checkClaimable('OWNERSHIP', 'EMAIL').ok).toBe(true);
});
