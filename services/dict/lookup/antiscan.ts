// Our copy of DICT's anti-scan token buckets (PIX.md § Rate limits), in memory, so an end user who is
// scanning keys is refused here (429 RateLimited) before we spend BACEN's tokens — and so our cache can
// never be used to scan around DICT's limits: the end-user bucket is charged for every lookup, cached or
// not, while the participant bucket (which DICT charges us) only for lookups that reach DICT.
// The arithmetic is shared/dict/buckets.ts, the same the sandbox applies; here it runs in place on one
// state object per payer (its validated type and its two buckets), found with one Map read keyed by the
// raw PI-PayerId header: a cached lookup allocates nothing for its anti-scan check.
import {
  chargeInPlace, costOfResponse, creditInPlace, fullBucket, participantAntiscanPolicy, PAYMENT_SENT_CREDIT, refillInPlace, secondsToRefill,
  userAntiscanPolicy, USER_ANTISCAN, type Bucket, type BucketPolicy, type ParticipantCategory,
} from '../../../shared/dict/buckets.ts';
import { KEY_TYPES } from '../../../shared/dict/keys.ts';
import type { Clock } from '../../../shared/clock.ts';

/**
 * End users whose state is held. A bucket untouched for 50 minutes has refilled to full (100 tokens
 * at 2/min), so evicting the oldest one forgets nothing that matters unless more than this many distinct
 * payers look keys up within that time (an evicted payer's id is simply validated again). ~200 bytes each.
 */
export const ANTISCAN_USERS_MAX = 1_000_000;

export type PayerType = 'NATURAL_PERSON' | 'LEGAL_PERSON';

/** One end user: the payer id's type (its check digits verified once) and its two anti-scan buckets. */
export interface PayerState {
  readonly type: PayerType;
  /** ENTRIES_READ_USER_ANTISCAN (EMAIL, PHONE) */
  readonly contact: Bucket;
  /** ENTRIES_READ_USER_ANTISCAN_V2 (CPF, CNPJ, EVP) */
  readonly v2: Bucket;
}

export interface Admission {
  allowed: boolean;
  policy: BucketPolicy;
  /** seconds until a token comes back (Retry-After), when refused */
  retryAfterS: number;
}

export interface AntiScan {
  /** the state of a payer already validated, else undefined (validate the id, then `addPayer`) */
  payer(payerId: string): PayerState | undefined;
  addPayer(payerId: string, payerType: PayerType): PayerState;
  /** the user policy a lookup of `keyType` by this payer is counted under */
  policyOf(payer: PayerState, keyType: string): BucketPolicy;
  /**
   * Hot path (a cache hit): admits and charges the response's cost in one pass, in place. Returns 0 when
   * admitted, else the seconds until a token comes back (≥ 1, the Retry-After).
   */
  take(payer: PayerState, keyType: string, status: number, nowMs: number): number;
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
  // Updating a payer's buckets mutates its state in place, so a payer keeps its place in the Map: eviction
  // is by first use (FIFO), not LRU. Evicting a payer that is still active resets its buckets to full:
  // lenient, and only past ANTISCAN_USERS_MAX distinct payers.
  const payers = new Map<string, PayerState>();
  const pspPolicy = participantAntiscanPolicy(category);
  const psp = fullBucket(pspPolicy, clock.nowMs());

  // the policy objects are built once per (payer type, key type), not per request
  const policies: Record<PayerType, Record<string, BucketPolicy>> = { NATURAL_PERSON: {}, LEGAL_PERSON: {} };
  for (const payerType of ['NATURAL_PERSON', 'LEGAL_PERSON'] as const) {
    for (const keyType of KEY_TYPES) policies[payerType][keyType] = userAntiscanPolicy(keyType, payerType);
  }
  const policyOf = (payer: PayerState, keyType: string): BucketPolicy => policies[payer.type][keyType] ?? userAntiscanPolicy(keyType, payer.type);
  const bucketOf = (payer: PayerState, policy: BucketPolicy): Bucket => (policy.name === USER_ANTISCAN ? payer.contact : payer.v2);

  const addPayer = (payerId: string, type: PayerType): PayerState => {
    const now = clock.nowMs();
    // both buckets start full; the capacity is the payer type's (the same for both policies)
    const capacity = userAntiscanPolicy('EVP', type);
    const state: PayerState = { type, contact: fullBucket(capacity, now), v2: fullBucket(capacity, now) };
    payers.set(payerId, state);
    if (payers.size > usersMax) payers.delete(payers.keys().next().value as string);
    return state;
  };
  const stateOf = (payerId: string, type: PayerType): PayerState => {
    const known = payers.get(payerId);
    return known !== undefined && known.type === type ? known : addPayer(payerId, type);
  };
  const retryAfter = (b: Bucket, policy: BucketPolicy, now: number) => Math.max(1, secondsToRefill(b, policy, now));
  const take = (payer: PayerState, keyType: string, status: number, now: number): number => {
    const policy = policyOf(payer, keyType);
    const b = bucketOf(payer, policy);
    refillInPlace(b, policy, now);
    if (b.tokens < 1) return retryAfter(b, policy, now);
    chargeInPlace(b, policy, costOfResponse(policy.name, status), now);
    return 0;
  };

  return {
    payer: (payerId) => payers.get(payerId),
    addPayer,
    policyOf,
    take,
    admitUser(payerId, payerType, keyType) {
      const payer = stateOf(payerId, payerType);
      const policy = policyOf(payer, keyType);
      const b = bucketOf(payer, policy);
      const now = clock.nowMs();
      refillInPlace(b, policy, now);
      return b.tokens >= 1 ? { allowed: true, policy, retryAfterS: 0 } : { allowed: false, policy, retryAfterS: retryAfter(b, policy, now) };
    },
    takeUser(payerId, payerType, keyType, status) {
      const payer = stateOf(payerId, payerType);
      const retryAfterS = take(payer, keyType, status, clock.nowMs());
      return { allowed: retryAfterS === 0, policy: policyOf(payer, keyType), retryAfterS };
    },
    chargeUser(payerId, payerType, keyType, status) {
      const payer = stateOf(payerId, payerType);
      const policy = policyOf(payer, keyType);
      chargeInPlace(bucketOf(payer, policy), policy, costOfResponse(policy.name, status), clock.nowMs());
    },
    admitParticipant() {
      const now = clock.nowMs();
      refillInPlace(psp, pspPolicy, now);
      return psp.tokens >= 1 ? { allowed: true, policy: pspPolicy, retryAfterS: 0 } : { allowed: false, policy: pspPolicy, retryAfterS: retryAfter(psp, pspPolicy, now) };
    },
    chargeParticipant(status) {
      chargeInPlace(psp, pspPolicy, costOfResponse(pspPolicy.name, status), clock.nowMs());
    },
    creditPayment(payerId, payerType, keyType) {
      const payer = stateOf(payerId, payerType);
      const policy = policyOf(payer, keyType);
      const now = clock.nowMs();
      creditInPlace(bucketOf(payer, policy), policy, PAYMENT_SENT_CREDIT, now);
      creditInPlace(psp, pspPolicy, PAYMENT_SENT_CREDIT, now);
    },
    userTokens(payerId, payerType, keyType) {
      const payer = stateOf(payerId, payerType);
      const policy = policyOf(payer, keyType);
      const b = bucketOf(payer, policy);
      refillInPlace(b, policy, clock.nowMs());
      return b.tokens;
    },
  };
}
