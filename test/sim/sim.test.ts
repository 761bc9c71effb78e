// Deterministic simulation (VOPR-style): thousands of seeded runs of the payment path under a network that
// drops, delays, duplicates and reorders, with crashes at random points; invariants after every event.
// A failing seed prints the command that replays it with a trace.
import { describe, expect, test } from 'bun:test';
import { reproduce, runSeed, type SimOptions } from './sim.ts';

/** Enough seeds to cover every fault mix many times over, few enough to run in a few seconds. */
const SUITE_SEEDS = 2_000;
const SUITE_FROM = 1;

function firstFailure(count: number, opts: SimOptions = {}) {
  for (let s = SUITE_FROM; s < SUITE_FROM + count; s++) {
    const r = runSeed(s, opts);
    if (!r.ok) return r;
  }
  return null;
}

describe('the payment path under faults', () => {
  test(`${SUITE_SEEDS} seeds: nothing settled twice, money conserved, every payment final after the heal, idempotent answers identical`, () => {
    let payments = 0;
    let settled = 0;
    for (let s = SUITE_FROM; s < SUITE_FROM + SUITE_SEEDS; s++) {
      const r = runSeed(s);
      if (!r.ok) throw new Error(`seed ${s}: ${r.failure}\nreproduce: ${reproduce(s)}`);
      payments += r.payments;
      settled += r.settled;
    }
    // the runs did move money: an all-drop world that settles nothing would pass vacuously
    expect(payments).toBeGreaterThan(SUITE_SEEDS * 2);
    expect(settled).toBeGreaterThan(payments / 3);
  }, 30_000);

  test('a seed replays exactly', () => {
    const a = runSeed(303, { trace: true });
    const b = runSeed(303, { trace: true });
    expect(a.ok).toBe(true);
    expect(b.trace).toEqual(a.trace);
    expect(b.steps).toBe(a.steps);
  });
});

describe('the invariants catch a broken decision', () => {
  test('treating the AM05 answer to our own re-send as a rejection releases money SPI settled', () => {
    const r = firstFailure(500, { bug: 'am05-rejects' });
    expect(r?.failure).toMatch(/REJECTED here but SPI settled it|SETTLED|debited/);
  });

  test('without the Postgres idempotency row, a retry after a lapsed claim makes a second payment', () => {
    const r = firstFailure(2_000, { bug: 'no-idempotency-index' });
    expect(r?.failure).toMatch(/made 2 payments|answered differently/);
  });
});

// Known gap (issue 9 report): SEND_ATTEMPTS_MAX sends, all lost → TIMED_OUT with nothing re-sending it
// until the next restart. The default runs require the money to stay held and a restart to decide it.
test('a payment whose every send was lost stays TIMED_OUT (money held, SPI never saw it) until a restart re-sends it', () => {
  const gap = firstFailure(SUITE_SEEDS, { strict: true });
  expect(gap?.failure).toMatch(/TIMED_OUT after the heal: every send was lost/);
  expect(runSeed(gap!.seed).ok).toBe(true);
});
