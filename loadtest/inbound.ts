// Inbound payments: the sandbox's simulated PSPs send us pacs.008 at --rate for --seconds (control API
// POST /spi/traffic); we must answer each with a signed pacs.002 within SPI's deadline (10 s). The sandbox
// measures each answer from the message entering our inbox to our pacs.002 arriving (GET /spi/answers).
// Afterwards: every delivered payment is in our Postgres exactly once with a final status. Prints a table;
// the LAST line is one JSON object: offered_per_s, answered, answered_per_s, p50_ms, p99_ms, p999_ms,
// missed_deadlines, lost, duplicated.
// Needs the platform: ./fluxiq up (in another terminal).
// Usage: bun loadtest/inbound.ts [--rate 200] [--seconds 30]
import * as hdr from 'hdr-histogram-js';
import { numberFlag } from './lib/args.ts';
import { FINAL_STATUSES } from './lib/audit.ts';
import { ms } from './lib/open-model.ts';
import { json, requirePlatform, seedLoadUser } from './lib/platform.ts';
import { loadAverage, watchProcesses } from './lib/procstat.ts';
import { lastLine, processJson, processTable, table } from './lib/report.ts';

const RATE = numberFlag('rate', 200, 5_000);
const SECONDS = numberFlag('seconds', 30, 600);
/** SPI's deadline for the receiver (10 s) plus the time to settle and write: after this, unanswered is missed */
const SETTLE_WAIT_MS = 15_000;

/** The sandbox's traffic credits accounts 0001/1..1000 of holder 11144477735 (services/bacen-sandbox/spi/traffic.ts). */
const CREDITED_ACCOUNTS = 1_000;

const p = await requirePlatform();
// the credited accounts exist at our ledger (opened through the gateway once; later runs find them: 409)
const user = await seedLoadUser(p, `in-${Date.now().toString(36)}`, '1.00');
for (let i = 1; i <= CREDITED_ACCOUNTS; i += 50) {
  await Promise.all(Array.from({ length: 50 }, (_, k) => json('POST', `${p.gatewayUrl}/spi/accounts`, {
    branch: '0001', number: String(i + k), accountType: 'CACC', holderTaxId: '11144477735', holderName: 'Cliente FluxiQ',
  }, user.auth)));
}
const control = (method: string, path: string, body?: unknown) => json(method, `${p.sandboxControlUrl}${path}`, body);
const answersApi = await control('DELETE', '/spi/answers');
if (answersApi.status !== 204) {
  console.error('the running sandbox has no /spi/answers (answer latencies): restart the platform (./fluxiq up) with this version');
  process.exit(2);
}
const startedAt = new Date(Date.now() - 1_000);
const watch = watchProcesses();
const t0 = performance.now();
const started = await control('POST', '/spi/traffic', { ratePerS: RATE, seconds: SECONDS, returnsShare: 0 });
if (started.status !== 202) throw new Error(`traffic: ${started.status} ${JSON.stringify(started.json)}`);
// wait for the answers (or the deadline) of everything generated: polled, since one long request would
// outlive the control server's idle timeout
const total = Number(started.json.total);
const until = performance.now() + SECONDS * 1000 + SETTLE_WAIT_MS;
let a = (await control('GET', '/spi/answers')).json as { answered: number; missed: number; latenciesMs: number[] };
while (a.answered + a.missed < total && performance.now() < until) {
  await Bun.sleep(500);
  a = (await control('GET', '/spi/answers')).json;
}
const sentS = Math.min(SECONDS, (performance.now() - t0) / 1000);
const generated = total;
const procs = watch.stop();
const load = loadAverage();
const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
for (const v of a.latenciesMs) h.recordValue(Math.max(1, Math.round(v * 1000)));
// our side: inbound payments stored since the run began, each once, with a final status
await Bun.sleep(1_000);
const rows = await p.db.sql<{ status: string; n: number; ids: number }[]>`
  select status, count(*)::int as n, count(distinct end_to_end_id)::int as ids from transactions
  where direction = 'INBOUND' and created_at >= ${startedAt} group by status`;
const stored = rows.reduce((s, r) => s + r.n, 0);
const distinct = rows.reduce((s, r) => s + r.ids, 0);
const final = rows.filter((r) => FINAL_STATUSES.includes(r.status)).reduce((s, r) => s + r.n, 0);
const lost = Math.max(0, a.answered - final);
const pc = { p50_ms: ms(h.getValueAtPercentile(50)), p99_ms: ms(h.getValueAtPercentile(99)), p999_ms: ms(h.getValueAtPercentile(99.9)) };
table(`Inbound pacs.008 from the simulated PSPs, ${SECONDS} s at ${RATE}/s; load average ${load.join(' ')}`, [
  ['generated', `${generated} in ${sentS.toFixed(1)} s`],
  ['answered', `${a.answered} (${Math.round(a.answered / sentS)}/s), missed the deadline ${a.missed}`],
  ['answer latency', `p50 ${pc.p50_ms} ms  p99 ${pc.p99_ms} ms  p99.9 ${pc.p999_ms} ms (inbox → our pacs.002 at the sandbox)`],
  ['our Postgres', `${stored} inbound rows (${distinct} distinct EndToEndIds), ${final} final: ${rows.map((r) => `${r.status} ${r.n}`).join(', ')}`],
]);
processTable(procs);
await p.close();
lastLine({
  offered_per_s: RATE, generated, answered: a.answered, answered_per_s: Math.round(a.answered / sentS), ...pc, missed_deadlines: a.missed,
  stored, lost, duplicated: stored - distinct, load_avg: load, processes: processJson(procs), seconds: SECONDS,
});
process.exit(lost === 0 && stored === distinct ? 0 : 1);
