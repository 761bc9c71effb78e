// Token-bucket rate limiting as DICT applies it (PIX.md § Rate limits, DICT API 1.8): each policy has a
// scope (end user or participant), a refill of RefillTokens every RefillPeriodSec, a capacity, and a
// counting rule by response status. Pure arithmetic on a {tokens, refilledAtMs} value: the sandbox keeps
// these in Postgres, the DICT service in memory, and both charge the same costs.
export type PolicyScope = 'USER' | 'PSP';

export interface BucketPolicy {
  name: string;
  scope: PolicyScope;
  refillTokens: number;
  refillPeriodSec: number;
  capacity: number;
}

export interface Bucket {
  tokens: number;
  refilledAtMs: number;
}

const MIN = 60;

/** The end-user anti-scan bucket holds 100 tokens for a natural person and 1,000 for a legal person. */
export const USER_ANTISCAN_CAPACITY = { NATURAL_PERSON: 100, LEGAL_PERSON: 1_000 } as const;

/** Participant categories A–F (BACEN assigns one to each participant by its volume). */
export const PARTICIPANT_CATEGORIES = ['A', 'B', 'C', 'D', 'E', 'F'] as const;
export type ParticipantCategory = (typeof PARTICIPANT_CATEGORIES)[number];

// PIX.md gives A (12,000/min, 20,000) and F (2/min, 1,000); B–E are interpolated between them until the
// spec's own table is transcribed here (said so in the hand-over).
const PARTICIPANT_ANTISCAN_RATES: Record<ParticipantCategory, { perMin: number; capacity: number }> = {
  A: { perMin: 12_000, capacity: 20_000 },
  B: { perMin: 3_600, capacity: 12_000 },
  C: { perMin: 1_000, capacity: 6_000 },
  D: { perMin: 200, capacity: 3_000 },
  E: { perMin: 20, capacity: 1_500 },
  F: { perMin: 2, capacity: 1_000 },
};

const psp = (name: string, perMin: number, capacity: number): BucketPolicy => ({ name, scope: 'PSP', refillTokens: perMin, refillPeriodSec: MIN, capacity });

/** Participant-scope policies with fixed parameters (PIX.md table; the rest from the DICT API table). */
export const PSP_POLICIES = {
  ENTRIES_WRITE: psp('ENTRIES_WRITE', 1_200, 36_000),
  ENTRIES_UPDATE: psp('ENTRIES_UPDATE', 600, 600),
  CLAIMS_WRITE: psp('CLAIMS_WRITE', 1_200, 36_000),
  KEYS_CHECK: psp('KEYS_CHECK', 70, 70),
  REFUNDS_WRITE: psp('REFUNDS_WRITE', 2_400, 72_000),
  CLAIMS_READ: psp('CLAIMS_READ', 1_800, 9_000),
  CLAIMS_LIST_WITH_ROLE: psp('CLAIMS_LIST_WITH_ROLE', 20, 100),
  CLAIMS_LIST_WITHOUT_ROLE: psp('CLAIMS_LIST_WITHOUT_ROLE', 5, 25),
  SYNC_VERIFICATIONS_WRITE: psp('SYNC_VERIFICATIONS_WRITE', 5, 25),
  CIDS_FILES_WRITE: { name: 'CIDS_FILES_WRITE', scope: 'PSP', refillTokens: 20, refillPeriodSec: 24 * 3600, capacity: 100 },
  CIDS_FILES_READ: psp('CIDS_FILES_READ', 5, 25),
  CIDS_EVENTS_LIST: psp('CIDS_EVENTS_LIST', 20, 100),
  CIDS_ENTRIES_READ: psp('CIDS_ENTRIES_READ', 3_600, 18_000),
  INFRACTION_REPORTS_READ: psp('INFRACTION_REPORTS_READ', 1_800, 9_000),
  INFRACTION_REPORTS_WRITE: psp('INFRACTION_REPORTS_WRITE', 3_600, 18_000),
} as const satisfies Record<string, BucketPolicy>;
export type PspPolicyName = keyof typeof PSP_POLICIES;

export const USER_ANTISCAN = 'ENTRIES_READ_USER_ANTISCAN';
export const USER_ANTISCAN_V2 = 'ENTRIES_READ_USER_ANTISCAN_V2';
export const PARTICIPANT_ANTISCAN = 'ENTRIES_READ_PARTICIPANT_ANTISCAN';

/** End-user anti-scan policy for a lookup: EMAIL/PHONE use the first, CPF/CNPJ/EVP the _V2 bucket. */
export function userAntiscanPolicy(keyType: string, payerType: 'NATURAL_PERSON' | 'LEGAL_PERSON'): BucketPolicy {
  const name = keyType === 'EMAIL' || keyType === 'PHONE' ? USER_ANTISCAN : USER_ANTISCAN_V2;
  return { name, scope: 'USER', refillTokens: 2, refillPeriodSec: MIN, capacity: USER_ANTISCAN_CAPACITY[payerType] };
}

export function participantAntiscanPolicy(category: ParticipantCategory): BucketPolicy {
  const p = PARTICIPANT_ANTISCAN_RATES[category];
  return psp(PARTICIPANT_ANTISCAN, p.perMin, p.capacity);
}

/** Tokens a finished request costs under `policyName` (the spec's counting rules). */
export function costOfResponse(policyName: string, status: number): number {
  if (policyName === USER_ANTISCAN || policyName === USER_ANTISCAN_V2) return status === 200 ? 1 : status === 404 ? 20 : 0;
  if (policyName === PARTICIPANT_ANTISCAN) return status === 200 ? 1 : status === 404 ? 3 : 0;
  // every other policy: any status but 500 costs one token (429s are refused before they run)
  return status === 500 || status === 429 ? 0 : 1;
}

/** A settled payment gives the anti-scan buckets of its lookup one token back. */
export const PAYMENT_SENT_CREDIT = 1;

export function fullBucket(policy: BucketPolicy, nowMs: number): Bucket {
  return { tokens: policy.capacity, refilledAtMs: nowMs };
}

/** Adds whole refill periods elapsed since the last refill, up to capacity. */
export function refill(bucket: Bucket, policy: BucketPolicy, nowMs: number): Bucket {
  const periodMs = policy.refillPeriodSec * 1000;
  const periods = Math.floor((nowMs - bucket.refilledAtMs) / periodMs);
  if (periods <= 0) return bucket;
  const tokens = Math.min(policy.capacity, bucket.tokens + periods * policy.refillTokens);
  // a full bucket restarts its period now, so tokens spent later refill a whole period after that
  return { tokens, refilledAtMs: tokens >= policy.capacity ? nowMs : bucket.refilledAtMs + periods * periodMs };
}

/** A request may run while the bucket holds at least one token (an empty bucket answers 429). */
export function hasTokens(bucket: Bucket): boolean {
  return bucket.tokens >= 1;
}

/** Charges `cost` after the response; the balance never goes below zero. */
export function charge(bucket: Bucket, policy: BucketPolicy, cost: number, nowMs: number): Bucket {
  const b = refill(bucket, policy, nowMs);
  return { tokens: Math.max(0, b.tokens - cost), refilledAtMs: b.refilledAtMs };
}

/** Gives tokens back (payment sent), up to capacity. */
export function credit(bucket: Bucket, policy: BucketPolicy, amount: number, nowMs: number): Bucket {
  const b = refill(bucket, policy, nowMs);
  return { tokens: Math.min(policy.capacity, b.tokens + amount), refilledAtMs: b.refilledAtMs };
}

/** Seconds until the next refill (the `PI-RateLimit-*Reset` headers). */
export function secondsToRefill(bucket: Bucket, policy: BucketPolicy, nowMs: number): number {
  if (bucket.tokens >= policy.capacity) return 0;
  const periodMs = policy.refillPeriodSec * 1000;
  return Math.max(0, Math.ceil((bucket.refilledAtMs + periodMs - nowMs) / 1000));
}

// In-place forms of refill/charge/credit for a bucket held in memory on a hot path (the DICT service's
// anti-scan copy): the same arithmetic, no allocation. The pure forms above stay for stored buckets.

/** `refill`, mutating `bucket`. */
export function refillInPlace(bucket: Bucket, policy: BucketPolicy, nowMs: number): void {
  const periodMs = policy.refillPeriodSec * 1000;
  const periods = Math.floor((nowMs - bucket.refilledAtMs) / periodMs);
  if (periods <= 0) return;
  const tokens = Math.min(policy.capacity, bucket.tokens + periods * policy.refillTokens);
  bucket.refilledAtMs = tokens >= policy.capacity ? nowMs : bucket.refilledAtMs + periods * periodMs;
  bucket.tokens = tokens;
}

/** `charge`, mutating `bucket`. */
export function chargeInPlace(bucket: Bucket, policy: BucketPolicy, cost: number, nowMs: number): void {
  refillInPlace(bucket, policy, nowMs);
  bucket.tokens = Math.max(0, bucket.tokens - cost);
}

/** `credit`, mutating `bucket`. */
export function creditInPlace(bucket: Bucket, policy: BucketPolicy, amount: number, nowMs: number): void {
  refillInPlace(bucket, policy, nowMs);
  bucket.tokens = Math.min(policy.capacity, bucket.tokens + amount);
}
