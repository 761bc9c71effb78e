// End-to-end outbound payments through the gateway at a fixed arrival rate (open model): token,
// Idempotency-Key, DICT resolve, sign, mTLS to the BACEN sandbox, pacs.002, persisted, WebSocket event.
// First it measures the RSA ceiling in the same run (`openssl speed -multi <cores> rsa2048` signs/s ÷ 2:
// every payment costs our signature and the sandbox's), then offers 0.5 of it unless --rate is given.
// Afterwards the loss audit. Prints a table; the LAST line is one JSON object:
//   offered_per_s, achieved_per_s, rsa_ceiling_per_s, ratio, p50_ms, p99_ms, p999_ms, errors, accepted, lost,
//   duplicated (+ ledger/sandbox agreement, WebSocket events, CPU/RSS per process, load average, ceilings).
// Needs the platform: ./fluxiq up (in another terminal).
// Usage: bun loadtest/payments.ts [--rate N] [--seconds 60] [--warmup 5] [--count-max 200000]
import { cpus } from 'node:os';
import { hasFlag, numberFlag } from './lib/args.ts';
import { bunHelloPerS, opensslRsaSignsPerS } from './lib/ceilings.ts';
import { paymentLoad, percentiles } from './lib/payment-load.ts';
import { requirePlatform } from './lib/platform.ts';
import { lastLine, processJson, processTable, table } from './lib/report.ts';

// before measuring anything: say so at once when the platform is not running
await (await requirePlatform()).close();

const SECONDS = numberFlag('seconds', 60, 600);
const WARMUP_S = Math.min(numberFlag('warmup', 5, 60), SECONDS / 2);
const COUNT_MAX = numberFlag('count-max', 200_000, 1_000_000);
const cores = cpus().length;
const rsaSigns = opensslRsaSignsPerS(cores);
const rsaCeiling = Math.round(rsaSigns / 2);
const hello = hasFlag('no-hello') ? 0 : await bunHelloPerS();
const RATE = numberFlag('rate', Math.round(rsaCeiling * 0.5), 20_000);

const r = await paymentLoad([{ seconds: SECONDS, ratePerS: RATE }], { warmupS: WARMUP_S, countMax: COUNT_MAX, tag: 'pay' });
const pc = percentiles(r.run);
const ratio = Number((r.run.achievedPerS / rsaCeiling).toFixed(3));
table(`End-to-end payments through the gateway, ${SECONDS} s at ${RATE}/s (warm-up ${WARMUP_S} s trimmed), ${cores} cores, load average ${r.load.join(' ')}`, [
  ['RSA ceiling', `${rsaSigns} signs/s (openssl -multi ${cores}) ÷ 2 = ${rsaCeiling} payments/s`],
  ['Bun.serve hello', `${hello} req/s`],
  ['offered', `${r.run.offered} (${r.run.offeredPerS}/s)`],
  ['achieved', `${r.run.achievedPerS}/s, ratio to the RSA ceiling ${ratio}`],
  ['latency', `p50 ${pc.p50_ms} ms  p99 ${pc.p99_ms} ms  p99.9 ${pc.p999_ms} ms  max ${Math.round(r.run.histogram.maxValue / 1000)} ms`],
  ['errors', `${r.run.errors} (skipped at the in-flight bound ${r.run.skipped})${r.run.errorSamples.length ? ` e.g. ${r.run.errorSamples.join(' | ')}` : ''}`],
  ['loss audit', `accepted ${r.audit.accepted}, found ${r.audit.found}, settled ${r.audit.settled}, rejected ${r.audit.rejected}, lost ${r.audit.lost}, duplicated ${r.audit.duplicated}`],
  ['ledgers', `payer account ${r.ledgerOk ? 'agrees' : 'DISAGREES'}, sandbox PI account ${r.sandboxOk ? 'agrees' : 'DISAGREES'} (settled R$ ${(Number(r.audit.settledCentavos) / 100).toFixed(2)})`],
  ['WebSocket', `${r.wsEvents} payment events matched, p99 ${r.wsP99Ms} ms after the request`],
]);
processTable(r.procs);
await r.platform.close();
lastLine({
  offered_per_s: r.run.offeredPerS, achieved_per_s: r.run.achievedPerS, rsa_ceiling_per_s: rsaCeiling, ratio, ...pc,
  errors: r.run.errors, accepted: r.audit.accepted, lost: r.audit.lost, duplicated: r.audit.duplicated,
  settled: r.audit.settled, rejected: r.audit.rejected, ledger_ok: r.ledgerOk, sandbox_ok: r.sandboxOk, ws_events: r.wsEvents, ws_p99_ms: r.wsP99Ms,
  hello_per_s: hello, rsa_signs_per_s: rsaSigns, cores, load_avg: r.load, processes: processJson(r.procs), seconds: SECONDS,
});
process.exit(r.audit.lost === 0 && r.audit.duplicated === 0 && r.ledgerOk && r.sandboxOk ? 0 : 1);
