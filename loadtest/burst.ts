// A burst on top of the sustained load: end-to-end payments through the gateway (as payments.ts) at the
// sustained rate, then 1.5× it for --burst-seconds (default 10), then the sustained rate again. drain_s is the
// time from the burst's end until the backlog (requests in flight) is back to what it was before the burst.
// Loss audit afterwards. Prints a table; the LAST line is one JSON object:
//   sustained_per_s, burst_per_s, achieved_per_s, p50_ms, p99_ms, p999_ms, drain_s, errors, accepted, lost, duplicated
// Needs the platform: ./fluxiq up (in another terminal).
// Usage: bun loadtest/burst.ts [--rate N (sustained, default 0.5 × the RSA ceiling)] [--burst-seconds 10] [--seconds 10 (before and after)]
import { cpus } from 'node:os';
import { numberFlag } from './lib/args.ts';
import { opensslRsaSignsPerS } from './lib/ceilings.ts';
import { paymentLoad, percentiles } from './lib/payment-load.ts';
import { requirePlatform } from './lib/platform.ts';
import { lastLine, processJson, processTable, table } from './lib/report.ts';

// before measuring anything: say so at once when the platform is not running
await (await requirePlatform()).close();

/** The burst multiplies the sustained rate by this (issue 8). */
export const BURST_FACTOR = 1.5;
const AROUND_S = numberFlag('seconds', 10, 300);
const BURST_S = numberFlag('burst-seconds', 10, 120);
const rsaCeiling = Math.round(opensslRsaSignsPerS(cpus().length) / 2);
const RATE = numberFlag('rate', Math.round(rsaCeiling * 0.5), 20_000);
const BURST = Math.round(RATE * BURST_FACTOR);
const WARMUP_S = Math.min(5, AROUND_S / 2);

const r = await paymentLoad(
  [{ seconds: AROUND_S, ratePerS: RATE }, { seconds: BURST_S, ratePerS: BURST }, { seconds: AROUND_S, ratePerS: RATE }],
  { warmupS: WARMUP_S, countMax: 1_000_000, tag: 'burst' },
);
// the backlog before the burst: median in flight over the sustained phase after the warm-up
const before = r.samples.filter((s) => s.tS >= WARMUP_S && s.tS < AROUND_S).map((s) => s.inFlight).sort((a, b) => a - b);
const baseline = before[Math.floor(before.length / 2)] ?? 0;
const burstEnd = AROUND_S + BURST_S;
const threshold = Math.max(baseline * 1.2, baseline + 5);
const drained = r.samples.find((s) => s.tS >= burstEnd && s.inFlight <= threshold);
const drainS = drained ? Number((drained.tS - burstEnd).toFixed(1)) : Number((r.run.elapsedS - burstEnd).toFixed(1));
const peak = Math.max(0, ...r.samples.map((s) => s.inFlight));
const pc = percentiles(r.run);
table(`Burst: ${AROUND_S} s at ${RATE}/s, ${BURST_S} s at ${BURST}/s, ${AROUND_S} s at ${RATE}/s; load average ${r.load.join(' ')}`, [
  ['RSA ceiling', `${rsaCeiling} payments/s`],
  ['offered', `${r.run.offered}`],
  ['achieved', `${r.run.achievedPerS}/s over the run`],
  ['backlog', `in flight before ${baseline}, peak ${peak}; drained ${drained ? `${drainS} s after the burst` : `NOT within the run (${drainS} s after the burst it ended)`}`],
  ['latency', `p50 ${pc.p50_ms} ms  p99 ${pc.p99_ms} ms  p99.9 ${pc.p999_ms} ms`],
  ['errors', `${r.run.errors}${r.run.errorSamples.length ? ` e.g. ${r.run.errorSamples.join(' | ')}` : ''}`],
  ['loss audit', `accepted ${r.audit.accepted}, settled ${r.audit.settled}, rejected ${r.audit.rejected}, lost ${r.audit.lost}, duplicated ${r.audit.duplicated}; ledgers ${r.ledgerOk && r.sandboxOk ? 'agree' : 'DISAGREE'}`],
]);
processTable(r.procs);
await r.platform.close();
lastLine({
  sustained_per_s: RATE, burst_per_s: BURST, achieved_per_s: r.run.achievedPerS, ...pc, drain_s: drainS, drained: drained !== undefined,
  backlog_before: baseline, backlog_peak: peak, errors: r.run.errors, accepted: r.audit.accepted, lost: r.audit.lost, duplicated: r.audit.duplicated,
  ledger_ok: r.ledgerOk, sandbox_ok: r.sandboxOk, rsa_ceiling_per_s: rsaCeiling, load_avg: r.load, processes: processJson(r.procs),
});
process.exit(r.audit.lost === 0 && r.audit.duplicated === 0 && r.ledgerOk && r.sandboxOk ? 0 : 1);
