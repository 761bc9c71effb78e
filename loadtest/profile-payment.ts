// Where one outbound payment's time goes: the SPI service and the BACEN sandbox run in this process (the
// test harnesses, real Postgres/Redis/NATS and mTLS), their seams are wrapped with timestamps, and payments
// are sent one at a time so every event between a request's start and its answer belongs to it. Prints
// the median timeline (ms since the client sent POST /payments) and, as the last line, one JSON object.
// With --concurrency N (> 1) it runs N clients in a closed loop for --seconds and prints, per wrapped seam,
// the duration percentiles under load instead (where the queueing is). Add `bun --cpu-prof-md` for CPU.
// Usage: bun loadtest/profile-payment.ts [--count 40] [--concurrency 64 --seconds 10] [--long-poll]
import { startSpi } from '../test/spi/support/harness.ts';

const argCount = process.argv.indexOf('--count');
const COUNT = argCount > 0 ? Number(process.argv[argCount + 1]) : 40;
const argConc = process.argv.indexOf('--concurrency');
const CONCURRENCY = argConc > 0 ? Number(process.argv[argConc + 1]) : 1;
const argSec = process.argv.indexOf('--seconds');
const SECONDS = argSec > 0 ? Number(process.argv[argSec + 1]) : 10;
/** quiet time between payments, so the pollers are idle when the next one starts (as at low load) */
const GAP_MS = 30;

const h = await startSpi('profile', { syncWaitMs: 5_000, answerTimeoutMs: 10_000 });
let events: { what: string; at: number }[] = [];
const mark = (what: string) => events.push({ what, at: performance.now() });
/** label → durations (ms) of every call, for the loaded mode */
const durations = new Map<string, number[]>();

function wrap<T extends object, K extends keyof T>(obj: T, key: K, name: string, after?: (r: any, args: any[]) => string | null): void {
  const orig = (obj[key] as (...a: any[]) => any).bind(obj);
  (obj as any)[key] = (...args: any[]) => {
    const label = typeof name === 'string' ? name : String(key);
    mark(`${label}:start`);
    const t = performance.now();
    const r = orig(...args);
    const end = (v: any) => {
      const extra = after?.(v, args);
      if (extra !== null) {
        mark(`${extra ?? label}:end`);
        const list = durations.get(extra ?? label) ?? [];
        list.push(performance.now() - t);
        durations.set(extra ?? label, list);
      }
      return v;
    };
    return r instanceof Promise ? r.then(end) : end(r);
  };
}

/** --long-poll: the pollers ask the sandbox to hold an empty poll (?waitMs=, services/bacen-sandbox/spi/routes.ts) */
const LONG_POLL_MS = process.argv.includes('--long-poll') ? 1_000 : 0;
if (LONG_POLL_MS > 0) {
  const request = h.deps.bacen.request.bind(h.deps.bacen);
  h.deps.bacen.request = ((method: string, path: string, o?: any) =>
    request(method as never, method === 'GET' && path.includes('/stream/') && !path.includes('max=0') ? `${path}&waitMs=${LONG_POLL_MS}` : path, o)) as typeof h.deps.bacen.request;
}
wrap(h.deps.signer, 'signSpi', 'spi.sign pacs.008');
wrap(h.deps.bacen, 'request', 'mtls', (r, args) => {
  if (args[0] === 'POST') return 'mtls POST pacs.008 (incl. sandbox)';
  const n = r.ok ? (JSON.parse(r.value.body).messages?.length ?? 0) : 0;
  return n > 0 ? 'mtls GET inbox (pacs.002 pulled)' : null;
});
wrap(h.sandbox.deps.verifier, 'verify', 'sandbox verify pacs.008');
wrap(h.sandbox.deps.signer, 'signSpi', 'sandbox sign pacs.002');

await h.openAccount('0909', '4242', '52998224725', '1000000.00');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))] ?? NaN;
const pay = (i: number, key: string) => h.http('POST', '/payments', {
  amount: '1.00', debtor: { branch: '0909', number: '4242' },
  creditor: { account: { ispb: '10000001', branch: '0001', number: String(100000 + (i % 50_000)), accountType: 'CACC', taxId: '11222333000181', name: 'Loja Perfil' } },
}, { 'idempotency-key': key });

if (CONCURRENCY > 1) {
  const end = performance.now() + SECONDS * 1000;
  const lat: number[] = [];
  let n = 0;
  const run = Date.now();
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < end) {
      const i = n++;
      const t0 = performance.now();
      const r = await pay(i, `profile-${run}-${i}`);
      if (r.status !== 201 && r.status !== 202) throw new Error(`payment ${i}: ${r.status} ${r.text}`);
      lat.push(performance.now() - t0);
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(`${CONCURRENCY} clients, ${elapsed.toFixed(1)} s: ${(lat.length / elapsed).toFixed(0)} payments/s, CPU (sandbox + SPI + clients, one process) ${(((cpu.user + cpu.system) / 1e6 / elapsed) * 100).toFixed(0)}% of a core`);
  console.log('seam                                          calls    p50 ms    p99 ms');
  for (const [what, xs] of durations) console.log(`${what.padEnd(44)} ${String(xs.length).padStart(6)} ${median(xs).toFixed(2).padStart(9)} ${pct(xs, 0.99).toFixed(2).padStart(9)}`);
  console.log(`${'client POST /payments → answer'.padEnd(44)} ${String(lat.length).padStart(6)} ${median(lat).toFixed(2).padStart(9)} ${pct(lat, 0.99).toFixed(2).padStart(9)}`);
  await h.stop();
  console.log(JSON.stringify({ payments_per_s: Math.round(lat.length / elapsed), p50_ms: Number(median(lat).toFixed(2)), seams: Object.fromEntries([...durations].map(([k, xs]) => [k, { calls: xs.length, p50_ms: Number(median(xs).toFixed(2)) }])) }));
  process.exit(0);
}
const timelines: Map<string, number[]> = new Map();
const totals: number[] = [];
for (let i = 0; i < COUNT; i++) {
  await Bun.sleep(GAP_MS);
  events = [];
  const t0 = performance.now();
  const r = await pay(i, `profile-${Date.now()}-${i}`);
  const t1 = performance.now();
  if (r.status !== 201) throw new Error(`payment ${i}: ${r.status} ${r.text}`);
  if (i < 5) continue; // warm-up: connections, JIT, caches
  totals.push(t1 - t0);
  const seen = new Set<string>();
  for (const e of events) {
    if (e.at > t1 || seen.has(e.what)) continue;
    seen.add(e.what);
    const list = timelines.get(e.what) ?? [];
    list.push(e.at - t0);
    timelines.set(e.what, list);
  }
}
const rows = [...timelines.entries()].map(([what, xs]) => ({ what, ms: median(xs) })).sort((a, b) => a.ms - b.ms);
console.log(`one payment at a time (${totals.length} after warm-up), median ms since POST /payments was sent:`);
for (const r of rows) console.log(`  ${r.ms.toFixed(2).padStart(8)}  ${r.what}`);
console.log(`  ${median(totals).toFixed(2).padStart(8)}  201 received by the client`);
await h.stop();
console.log(JSON.stringify({ total_ms: Number(median(totals).toFixed(2)), timeline: Object.fromEntries(rows.map((r) => [r.what, Number(r.ms.toFixed(2))])) }));
process.exit(0);
