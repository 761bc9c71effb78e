// Time comes in as a dependency so deadlines (claims: 7 days, pacs.002: 10 s) are tested by advancing a
// clock, never by sleeping.
export interface Clock {
  now(): Date;
  nowMs(): number;
}

export const systemClock: Clock = {
  now: () => new Date(),
  nowMs: () => Date.now(),
};

export class ManualClock implements Clock {
  #ms: number;
  constructor(start: Date | number = Date.UTC(2026, 10, 25, 12, 0, 0)) {
    this.#ms = typeof start === 'number' ? start : start.getTime();
  }
  now(): Date {
    return new Date(this.#ms);
  }
  nowMs(): number {
    return this.#ms;
  }
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`a clock only moves forward (asked ${ms} ms)`);
    this.#ms += ms;
  }
  set(at: Date | number): void {
    this.#ms = typeof at === 'number' ? at : at.getTime();
  }
}

/**
 * Real time plus an offset that only grows: the sandbox's clock, which tests and the control API
 * advance to walk past deadlines (claims: 7 days) without waiting.
 */
export class OffsetClock implements Clock {
  #offsetMs = 0;
  now(): Date {
    return new Date(this.nowMs());
  }
  nowMs(): number {
    return Date.now() + this.#offsetMs;
  }
  get offsetMs(): number {
    return this.#offsetMs;
  }
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`a clock only moves forward (asked ${ms} ms)`);
    this.#offsetMs += ms;
  }
}

export type AdvanceableClock = Clock & { advance(ms: number): void };
