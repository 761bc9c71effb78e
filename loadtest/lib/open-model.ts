// The open-model load generator: requests start at their scheduled instant whether or not earlier ones
// have finished (a fixed arrival rate per phase), so latency under overload is what a client would see.
// Latency is measured from the SCHEDULED start (no coordinated omission: a generator that falls behind
// charges the delay to the system). Requests scheduled in the warm-up are sent but not counted. Every run
// is bounded: by its phases' seconds, by `countMax` requests, by `inFlightMax` concurrent ones (beyond it a
// request is counted `skipped`, not sent), and by `drainMsMax` after the last start.
import * as hdr from 'hdr-histogram-js';

/** The generator wakes this often to start what is due (Bun timers resolve at ~1 ms). */
export const TICK_MS = 1;
/** Histograms record microseconds up to this (2 minutes). */
export const LATENCY_US_MAX = 120_000_000;

export interface Phase {
  seconds: number;
  ratePerS: number;
}

export interface Outcome {
  ok: boolean;
  /** a short reason when not ok (status and title), for the error sample */
  detail?: string;
}

export interface OpenRunOptions {
  phases: Phase[];
  /** requests scheduled before this are not counted (connections, JIT, caches warming) */
  warmupS: number;
  countMax: number;
  inFlightMax: number;
  drainMsMax: number;
  fire: (i: number) => Promise<Outcome>;
  /** called every `sampleMs` with the number of requests in flight (the burst's backlog) */
  onSample?: (tS: number, inFlight: number) => void;
  sampleMs?: number;
}

export interface OpenRunResult {
  offered: number;
  offeredPerS: number;
  counted: number;
  ok: number;
  errors: number;
  skipped: number;
  unfinished: number;
  /** ok completions of counted requests per second of the counted window (ends at the last completion) */
  achievedPerS: number;
  histogram: hdr.Histogram;
  errorSamples: string[];
  /** seconds from the first to the last scheduled start */
  scheduleS: number;
  /** seconds from the first start to the last completion */
  elapsedS: number;
}

/** Scheduled start offsets (ms) for the phases, at most countMax. */
export function schedule(phases: Phase[], countMax: number): number[] {
  const out: number[] = [];
  let base = 0;
  for (const p of phases) {
    const n = Math.round(p.seconds * p.ratePerS);
    for (let k = 0; k < n && out.length < countMax; k++) out.push(base + (k * 1000) / p.ratePerS);
    base += p.seconds * 1000;
  }
  return out;
}

export const ms = (us: number): number => Math.round(us / 10) / 100;

export async function runOpen(o: OpenRunOptions): Promise<OpenRunResult> {
  const plan = schedule(o.phases, o.countMax);
  const totalS = o.phases.reduce((s, p) => s + p.seconds, 0);
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: LATENCY_US_MAX, numberOfSignificantValueDigits: 3 });
  const warmupMs = o.warmupS * 1000;
  let inFlight = 0;
  let ok = 0;
  let errors = 0;
  let skipped = 0;
  let counted = 0;
  let lastDoneMs = 0;
  const errorSamples: string[] = [];
  const pending = new Set<Promise<void>>();
  const t0 = performance.now();
  const sampler = o.onSample ? setInterval(() => o.onSample!((performance.now() - t0) / 1000, inFlight), o.sampleMs ?? 100) : null;

  const start = (i: number, at: number) => {
    const countedReq = at >= warmupMs;
    if (countedReq) counted++;
    if (inFlight >= o.inFlightMax) {
      skipped++;
      return;
    }
    inFlight++;
    const p = o.fire(i).then(
      (r) => r,
      (e: unknown) => ({ ok: false, detail: e instanceof Error ? e.message : String(e) }),
    ).then((r) => {
      inFlight--;
      const now = performance.now() - t0;
      if (!countedReq) return;
      histogram.recordValue(Math.max(1, Math.round((now - at) * 1000)));
      if (r.ok) {
        ok++;
        lastDoneMs = Math.max(lastDoneMs, now);
      } else {
        errors++;
        if (errorSamples.length < 5 && r.detail && !errorSamples.includes(r.detail)) errorSamples.push(r.detail);
      }
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  let next = 0;
  while (next < plan.length) {
    const now = performance.now() - t0;
    while (next < plan.length && plan[next]! <= now) start(next, plan[next]!), next++;
    if (next < plan.length) await Bun.sleep(Math.max(0, Math.min(TICK_MS, plan[next]! - (performance.now() - t0))));
  }
  const drainEnd = performance.now() + o.drainMsMax;
  while (pending.size > 0 && performance.now() < drainEnd) await Promise.race([Promise.all([...pending]), Bun.sleep(50)]);
  if (sampler) clearInterval(sampler);
  const unfinished = pending.size;
  const elapsedS = (performance.now() - t0) / 1000;
  const windowS = Math.max(0.001, (lastDoneMs - warmupMs) / 1000);
  return {
    offered: plan.length, offeredPerS: Math.round(plan.length / totalS), counted, ok, errors: errors + unfinished, skipped, unfinished,
    achievedPerS: Math.round(ok / windowS), histogram, errorSamples, scheduleS: totalS, elapsedS,
  };
}
