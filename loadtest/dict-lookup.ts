// Cached key lookups against the DICT service (:4001, or DICT_URL), against a Bun.serve hello world on
// another port measured in the same run, both driven by wrk (a JavaScript client on the same two cores
// would measure itself, not the server). The wrk Lua script spreads requests over many keys (seeded in
// the sandbox for its simulated PSPs) and many payer ids (so the anti-scan buckets are exercised but no
// payer runs dry). Keys are warmed first (one lookup each reaches DICT over mTLS; the rest are cache hits).
// Prints a table; the LAST line is one JSON object: lookups_per_s, hello_per_s, ratio, p50_ms, p99_ms.
// Usage: bun loadtest/dict-lookup.ts [--seconds 10] [--connections 64] [--keys 800] [--payers 20000] [--rounds 1]
// --rounds N alternates N lookup and hello-world runs of --seconds each and reports the median of the
// per-round figures: on a shared machine, load from elsewhere then weighs on both sides of the ratio.
// Needs the platform (`./fluxiq up`) and `wrk` (Debian: apt-get install -y wrk).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpfCheckDigits } from '../shared/dict/keys.ts';
import { loadConfig } from '../shared/config.ts';
import { DICT_SEED_DEFAULT, seedEntryAt } from '../services/bacen-sandbox/dict/simulation/seed.ts';
import { numberFlag } from './lib/args.ts';


const SECONDS = numberFlag('seconds', 10, 3_600);
const CONNECTIONS = numberFlag('connections', 64, 4_096);
/** Keys looked up; each is warmed by one lookup that reaches DICT (our participant bucket pays for it). */
const KEYS = numberFlag('keys', 800, 1_000_000);
/** Payers spread over: 100 tokens each, 2/min refill; the run must not empty them (that measures 429s). */
const PAYERS = numberFlag('payers', 20_000, 10_000_000);
/** Alternating lookup/hello pairs; the ratio, p50 and p99 reported are the medians over the rounds. */
const ROUNDS = numberFlag('rounds', 1, 20);
const WRK_THREADS = 1; // MEASURED.md's hello ceiling was taken with wrk -t1 -c64 on these two cores
const WARM_CONCURRENCY = 32;

const config = loadConfig();
const dictUrl = (process.env.DICT_URL ?? `http://127.0.0.1:${config.dictPort}`).replace(/\/+$/, '');

async function platformUp(): Promise<boolean> {
  try {
    const r = await fetch(`${dictUrl}/ready`, { signal: AbortSignal.timeout(2_000) });
    return r.ok;
  } catch {
    return false;
  }
}

if (spawnSync('wrk', ['--version']).error) {
  console.error('wrk is not installed: apt-get install -y wrk');
  process.exit(2);
}
if (!(await platformUp())) {
  console.error(`The DICT service is not answering at ${dictUrl}/ready.\nStart the platform first: ./fluxiq up   (or point DICT_URL at a running DICT service)`);
  process.exit(1);
}

/** Valid, distinct CPFs (payer ids) with their check digits, from a random start: a repeated run against
 *  the same service gets fresh payers, whose anti-scan buckets are full (a run spends ~35 tokens each). */
function payerIds(n: number): string[] {
  const out: string[] = [];
  const start = 100_000_000 + Math.floor(Math.random() * 800_000_000);
  for (let i = 0; out.length < n; i++) {
    const base = String(start + i * 7);
    const cpf = base + cpfCheckDigits(base);
    if (!/^(\d)\1{10}$/.test(cpf)) out.push(cpf);
  }
  return out;
}

/** Keys spread over the sandbox's seeded range (SANDBOX_DICT_SEED entries; entry i has key type i mod 5 and
 *  PSP i mod 6): the offset i mod 5 makes every key type appear whatever the stride, so both end-user
 *  anti-scan policies (EMAIL/PHONE and CPF/CNPJ/EVP) are exercised. */
function spreadKeys(n: number, seeded: number): string[] {
  const count = Math.min(n, seeded);
  const step = Math.max(1, Math.floor(seeded / count));
  return Array.from({ length: count }, (_, i) => seedEntryAt(Math.min(seeded - 1, i * step + (i % 5))).entry.key);
}
const keys = spreadKeys(KEYS, config.sandboxDictSeed > 0 ? config.sandboxDictSeed : DICT_SEED_DEFAULT);
const payers = payerIds(PAYERS);

// warm: one lookup per key, each with its own payer (the first lookup of a key reaches DICT)
let warmed = 0;
let failed = 0;
const queue = keys.map((k, i) => [k, payers[i % payers.length]!] as const);
await Promise.all(Array.from({ length: WARM_CONCURRENCY }, async () => {
  for (let item = queue.pop(); item; item = queue.pop()) {
    const r = await fetch(`${dictUrl}/keys/${encodeURIComponent(item[0])}/lookup`, { headers: { 'pi-payerid': item[1] } });
    await r.arrayBuffer();
    if (r.status === 200) warmed++;
    else failed++;
  }
}));
if (warmed === 0) {
  console.error(`no seeded key could be looked up (${failed} failed): is the sandbox seeded?`);
  process.exit(1);
}
const hot = keys.slice(0, warmed + failed);

const dir = mkdtempSync(join(tmpdir(), 'dict-lookup-'));
const lua = (paths: string[]) => `
local paths = { ${paths.map((p) => JSON.stringify(p)).join(', ')} }
local payers = { ${payers.map((p) => `"${p}"`).join(', ')} }
local n, m = #paths, #payers
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % n) + 1], { ["pi-payerid"] = payers[((i * 7919) % m) + 1] })
end
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("\\nRESULT %d %d %d %d %d\\n", summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), non2xx))
end
`;

// wrk runs as a child process awaited asynchronously: this process's event loop keeps serving the hello
// world meanwhile (a synchronous spawn would block it and measure nothing)
async function runWrk(url: string, script: string): Promise<{ rps: number; p50Ms: number; p99Ms: number; requests: number; non2xx: number }> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(file, script);
  const proc = Bun.spawn(['wrk', '-t', String(WRK_THREADS), '-c', String(CONNECTIONS), '-d', `${SECONDS}s`, '-s', file, url], { stdout: 'pipe', stderr: 'pipe' });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  const m = /RESULT (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(stdout);
  if (!m) throw new Error(`wrk gave no result: ${stdout}\n${stderr}`);
  const [requests, durationUs, p50Us, p99Us, non2xx] = m.slice(1).map(Number) as [number, number, number, number, number];
  return { rps: requests / (durationUs / 1e6), p50Ms: p50Us / 1000, p99Ms: p99Us / 1000, requests, non2xx };
}

const hello = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('hello') });
type Run = Awaited<ReturnType<typeof runWrk>>;
const rounds: { lookups: Run; hello: Run }[] = [];
try {
  const lookupScript = lua(hot.map((k) => `/keys/${encodeURIComponent(k)}/lookup`));
  const helloScript = lua(['/']);
  for (let r = 0; r < ROUNDS; r++) {
    const lookups = await runWrk(dictUrl, lookupScript);
    rounds.push({ lookups, hello: await runWrk(`http://127.0.0.1:${hello.port}`, helloScript) });
  }
} finally {
  hello.stop(true);
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const lookupsPerS = median(rounds.map((r) => r.lookups.rps));
const helloPerS = median(rounds.map((r) => r.hello.rps));
const ratio = median(rounds.map((r) => r.lookups.rps / r.hello.rps));
const p50Ms = median(rounds.map((r) => r.lookups.p50Ms));
const p99Ms = median(rounds.map((r) => r.lookups.p99Ms));
console.log(`keys ${hot.length} (warmed ${warmed}, not found ${failed}), payers ${payers.length}, wrk -t${WRK_THREADS} -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} round(s)`);
console.log('| run | req/s | p50 ms | p99 ms | non-2xx |');
console.log('|---|---:|---:|---:|---:|');
rounds.forEach(({ lookups, hello: h }, i) => {
  const tag = ROUNDS > 1 ? ` (round ${i + 1})` : '';
  console.log(`| DICT GET /keys/:key/lookup${tag} | ${lookups.rps.toFixed(0)} | ${lookups.p50Ms.toFixed(2)} | ${lookups.p99Ms.toFixed(2)} | ${lookups.non2xx} |`);
  console.log(`| Bun.serve hello world${tag} | ${h.rps.toFixed(0)} | ${h.p50Ms.toFixed(2)} | ${h.p99Ms.toFixed(2)} | ${h.non2xx} |`);
});
console.log(`ratio ${ratio.toFixed(3)} (goal >= 0.75), p99 ${p99Ms.toFixed(2)} ms (goal < 5 ms)${ROUNDS > 1 ? ' (medians over the rounds)' : ''}`);
console.log(JSON.stringify({
  lookups_per_s: Math.round(lookupsPerS), hello_per_s: Math.round(helloPerS), ratio: Number(ratio.toFixed(3)),
  p50_ms: Number(p50Ms.toFixed(3)), p99_ms: Number(p99Ms.toFixed(3)),
}));
