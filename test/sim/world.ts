// The simulated world: a fake clock, one event queue, and a network between named nodes that drops,
// delays (and so reorders) and duplicates messages while faults are on. Nodes that are down lose what
// arrives. Nothing here knows about payments.
import { ManualClock } from '../../shared/clock.ts';
import type { Rng } from './prng.ts';

export type NodeName = 'client' | 'psp' | 'spi' | 'stream' | 'consumer';

export interface Faults {
  dropRate: number;
  duplicateRate: number;
  /** each delivery waits latencyMsMin + up to latencyMsJitter: jitter is what reorders */
  latencyMsMin: number;
  latencyMsJitter: number;
  /** chance that a process dies at each crash point of its handlers */
  crashRate: number;
}

/** After the heal: the network delivers everything (late, maybe twice) and nothing crashes. */
export const HEALED_DROP_RATE = 0;

interface Scheduled {
  at: number;
  seq: number;
  run: () => void;
}

export class Crash extends Error {
  constructor(readonly node: NodeName) {
    super(`${node} crashed`);
  }
}

export class World {
  readonly clock: ManualClock;
  readonly trace: string[] = [];
  #queue: Scheduled[] = [];
  #seq = 0;
  #handlers = new Map<NodeName, (msg: unknown, from: NodeName) => void>();
  #up = new Map<NodeName, boolean>();
  steps = 0;

  constructor(readonly rng: Rng, public faults: Faults, startMs: number, readonly traceOn: boolean) {
    this.clock = new ManualClock(startMs);
  }

  now(): number {
    return this.clock.nowMs();
  }

  log(line: string): void {
    if (this.traceOn) this.trace.push(`${String(this.now() - START_MS).padStart(7)}ms ${line}`);
  }

  at(delayMs: number, run: () => void): void {
    const item = { at: this.now() + Math.max(0, delayMs), seq: this.#seq++, run };
    // small queues (tens of items): a sorted insert is cheaper than a heap here
    let i = this.#queue.length;
    while (i > 0 && (this.#queue[i - 1]!.at > item.at || (this.#queue[i - 1]!.at === item.at && this.#queue[i - 1]!.seq > item.seq))) i--;
    this.#queue.splice(i, 0, item);
  }

  register(node: NodeName, handle: (msg: unknown, from: NodeName) => void): void {
    this.#handlers.set(node, handle);
    this.#up.set(node, true);
  }

  isUp(node: NodeName): boolean {
    return this.#up.get(node) === true;
  }

  setUp(node: NodeName, up: boolean): void {
    this.#up.set(node, up);
  }

  send(from: NodeName, to: NodeName, msg: unknown): void {
    if (this.rng.chance(this.faults.dropRate)) {
      this.log(`drop ${from}→${to} ${describe(msg)}`);
      return;
    }
    const copies = this.rng.chance(this.faults.duplicateRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const delay = this.faults.latencyMsMin + this.rng.int(0, this.faults.latencyMsJitter);
      this.at(delay, () => {
        if (!this.isUp(to)) return;
        this.#handlers.get(to)!(msg, from);
      });
    }
  }

  /** A crash point: with the fault rate, the node dies here (the caller's handler unwinds). */
  maybeCrash(node: NodeName): void {
    if (this.rng.chance(this.faults.crashRate)) throw new Crash(node);
  }

  /** Runs one event; false when nothing is left or the time limit passed. */
  step(untilMs: number): boolean {
    const next = this.#queue.shift();
    if (next === undefined || next.at > untilMs) {
      if (next) this.#queue.unshift(next);
      return false;
    }
    if (next.at > this.now()) this.clock.advance(next.at - this.now());
    this.steps++;
    next.run();
    return true;
  }

  get pending(): number {
    return this.#queue.length;
  }
}

export const START_MS = Date.UTC(2026, 10, 25, 12, 0, 0);

function describe(msg: unknown): string {
  const m = msg as { kind?: string; e2e?: string; key?: string };
  return [m.kind, m.e2e ?? m.key].filter(Boolean).join(' ');
}
