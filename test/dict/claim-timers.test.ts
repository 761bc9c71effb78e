// Our side of a claim has one timer per state (PIX.md § Claims); this walks the whole table for both roles.
import { describe, expect, test } from 'bun:test';
import { CLAIM_STATUSES, CLAIM_TYPES } from '../../shared/dict/claims.ts';
import { timerFor } from '../../services/dict/claims/claim.ts';

const NOW = Date.UTC(2026, 10, 25, 12);
const RES_END = NOW + 7 * 24 * 3600 * 1000;
const COMP_END = RES_END + 1000;

const expected: Record<string, string | null> = {
  // role/type/status → action@when
  'DONOR/OWNERSHIP/OPEN': 'ACKNOWLEDGE@now',
  'DONOR/PORTABILITY/OPEN': 'ACKNOWLEDGE@now',
  'DONOR/OWNERSHIP/WAITING_RESOLUTION': 'CONFIRM_DEFAULT@resolution',
  'DONOR/PORTABILITY/WAITING_RESOLUTION': 'CANCEL_DEFAULT@resolution',
  'CLAIMER/PORTABILITY/CONFIRMED': 'COMPLETE@now',
  'CLAIMER/OWNERSHIP/CONFIRMED': 'COMPLETE@completion',
};

describe('claim timers', () => {
  for (const role of ['CLAIMER', 'DONOR'] as const) {
    for (const type of CLAIM_TYPES) {
      for (const status of CLAIM_STATUSES) {
        const want = expected[`${role}/${type}/${status}`] ?? null;
        test(`${role} of a ${type} claim in ${status}: ${want ?? 'no timer (waits for the other side, or is over)'}`, () => {
          const t = timerFor({ role, type, status, resolutionPeriodEndMs: RES_END, completionPeriodEndMs: COMP_END }, NOW);
          if (want === null) return expect(t).toBeNull();
          const [action, when] = want.split('@');
          expect(t).toEqual({ action: action as never, atMs: when === 'now' ? NOW : when === 'resolution' ? RES_END : COMP_END });
        });
      }
    }
  }
});
