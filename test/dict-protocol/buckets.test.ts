import { describe, expect, test } from 'bun:test';
import {
  charge,
  costOfResponse,
  credit,
  fullBucket,
  hasTokens,
  participantAntiscanPolicy,
  PSP_POLICIES,
  refill,
  secondsToRefill,
  userAntiscanPolicy,
} from '../../shared/dict/buckets.ts';

const T0 = Date.UTC(2026, 10, 25, 12);

describe('end-user anti-scan', () => {
  const natural = userAntiscanPolicy('PHONE', 'NATURAL_PERSON');
  test('a natural person holds 100 tokens, a legal person 1,000, refilled 2 per minute', () => {
    expect(natural).toMatchObject({ name: 'ENTRIES_READ_USER_ANTISCAN', capacity: 100, refillTokens: 2, refillPeriodSec: 60 });
    expect(userAntiscanPolicy('CPF', 'LEGAL_PERSON')).toMatchObject({ name: 'ENTRIES_READ_USER_ANTISCAN_V2', capacity: 1000 });
  });
  test('100 found lookups empty a natural person\'s bucket; the 101st is refused', () => {
    let b = fullBucket(natural, T0);
    for (let i = 0; i < 100; i++) {
      expect(hasTokens(b)).toBe(true);
      b = charge(b, natural, costOfResponse(natural.name, 200), T0);
    }
    expect(b.tokens).toBe(0);
    expect(hasTokens(b)).toBe(false);
  });
  test('a 404 costs 20: five misses empty the bucket', () => {
    let b = fullBucket(natural, T0);
    for (let i = 0; i < 5; i++) b = charge(b, natural, costOfResponse(natural.name, 404), T0);
    expect(hasTokens(b)).toBe(false);
  });
  test('refill adds 2 tokens per whole minute, up to capacity, and a sent payment gives one back', () => {
    let b = { tokens: 0, refilledAtMs: T0 };
    expect(refill(b, natural, T0 + 59_999).tokens).toBe(0);
    expect(secondsToRefill(b, natural, T0 + 30_000)).toBe(30);
    b = refill(b, natural, T0 + 150_000);
    expect(b).toEqual({ tokens: 4, refilledAtMs: T0 + 120_000 });
    expect(refill(b, natural, T0 + 3_600_000).tokens).toBe(100);
    expect(credit(b, natural, 1, T0 + 150_000).tokens).toBe(5);
    expect(credit(fullBucket(natural, T0), natural, 1, T0).tokens).toBe(100);
  });
});

describe('participant policies', () => {
  test('participant anti-scan: 404 costs 3, categories A and F as PIX.md', () => {
    expect(participantAntiscanPolicy('A')).toMatchObject({ refillTokens: 12_000, capacity: 20_000 });
    expect(participantAntiscanPolicy('F')).toMatchObject({ refillTokens: 2, capacity: 1_000 });
    expect(costOfResponse('ENTRIES_READ_PARTICIPANT_ANTISCAN', 404)).toBe(3);
  });
  test('write policies cost one token for anything but a 500', () => {
    expect(PSP_POLICIES.ENTRIES_WRITE).toMatchObject({ refillTokens: 1200, capacity: 36_000 });
    expect(PSP_POLICIES.KEYS_CHECK).toMatchObject({ refillTokens: 70, capacity: 70 });
    expect(costOfResponse('ENTRIES_WRITE', 201)).toBe(1);
    expect(costOfResponse('ENTRIES_WRITE', 400)).toBe(1);
    expect(costOfResponse('ENTRIES_WRITE', 500)).toBe(0);
  });
});
