// Circuit breaker per upstream, as a transition table (STYLE.md). CLOSED counts consecutive failures;
// at BREAKER_FAILURES_MAX it opens and every request is answered 503 at once, without touching the
// upstream. After BREAKER_OPEN_MS one request goes through as a probe (HALF_OPEN, the others still get
// 503); its success closes the breaker, its failure opens it for another period. Pure: time comes in.

/**
 * Whether an upstream's answer counts against it. A 503 (or 429) carrying Retry-After is the upstream
 * answering on purpose — it sheds load, or a dependency of its own (DICT, Redis) is down — so it is alive and
 * the breaker must stay closed: opening on those answers refused every request for BREAKER_OPEN_MS, also the
 * ones the upstream could serve, and turned a short DICT timeout into seconds of refusals (seen in
 * `fluxiq faults`). Any other 5xx is a failure.
 */
export function countsAsFailure(status: number, retryAfter: string | null): boolean {
  if (status < 500) return false;
  return !(status === 503 && retryAfter !== null);
}

/** Consecutive failures (connect error, timeout, 5xx without Retry-After) that open the breaker. */
export const BREAKER_FAILURES_MAX = 5;
/** How long an open breaker refuses before letting one probe through. */
export const BREAKER_OPEN_MS = 5_000;

export const BREAKER_TRANSITIONS = {
  CLOSED: ['OPEN'],
  OPEN: ['HALF_OPEN'],
  HALF_OPEN: ['CLOSED', 'OPEN'],
} as const satisfies Record<string, readonly string[]>;

export type BreakerState = keyof typeof BREAKER_TRANSITIONS;

export interface Breaker {
  state: BreakerState;
  failures: number;
  openedAtMs: number;
  probeInFlight: boolean;
}

export const newBreaker = (): Breaker => ({ state: 'CLOSED', failures: 0, openedAtMs: 0, probeInFlight: false });

function move(b: Breaker, to: BreakerState): void {
  if (!(BREAKER_TRANSITIONS[b.state] as readonly string[]).includes(to)) throw new Error(`breaker: ${b.state} → ${to} is not a transition`);
  b.state = to;
}

/** May a request go to the upstream now? 'probe' means it is the half-open probe and must be reported. */
export function admit(b: Breaker, nowMs: number, openMs = BREAKER_OPEN_MS): 'pass' | 'probe' | 'refuse' {
  if (b.state === 'CLOSED') return 'pass';
  if (b.state === 'OPEN') {
    if (nowMs - b.openedAtMs < openMs) return 'refuse';
    move(b, 'HALF_OPEN');
  }
  if (b.probeInFlight) return 'refuse';
  b.probeInFlight = true;
  return 'probe';
}

export function onSuccess(b: Breaker): void {
  if (b.state === 'HALF_OPEN') {
    b.probeInFlight = false;
    move(b, 'CLOSED');
  }
  b.failures = 0;
}

export function onFailure(b: Breaker, nowMs: number, failuresMax = BREAKER_FAILURES_MAX): void {
  if (b.state === 'HALF_OPEN') {
    b.probeInFlight = false;
    move(b, 'OPEN');
    b.openedAtMs = nowMs;
    return;
  }
  if (b.state === 'OPEN') return; // a request admitted before the breaker opened finished late
  b.failures++;
  if (b.failures >= failuresMax) {
    move(b, 'OPEN');
    b.openedAtMs = nowMs;
  }
}
