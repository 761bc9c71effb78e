// One seeded run: random faults for a while, then the network heals and the run must settle down. The
// invariants are checked after every event; the liveness ones once the world has gone quiet.
import { parseEndToEndId } from '../../shared/ids.ts';
import { FINAL_PAYMENT_STATES } from '../../shared/spi/payment-states.ts';
import { createRng } from './prng.ts';
import { Client, Consumer, ConsumerDurable, finalAnswer, Spi, Stream } from './peers.ts';
import { Psp, PspDurable, type PspOptions } from './psp.ts';
import { START_MS, World, type Faults } from './world.ts';

/** Faults run this long (simulated), then stop. */
export const FAULT_PHASE_MS = 5_000;
/** After the heal everything must be final within this long: longer than the idempotency in-flight TTL (60 s). */
export const HEAL_BUDGET_MS = 180_000;
/** A run that takes more events than this is itself a failure (a livelock). */
export const STEPS_MAX = 200_000;
export const INITIAL_BALANCE_CENTAVOS = 12_000n;

export interface SimOptions extends PspOptions {
  trace?: boolean;
  /**
   * Known gap (reported on issue 9): when every send attempt of a payment is lost, it goes TIMED_OUT and
   * nothing re-sends it or asks SPI until the process restarts (engine.recover()). By default the run
   * checks that such a payment never reached SPI and holds its money, then restarts the process and
   * requires the restart to decide it; strict fails on the gap itself.
   */
  strict?: boolean;
}

export interface SimResult {
  seed: number;
  ok: boolean;
  failure: string | null;
  steps: number;
  payments: number;
  settled: number;
  trace: string[];
}

class InvariantBroken extends Error {}
/** The message is built only on failure: the checks run after every event. */
function check(cond: boolean, what: () => string): void {
  if (!cond) throw new InvariantBroken(what());
}

export function runSeed(seed: number, opts: SimOptions = {}): SimResult {
  const rng = createRng(seed);
  const faults: Faults = {
    dropRate: rng.pick([0, 0.05, 0.2, 0.4]),
    duplicateRate: rng.pick([0, 0.1, 0.3]),
    latencyMsMin: rng.int(1, 20),
    latencyMsJitter: rng.pick([0, 30, 300, 1_500]),
    crashRate: rng.pick([0, 0.02, 0.1, 0.25]),
  };
  const w = new World(rng, faults, START_MS, opts.trace === true);
  const pspDb = new PspDurable();
  pspDb.account.availableCentavos = INITIAL_BALANCE_CENTAVOS;
  const psp = new Psp(w, pspDb, opts);
  const spi = new Spi(w, rng.pick([0, 0.1, 0.5]));
  new Stream(w);
  const consumerDb = new ConsumerDurable();
  new Consumer(w, consumerDb);
  const client = new Client(w, rng, rng.int(1, 8));
  client.start();
  w.log(`faults ${JSON.stringify(faults)}`);

  const result = (failure: string | null): SimResult => ({
    seed, ok: failure === null, failure, steps: w.steps, payments: pspDb.payments.size, settled: spi.settled.size, trace: w.trace,
  });
  try {
    let healed = false;
    while (true) {
      if (!healed && w.now() >= START_MS + FAULT_PHASE_MS) {
        healed = true;
        w.faults = { ...faults, dropRate: 0, crashRate: 0 };
        w.log('network healed');
      }
      const limit = healed ? START_MS + FAULT_PHASE_MS + HEAL_BUDGET_MS : START_MS + FAULT_PHASE_MS;
      if (!w.step(limit)) {
        if (!healed) {
          w.clock.advance(START_MS + FAULT_PHASE_MS - w.now());
          continue;
        }
        break;
      }
      check(w.steps < STEPS_MAX, () => `more than ${STEPS_MAX} events: livelock`);
      checkSafety(pspDb, spi, consumerDb, client);
    }
    if (!w.isUp('psp')) throw new Error('simulation bug: psp still down after the heal');
    const stuck = [...pspDb.payments.values()].filter((p) => p.snap.state === 'TIMED_OUT');
    if (stuck.length > 0) {
      for (const p of stuck) check(!spi.seen.has(p.e2e), () => `${p.e2e} TIMED_OUT after the heal though SPI received it`);
      check(opts.strict !== true, () => `${stuck.map((p) => p.e2e).join(', ')} TIMED_OUT after the heal: every send was lost and nothing re-sends it before a restart`);
      w.log(`${stuck.length} payment(s) TIMED_OUT unsent: restarting the process`);
      psp.crash();
      const until = w.now() + HEAL_BUDGET_MS;
      while (w.step(until)) checkSafety(pspDb, spi, consumerDb, client);
    }
    checkLiveness(pspDb, spi, consumerDb, client, w.pending);
    return result(null);
  } catch (e) {
    if (e instanceof InvariantBroken) return result(e.message);
    throw e;
  }
}

/** After every event. */
function checkSafety(d: PspDurable, spi: Spi, c: ConsumerDurable, client: Client): void {
  // no payment settled twice: not by SPI, not in our ledger, not in the projection
  for (const [e2e, n] of spi.settleCount) check(n === 1, () => `SPI settled ${e2e} ${n} times`);
  for (const [e2e, n] of d.debitsByE2e) check(n === 1, () => `our ledger debited ${e2e} ${n} times`);
  for (const [e2e, n] of c.countedByE2e) check(n === 1, () => `the consumer counted ${e2e} ${n} times`);
  // money is conserved: every centavo is available, held for an open payment or paid out
  const a = d.account;
  check(a.availableCentavos + a.heldCentavos + a.debitedCentavos === INITIAL_BALANCE_CENTAVOS, () => `money not conserved: ${a.availableCentavos}+${a.heldCentavos}+${a.debitedCentavos}`);
  check(a.availableCentavos >= 0n, () => 'negative balance');
  let held = 0n;
  let settled = 0n;
  const perKey = new Map<string, number>();
  for (const p of d.payments.values()) {
    if (p.snap.state === 'SENT' || p.snap.state === 'TIMED_OUT' || p.snap.state === 'RESERVED') held += p.snap.amountCentavos;
    if (p.snap.state === 'SETTLED') {
      settled += p.snap.amountCentavos;
      check(spi.settled.has(p.e2e), () => `${p.e2e} SETTLED here but not at SPI`);
    }
    if (p.snap.state === 'REJECTED') check(!spi.settled.has(p.e2e), () => `${p.e2e} REJECTED here but SPI settled it: money left without a debit`);
    perKey.set(p.key, (perKey.get(p.key) ?? 0) + 1);
  }
  check(held === a.heldCentavos, () => `held ${a.heldCentavos} but open payments add to ${held}`);
  check(settled === a.debitedCentavos, () => `debited ${a.debitedCentavos} but settled payments add to ${settled}`);
  for (const [key, n] of perKey) check(n === 1, () => `Idempotency-Key ${key} made ${n} payments`);
  // idempotent answers: every final answer for a key is the same bytes; a different body is refused
  for (const o of client.orders.values()) {
    let first: { status: number; body: string } | undefined;
    for (const f of o.answers) {
      if (f.status === 409) continue;
      first ??= f;
      check(f.status === first.status && f.body === first.body, () => `Idempotency-Key ${o.key} answered differently: ${JSON.stringify(o.answers)}`);
    }
    for (const s of o.misuseAnswers) check(s === 422 || s === 409, () => `a reused Idempotency-Key with another body got ${s}`);
  }
}

/** Once the healed world has nothing left to do. */
function checkLiveness(d: PspDurable, spi: Spi, c: ConsumerDurable, client: Client, pending: number): void {
  for (const p of d.payments.values()) {
    check(parseEndToEndId(p.e2e).ok, () => `bad EndToEndId ${p.e2e}`);
    check(FINAL_PAYMENT_STATES.includes(p.snap.state) || p.snap.state === 'SETTLED', () => `${p.e2e} still ${p.snap.state} after the heal`);
  }
  for (const e2e of spi.settled.keys()) check(d.payments.get(e2e)?.snap.state === 'SETTLED', () => `SPI settled ${e2e}, we say ${d.payments.get(e2e)?.snap.state}`);
  for (const o of client.orders.values()) check(finalAnswer(o) !== undefined, () => `order ${o.key} never got an answer`);
  check(d.outbox.size === 0, () => `${d.outbox.size} payment events never published`);
  check(c.settledCentavos === d.account.debitedCentavos, () => `projection ${c.settledCentavos} ≠ debited ${d.account.debitedCentavos}`);
  check(d.account.heldCentavos === 0n, () => `${d.account.heldCentavos} still held`);
  check(pending === 0, () => `${pending} events still pending at the end of the heal budget`);
}

export const reproduce = (seed: number) => `bun test/sim/run.ts --seed ${seed} --trace`;
