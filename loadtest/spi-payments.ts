// Outbound payments straight at the SPI service (:4002, or SPI_URL) through the BACEN sandbox: N clients
// in a closed loop each POST /payments (account-addressed, MANU, so DICT is not measured here) with their
// own Idempotency-Key and measure the time to the answer (201 decided within the sync wait, 202 accepted).
// Afterwards a loss audit: every accepted payment must be in Postgres with a final state, the payer's
// ledger balance must have gone down by exactly the settled sum, and (self mode) the sandbox PI account too.
// Prints a table; the LAST line is one JSON object:
//   payments_per_s (accepted / s), settled_per_s, p50_ms, p90_ms, p99_ms, max_ms, accepted, settled,
//   rejected, errors, lost (accepted but missing or undecided after the drain), ledger_ok, sandbox_ok
// Usage: bun loadtest/spi-payments.ts [--seconds 10] [--concurrency 64] [--self]
//   --self  starts its own sandbox (a child process, `fluxiq serve sandbox`) and the SPI service (in this
//           process) on ephemeral ports with a fresh schema; otherwise it needs the platform (`./fluxiq up`).
import * as hdr from 'hdr-histogram-js';
import postgres from 'postgres';
import { loadConfig } from '../shared/config.ts';
import { SANDBOX_PSPS } from '../shared/participants.ts';
import { numberFlag } from './lib/args.ts';


const SECONDS = numberFlag('seconds', 10, 3_600);
const CONCURRENCY = numberFlag('concurrency', 64, 4_096);
const SELF = process.argv.includes('--self');
/** Undecided payments are waited for this long after the run before they count as lost. */
const DRAIN_MS_MAX = 30_000;
const AMOUNT_CENTAVOS = 100n;
const BRANCH = '0909';
const ACCOUNT = String(Date.now() % 1_000_000_000);
const PAYER_TAX_ID = '52998224725';

let stop: () => Promise<void> = async () => {};
let url = process.env.SPI_URL ?? '';
let sqlUrl = '';
let schema = '';
let sandboxAccounts: (() => Promise<bigint>) | null = null;

async function freePort(): Promise<number> {
  const srv = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('') });
  const port = srv.port!;
  srv.stop(true);
  return port;
}

if (SELF) {
  // The sandbox runs as its own process (as under ./fluxiq up) so the two share the cores the way they do
  // in production; the SPI service runs here, wired by the same factory main.ts uses.
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { testConfig } = await import('../test/support/env.ts');
  const { ensureDatabase } = await import('../shared/db/client.ts');
  const { dropSchema, migrate } = await import('../shared/db/migrate.ts');
  const { deleteStreams } = await import('../shared/nats/index.ts');
  const { deleteKeysWithPrefix } = await import('../shared/redis/index.ts');
  const { connectServiceDeps } = await import('../shared/service.ts');
  const { createSpiApp } = await import('../services/spi/app.ts');
  const { wireSpiDeps } = await import('../services/spi/wiring.ts');
  const dir = mkdtempSync(join(tmpdir(), 'fluxiq-lt-spi-'));
  const [mtls, control, spiPort] = [await freePort(), await freePort(), await freePort()];
  const env = { PKI_DIR: dir, SANDBOX_PORT: String(mtls), SANDBOX_CONTROL_PORT: String(control), BACEN_URL: `https://127.0.0.1:${mtls}`, LOG_LEVEL: 'error' };
  const config = testConfig('loadtest', env);
  await ensureDatabase(config.databaseUrl);
  const child = Bun.spawn(['bun', join(import.meta.dir, '../cli/main.ts'), 'serve', 'sandbox'], {
    env: { ...process.env, ...env, DB_SCHEMA: config.dbSchema, REDIS_PREFIX: config.redisPrefix, NATS_PREFIX: config.natsPrefix }, stdout: 'inherit', stderr: 'inherit',
  });
  const controlUrl = `http://127.0.0.1:${control}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${controlUrl}/spi/accounts`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 300) throw new Error('the sandbox did not start');
    await Bun.sleep(100);
  }
  const base = await connectServiceDeps('spi', config);
  await migrate(base.sql, { schema: config.dbSchema });
  const wiring = await wireSpiDeps(base);
  const app = createSpiApp(wiring.deps);
  await app.runtime.start();
  app.listen({ port: spiPort, hostname: '127.0.0.1' });
  url = `http://127.0.0.1:${spiPort}`;
  sqlUrl = config.databaseUrl;
  schema = config.dbSchema;
  sandboxAccounts = async () => {
    const j = (await (await fetch(`${controlUrl}/spi/accounts`)).json()) as { accounts: { ispb: string; balanceCentavos: string }[] };
    return BigInt(j.accounts.find((a) => a.ispb === config.ispb)!.balanceCentavos);
  };
  stop = async () => {
    await app.stop(true);
    await app.runtime.stop();
    await wiring.close();
    child.kill('SIGTERM');
    await child.exited;
    await dropSchema(base.sql, config.dbSchema);
    await dropSchema(base.sql, `${config.dbSchema}_bacen`);
    await deleteStreams(base.jsm, config);
    await deleteKeysWithPrefix(base.redis, config.redisPrefix);
    await base.close();
    rmSync(dir, { recursive: true, force: true });
  };
} else {
  const config = loadConfig();
  url ||= `http://127.0.0.1:${config.spiPort}`;
  sqlUrl = config.databaseUrl;
  schema = config.dbSchema;
}
const sql = postgres(sqlUrl, { max: 2, connection: { search_path: schema }, types: { bigint: postgres.BigInt }, onnotice: () => {} });

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url + path, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

// a payer with enough money for the whole run
const opened = await api('POST', '/accounts', { branch: BRANCH, number: ACCOUNT, accountType: 'CACC', holderTaxId: PAYER_TAX_ID, holderName: 'Load Test', initialDeposit: '100000000.00' });
if (opened.status !== 201) {
  console.error(`cannot open the payer account at ${url}: ${opened.status} ${JSON.stringify(opened.json)}`);
  process.exit(1);
}
const balanceOf = async () => BigInt((await api('GET', `/accounts/${BRANCH}/${ACCOUNT}/balance`)).json.balance.replace('.', ''));
const balanceBefore = await balanceOf();
const sandboxBefore = sandboxAccounts ? await sandboxAccounts() : null;

const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
const accepted = new Set<string>();
let decided201 = 0;
let errors = 0;
const errorSamples: string[] = [];
let seq = 0;
const cpuBefore = process.cpuUsage();
const deadline = performance.now() + SECONDS * 1000;
const started = performance.now();

async function client(i: number): Promise<void> {
  const psp = SANDBOX_PSPS[i % SANDBOX_PSPS.length]!;
  while (performance.now() < deadline) {
    const n = seq++;
    const t0 = performance.now();
    try {
      const r = await api('POST', '/payments', {
        amount: '1.00', debtor: { branch: BRANCH, number: ACCOUNT },
        creditor: { account: { ispb: psp.ispb, branch: '0001', number: String(100000 + (n % 50_000)), accountType: 'CACC', taxId: '11222333000181', name: 'Loja Carga' } },
      }, { 'idempotency-key': `lt-${ACCOUNT}-${n}` });
      histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
      if (r.status === 201 || r.status === 202) {
        accepted.add(r.json.endToEndId);
        if (r.status === 201) decided201++;
      } else {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(`${r.status} ${r.json?.detail ?? ''}`);
      }
    } catch (e) {
      errors++;
      if (errorSamples.length < 5) errorSamples.push(String(e));
    }
  }
}

await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => client(i)));
const elapsedS = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
/** CPU of this process (the SPI service and the load clients) per accepted payment */
const cpuMsPerPayment = Math.round(((cpu.user + cpu.system) / 1000 / Math.max(1, accepted.size)) * 100) / 100;
const cpuShare = Math.round(((cpu.user + cpu.system) / 1e6 / elapsedS) * 100);

// loss audit: every accepted payment durable and decided
const ids = [...accepted];
const drainUntil = performance.now() + DRAIN_MS_MAX;
let rows: { end_to_end_id: string; status: string; amount_centavos: bigint }[] = [];
for (;;) {
  rows = [];
  for (let i = 0; i < ids.length; i += 5_000) {
    rows.push(...(await sql<typeof rows>`select end_to_end_id, status, amount_centavos from transactions where end_to_end_id in ${sql(ids.slice(i, i + 5_000))}`));
  }
  const open = rows.filter((r) => !['SETTLED', 'REJECTED', 'RELEASED'].includes(r.status)).length;
  if (open === 0 || performance.now() > drainUntil) break;
  await Bun.sleep(200);
}
const byStatus = new Map<string, number>();
for (const r of rows) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
const settled = byStatus.get('SETTLED') ?? 0;
const rejected = byStatus.get('REJECTED') ?? 0;
const lost = ids.length - settled - rejected;
const settledCentavos = BigInt(settled) * AMOUNT_CENTAVOS;
await Bun.sleep(200);
const balanceAfter = await balanceOf();
const ledgerOk = balanceBefore - balanceAfter === settledCentavos;
const sandboxOk = sandboxAccounts ? sandboxBefore! - (await sandboxAccounts()) === settledCentavos : null;

const p = (q: number) => Math.round(histogram.getValueAtPercentile(q) / 10) / 100;
const result = {
  payments_per_s: Math.round(ids.length / elapsedS),
  settled_per_s: Math.round(settled / elapsedS),
  p50_ms: p(50), p90_ms: p(90), p99_ms: p(99), max_ms: Math.round(histogram.maxValue / 10) / 100,
  accepted: ids.length, decided_sync: decided201, settled, rejected, errors, lost,
  this_process_cpu_ms_per_payment: cpuMsPerPayment, this_process_cpu_pct: cpuShare,
  ledger_ok: ledgerOk, sandbox_ok: sandboxOk, seconds: Math.round(elapsedS * 10) / 10, concurrency: CONCURRENCY, self: SELF,
};
console.log(`SPI outbound payments (${SELF ? 'self-hosted sandbox + SPI' : url}), ${CONCURRENCY} clients, ${result.seconds} s`);
console.log(`  accepted      ${result.accepted} (${result.payments_per_s}/s), decided within the wait ${decided201}`);
console.log(`  settled       ${settled} (${result.settled_per_s}/s), rejected ${rejected}, errors ${errors}${errorSamples.length ? ` e.g. ${errorSamples.join(' | ')}` : ''}`);
console.log(`  latency       p50 ${result.p50_ms} ms  p90 ${result.p90_ms} ms  p99 ${result.p99_ms} ms  max ${result.max_ms} ms`);
console.log(`  cpu           this process (SPI service + load clients) ${cpuShare}% of one core, ${cpuMsPerPayment} ms per payment`);
console.log(`  loss audit    lost ${lost}; payer ledger ${ledgerOk ? 'matches' : 'DOES NOT match'} the settled sum${sandboxOk === null ? '' : `; sandbox PI account ${sandboxOk ? 'matches' : 'DOES NOT match'}`}`);
await sql.end();
await stop();
console.log(JSON.stringify(result));
process.exit(lost === 0 && ledgerOk && sandboxOk !== false ? 0 : 1);
