import { describe, expect, test } from 'bun:test';
import type { ClaimRow } from '../../services/bacen-sandbox/dict/claims/store.ts';
import type { InfractionRow } from '../../services/bacen-sandbox/dict/infractions/service.ts';
import { DEFAULT_RULES, type DictRules } from '../../services/bacen-sandbox/dict/simulation/rules.ts';
import { claimActionFor, infractionActionFor } from '../../services/bacen-sandbox/dict/simulation/worker.ts';

const SIM = '10000001';
const US = '12345678';
const T0 = Date.UTC(2026, 10, 25, 12);
const DAY = 86_400_000;

function claim(over: Partial<ClaimRow>): ClaimRow {
  return {
    id: 'c',
    type: 'PORTABILITY',
    key: 'k',
    key_type: 'EMAIL',
    status: 'OPEN',
    claimer_participant: US,
    donor_participant: SIM,
    claimer_account: { participant: US, accountNumber: '1', accountType: 'CACC', openingDate: '2020-01-01T00:00:00Z' },
    claimer: { type: 'NATURAL_PERSON', taxIdNumber: '52998224725', name: 'M' },
    created_at: new Date(T0),
    resolution_period_end: new Date(T0 + 7 * DAY),
    completion_period_end: new Date(T0 + 7 * DAY),
    last_modified: new Date(T0),
    confirm_reason: null,
    cancel_reason: null,
    cancelled_by: null,
    key_ownership_date: new Date(T0),
    ...over,
  };
}
const rules = (donor: Partial<DictRules['donor']>, complete = true): DictRules => ({ ...DEFAULT_RULES, donor: { ...DEFAULT_RULES.donor, ...donor }, claimer: { complete } });

describe('simulated PSP as donor', () => {
  test('acknowledges an open claim on its key, and not when told not to', () => {
    expect(claimActionFor(claim({}), rules({}), T0)).toEqual({ action: { kind: 'acknowledge' }, actor: SIM });
    expect(claimActionFor(claim({}), rules({ acknowledge: false }), T0)).toBeNull();
  });
  test('USER_REQUESTED confirms at once', () => {
    expect(claimActionFor(claim({ status: 'WAITING_RESOLUTION' }), rules({ resolve: 'USER_REQUESTED' }), T0)?.action).toEqual({ kind: 'confirm', reason: 'USER_REQUESTED' });
  });
  test('DEFAULT waits for the resolution period, then cancels a portability and confirms an ownership for default', () => {
    const waiting = claim({ status: 'WAITING_RESOLUTION' });
    expect(claimActionFor(waiting, rules({ resolve: 'DEFAULT' }), T0 + 7 * DAY - 1)).toBeNull();
    expect(claimActionFor(waiting, rules({ resolve: 'DEFAULT' }), T0 + 7 * DAY)?.action).toEqual({ kind: 'cancel', reason: 'DEFAULT_OPERATION' });
    expect(claimActionFor({ ...waiting, type: 'OWNERSHIP' }, rules({ resolve: 'DEFAULT' }), T0 + 7 * DAY)?.action).toEqual({ kind: 'confirm', reason: 'DEFAULT_OPERATION' });
    expect(claimActionFor(waiting, rules({ resolve: 'NEVER' }), T0 + 30 * DAY)).toBeNull();
  });
});

describe('simulated PSP as claimer', () => {
  const confirmed = claim({ status: 'CONFIRMED', claimer_participant: SIM, donor_participant: US });
  test('completes a confirmed portability; an ownership only after CompletionPeriodEnd', () => {
    expect(claimActionFor(confirmed, rules({}), T0)).toEqual({ action: { kind: 'complete' }, actor: SIM });
    expect(claimActionFor({ ...confirmed, type: 'OWNERSHIP' }, rules({}), T0)).toBeNull();
    expect(claimActionFor({ ...confirmed, type: 'OWNERSHIP' }, rules({}), T0 + 7 * DAY)?.action).toEqual({ kind: 'complete' });
    expect(claimActionFor(confirmed, rules({}, false), T0)).toBeNull();
  });
  test('never acts on claims between other participants', () => {
    expect(claimActionFor(claim({ donor_participant: '99999999' }), rules({}), T0)).toBeNull();
  });
});

test('a simulated PSP answers reports addressed to it: acknowledge, then close with the rule\'s result', () => {
  const report: InfractionRow = {
    id: 'r',
    transaction_id: 'E',
    infraction_type: 'FRAUD',
    reported_by: 'DEBITED_PARTICIPANT',
    report_details: 'd',
    status: 'OPEN',
    debited_participant: US,
    credited_participant: SIM,
    creation_time: new Date(T0),
    last_modified: new Date(T0),
    analysis_result: null,
    analysis_details: null,
  };
  expect(infractionActionFor(report, DEFAULT_RULES)).toEqual({ action: { kind: 'acknowledge' }, actor: SIM });
  expect(infractionActionFor({ ...report, status: 'ACKNOWLEDGED' }, { ...DEFAULT_RULES, infractions: { acknowledge: true, close: 'DISAGREED' } })?.action).toMatchObject({ kind: 'close', result: 'DISAGREED' });
  // a report the simulated PSP made itself is ours to answer
  expect(infractionActionFor({ ...report, reported_by: 'CREDITED_PARTICIPANT' }, DEFAULT_RULES)).toBeNull();
});
