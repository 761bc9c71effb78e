// Our copy of DICT's anti-scan token buckets (PIX.md § Rate limits), in memory, so an end user who is
// scanning keys is refused here (429 RateLimited) before we spend BACEN's tokens — and so our cache can
// never be used to scan around DICT's limits: the end-user bucket is charged for every lookup, cached or
// not, while the participant bucket (which DICT charges us) only for lookups that reach DICT.
// The arithmetic is shared/dict/buckets.ts, the same the sandbox applies.
import {
  charge, costOfResponse, credit, fullBucket, hasTokens, participantAntiscanPolicy, PAYMENT_SENT_CREDIT, refill, secondsToRefill,
  userAntiscanPolicy, type Bucket, type BucketPolicy, type ParticipantCategory,
} from '../../../shared/dict/buckets.ts';
import { KEY_TYPES } from '../../../shared/dict/keys.ts';
import type { Clock } from '../../../shared/clock.ts';

/**
 * End users whose buckets are held. A bucket untouched for 50 minutes has refilled to full (100 tokens
 * at 2/min), so evicting the oldest one forgets nothing that matters unless more than this many distinct
 * payers look keys up within that time. Held per user policy (two), so ~200 MB at ~100 bytes each.
 */
export const ANTISCAN_USERS_MAX = 1_000_000;

export type PayerType = 'NATURAL_PERSON' | 'LEGAL_PERSON';

export interface Admission {
  allowed: boolean;
  policy: BucketPolicy;
  /** seconds until a token comes back (Retry-After), when refused */
  retryAfterS: number;
}

export interface AntiScan {
  admitUser(payerId: string, payerType: PayerType, keyType: string): Admission;
  /** admit and charge in one pass, when the outcome (status) is known before answering (a cache hit) */
  takeUser(payerId: string, payerType: PayerType, keyType: string, status: number): Admission;
  chargeUser(payerId: string, payerType: PayerType, keyType: string, status: number): void;
  admitParticipant(): Admission;
  chargeParticipant(status: number): void;
  /** a payment was sent after a lookup: one token back to both scopes (PIX.md counting rules) */
  creditPayment(payerId: string, payerType: PayerType, keyType: string): void;
  userTokens(payerId: string, payerType: PayerType, keyType: string): number;
}

export function createAntiScan(clock: Clock, category: ParticipantCategory, usersMax = ANTISCAN_USERS_MAX): AntiScan {
  // one Map per policy, keyed by payer id (no per-request key concatenation)
  const users = new Map<string, Map<string, Bucket>>();
  const bucketsOf = (policy: BucketPolicy): Map<string, Bucket> => {
    let m = users.get(policy.name);
    if (m === undefined) users.set(policy.name, (m = new Map()));
    return m;
  };
  const pspPolicy = participantAntiscanPolicy(category);
  let psp = fullBucket(pspPolicy, clock.nowMs());

  // the policy objects are built once per (payer type, key type), not per request
  const policies: Record<PayerType, Record<string, BucketPolicy>> = { NATURAL_PERSON: {}, LEGAL_PERSON: {} };
  for (const payerType of ['NATURAL_PERSON', 'LEGAL_PERSON'] as const) {
    for (const keyType of KEY_TYPES) policies[payerType][keyType] = userAntiscanPolicy(keyType, payerType);
  }
  const userPolicy = (keyType: string, payerType: PayerType): BucketPolicy => policies[payerType][keyType] ?? userAntiscanPolicy(keyType, payerType);
  const current = (payerId: string, policy: BucketPolicy, now: number): Bucket => {
    const b = bucketsOf(policy).get(payerId);
    return b === undefined ? fullBucket(policy, now) : refill(b, policy, now);
  };
  // Updating an existing key keeps its place: eviction is by first use (FIFO), not LRU, because moving a
  // key on every lookup (delete + set) churns the hash table on the hot path. Evicting a payer that is
  // still active resets its bucket to full: lenient, and only past ANTISCAN_USERS_MAX distinct payers.
  const put = (payerId: string, policy: BucketPolicy, b: Bucket) => {
    const m = bucketsOf(policy);
    const had = m.has(payerId);
    m.set(payerId, b);
    if (!had && m.size > usersMax) m.delete(m.keys().next().value as string);
  };

  return {
    admitUser(payerId, payerType, keyType) {
      const policy = userPolicy(keyType, payerType);
      const now = clock.nowMs();
      const b = current(payerId, policy, now);
      return { allowed: hasTokens(b), policy, retryAfterS: hasTokens(b) ? 0 : Math.max(1, secondsToRefill(b, policy, now)) };
    },
    takeUser(payerId, payerType, keyType, status) {
      const policy = userPolicy(keyType, payerType);
      const now = clock.nowMs();
      const b = current(payerId, policy, now);
      if (!hasTokens(b)) return { allowed: false, policy, retryAfterS: Math.max(1, secondsToRefill(b, policy, now)) };
      put(payerId, policy, charge(b, policy, costOfResponse(policy.name, status), now));
      return { allowed: true, policy, retryAfterS: 0 };
    },
    chargeUser(payerId, payerType, keyType, status) {
      const policy = userPolicy(keyType, payerType);
      const now = clock.nowMs();
      put(payerId, policy, charge(current(payerId, policy, now), policy, costOfResponse(policy.name, status), now));
    },
    admitParticipant() {
      const now = clock.nowMs();
      psp = refill(psp, pspPolicy, now);
      return { allowed: hasTokens(psp), policy: pspPolicy, retryAfterS: hasTokens(psp) ? 0 : Math.max(1, secondsToRefill(psp, pspPolicy, now)) };
    },
    chargeParticipant(status) {
      psp = charge(psp, pspPolicy, costOfResponse(pspPolicy.name, status), clock.nowMs());
    },
    creditPayment(payerId, payerType, keyType) {
      const policy = userPolicy(keyType, payerType);
      const now = clock.nowMs();
      put(payerId, policy, credit(current(payerId, policy, now), policy, PAYMENT_SENT_CREDIT, now));
      psp = credit(psp, pspPolicy, PAYMENT_SENT_CREDIT, now);
    },
    userTokens(payerId, payerType, keyType) {
      const policy = userPolicy(keyType, payerType);
      return current(payerId, policy, clock.nowMs()).tokens;
    },
  };
}
