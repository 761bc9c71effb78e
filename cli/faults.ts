// `./fluxiq faults`: fault injection under load against the running platform (./fluxiq up). A steady payment
// load goes through the gateway while, one after another, each fault is applied: kill -9 of every service
// (the supervisor restarts it), a restart of Postgres, NATS and Redis (only when they run on loopback), and
// a rolling restart of each scaled service (`./fluxiq up --instances 2`: SIGTERM one instance at a time, the
// next only once the supervisor's replacement is ready; the target there is zero client errors), and
// through the sandbox's control API slow responses, connection resets, 5xx, and malformed, badly signed,
// duplicated and lost pacs.002s. After each: how long until every service answers /ready again, and the
// loss audit over the payments accepted during that fault (every one in Postgres exactly once with a final
// status). At the end the ledgers: what settled left the payer's account and our PI account at the sandbox,
// to the centavo. A table per fault; the LAST line is one JSON object:
//   accepted, lost, duplicated, max_recovery_ms, faults (+ errors, ledger agreement, per-fault rows).
// Bounded: every phase is --seconds long (default 5), the audit drain is bounded, and the whole run stops
// starting faults after FAULTS_TOTAL_MS_MAX. Exit 0 only when nothing was lost or duplicated, the ledgers
// agree, every recovery stayed under RECOVERY_MS_TARGET and no rolling restart cost a client request.
// Usage: ./fluxiq faults [--seconds S] [--rate N] [--only name,name] [--no-deps]
import { existsSync, readdirSync } from 'node:fs';
import type { Config } from '../shared/config.ts';
import { auditPayments, type Audit } from '../loadtest/lib/audit.ts';
import { fundSandboxPi, json, requirePlatform, sandboxPiBalance, seedLoadUser, type LoadUser, type Platform } from '../loadtest/lib/platform.ts';
import { cpf, PAYERS } from '../loadtest/lib/payment-load.ts';
import { servicePids } from '../loadtest/lib/procstat.ts';
import { SPI_ACTIVE_LEASE } from '../services/spi/main.ts';
import { leaseApplicationName } from '../shared/lease.ts';
import { seededKeys } from '../loadtest/support/dict-keys.ts';
import { ensureInfra } from './infra.ts';

/** The platform's promise: every part ready again within this after a fault. */
export const RECOVERY_MS_TARGET = 2_000;
/** Recovery is not waited for beyond this (a service that never comes back is reported, not waited on). */
export const RECOVERY_WAIT_MS_MAX = 60_000;
/** /ready is polled this often while recovering (the resolution of the recovery figure). */
export const READY_POLL_MS = 25;
/** Payments run this long before the fault is applied. */
export const FAULT_LEAD_MS = 1_000;
/** A sandbox fault stays on for this share of the phase, then it is cleared and recovery measured. */
export const SANDBOX_FAULT_SHARE = 0.6;
/** A payment decided late (lost pacs.002: answer timeout, then the resolver's status query after 30 s) is
 *  waited for at most this long before it counts as lost. */
export const FAULT_AUDIT_DRAIN_MS_MAX = 90_000;
/** No fault is started after this much of the run: the whole command stays under 15 minutes. */
export const FAULTS_TOTAL_MS_MAX = 12 * 60_000;
/** Concurrent requests of the load; beyond it a tick's request is skipped (counted), not queued. */
export const LOAD_IN_FLIGHT_MAX = 512;
/** DICT keys (seeded by the sandbox for its simulated PSPs) the payments go to. */
export const LOAD_KEYS = 1_000;
/** A client request gets this long; a fault must not hang the load generator. */
export const LOAD_REQUEST_TIMEOUT_MS = 20_000;
/** An error sample keeps this much of the problem's detail (enough to tell who answered, few distinct samples). */
export const ERROR_DETAIL_CHARS_MAX = 60;
export const SECONDS_DEFAULT = 5;
export const SECONDS_MAX = 60;
export const RATE_DEFAULT = 20;
export const RATE_MAX = 500;
/** Instances a rolling restart needs: with one there is nothing to roll over to. */
export const ROLLING_INSTANCES_MIN = 2;
/** An instance SIGTERMed in a rolling restart must exit within this (drain, in-flight requests, workers). */
export const ROLLING_EXIT_MS_MAX = 15_000;
/** Its replacement (started by the supervisor) must be ready within this. */
export const ROLLING_READY_MS_MAX = 30_000;
/**
 * A replacement that answers is not yet warm (JIT, connection pools, its in-process caches empty: a DICT
 * lookup misses until the cache fills); it serves beside its sibling this long before the sibling is
 * stopped and it takes all the traffic (Kubernetes' minReadySeconds).
 */
export const ROLLING_SETTLE_MS = 2_000;
/** Fresh connections tried to reach one particular instance behind a shared port (the kernel picks per connection). */
export const ROLLING_HEALTH_TRIES_MAX = 200;

export type ServiceName = 'dict' | 'spi' | 'settlement' | 'sandbox';
const SERVICE_NAMES: ServiceName[] = ['sandbox', 'dict', 'spi', 'settlement'];
/** The services `up --instances N` scales; the sandbox is BACEN, one instance, never rolled. */
const ROLLED: Exclude<ServiceName, 'sandbox'>[] = ['dict', 'spi', 'settlement'];

export type FaultSpec =
  | { name: string; kind: 'kill'; service: ServiceName }
  | { name: string; kind: 'rolling'; service: Exclude<ServiceName, 'sandbox'> }
  | { name: string; kind: 'restart'; dependency: 'postgres' | 'nats' | 'redis' }
  | { name: string; kind: 'transport'; rule: Record<string, unknown> }
  | { name: string; kind: 'message'; faults: Record<string, number> };

/** Every fault, in the order they are applied (dependency restarts last: they disturb everything on the host). */
export const FAULTS: FaultSpec[] = [
  ...SERVICE_NAMES.map((service): FaultSpec => ({ name: `kill -9 ${service}`, kind: 'kill', service })),
  ...ROLLED.map((service): FaultSpec => ({ name: `rolling restart ${service}`, kind: 'rolling', service })),
  { name: 'sandbox slow (300-800 ms)', kind: 'transport', rule: { prefix: '/api/v1/out', latencyMs: { min: 300, max: 800 } } },
  { name: 'sandbox connection resets', kind: 'transport', rule: { prefix: '/api/v1/out', resetRate: 0.3 } },
  { name: 'sandbox 5xx', kind: 'transport', rule: { prefix: '/api/v1/out', errorRate: 0.3, errorStatus: 503 } },
  { name: 'pacs.002 malformed', kind: 'message', faults: { malformedRate: 0.3 } },
  { name: 'pacs.002 badly signed', kind: 'message', faults: { badSignatureRate: 0.3 } },
  { name: 'pacs.002 duplicated', kind: 'message', faults: { duplicateRate: 0.5 } },
  { name: 'pacs.002 lost', kind: 'message', faults: { lostRate: 0.3 } },
  { name: 'restart postgres', kind: 'restart', dependency: 'postgres' },
  { name: 'restart nats', kind: 'restart', dependency: 'nats' },
  { name: 'restart redis', kind: 'restart', dependency: 'redis' },
];

export interface FaultArgs {
  secondsPerFault: number;
  ratePerS: number;
  /** fault names (or a prefix of one: `kill`, `pacs.002`) to run; all when empty */
  only: string[];
  /** skip the Postgres/NATS/Redis restarts (they disturb every other user of this host's dependencies) */
  noDeps: boolean;
}

/** The command's flags, or why they are refused. */
export function parseFaultArgs(args: string[]): { ok: true; value: FaultArgs } | { ok: false; error: string } {
  const value: FaultArgs = { secondsPerFault: SECONDS_DEFAULT, ratePerS: RATE_DEFAULT, only: [], noDeps: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (a === '--no-deps') value.noDeps = true;
    else if (a === '--seconds' || a === '--rate') {
      const max = a === '--seconds' ? SECONDS_MAX : RATE_MAX;
      const n = Number(next);
      if (next === undefined || !Number.isFinite(n) || n <= 0 || n > max) return { ok: false, error: `${a} takes a number in (0, ${max}], got '${next ?? ''}'` };
      if (a === '--seconds') value.secondsPerFault = n;
      else value.ratePerS = n;
      i++;
    } else if (a === '--only') {
      if (!next) return { ok: false, error: '--only takes fault names separated by commas' };
      value.only = next.split(',').map((s) => s.trim()).filter(Boolean);
      i++;
    } else return { ok: false, error: `unknown argument '${a}'` };
  }
  const unknown = value.only.filter((o) => !FAULTS.some((f) => f.name.startsWith(o)));
  if (unknown.length > 0) return { ok: false, error: `no fault named ${unknown.join(', ')}; faults: ${FAULTS.map((f) => f.name).join(' | ')}` };
  return { ok: true, value };
}

/** The faults a run applies, in order. */
export function selectFaults(a: FaultArgs): FaultSpec[] {
  return FAULTS.filter((f) => (a.only.length === 0 || a.only.some((o) => f.name.startsWith(o))) && !(a.noDeps && f.kind === 'restart'));
}

export interface FaultRow {
  fault: string;
  /** a rolling restart must cost no client request (summarize fails the run otherwise) */
  kind?: FaultSpec['kind'];
  accepted: number;
  errors: number;
  lost: number;
  duplicated: number;
  /** ms from the fault's end until every service answered /ready; null: not ready within RECOVERY_WAIT_MS_MAX.
   *  For a dependency restart the fault ends when the dependency accepts connections again (its own restart
   *  time is `dependencyDownMs`, reported beside it: no service of ours can be ready while Postgres is down). */
  recoveryMs: number | null;
  /** a restarted dependency: ms from the restart command until it accepted connections again */
  dependencyDownMs?: number;
  byStatus: Record<string, number>;
  /** the phase, load and audit drain included */
  phaseMs?: number;
  /** a fault that could not be applied (e.g. a dependency not on loopback) */
  skipped?: string;
  /** a rolling restart: what happened to each instance (old pid → new pid, how long) */
  steps?: string[];
  errorSamples: string[];
}

export interface FaultSummary {
  accepted: number;
  lost: number;
  duplicated: number;
  max_recovery_ms: number | null;
  faults: number;
  errors: number;
  /** client errors during rolling restarts: the target is zero */
  rolling_errors: number;
  skipped: number;
  ledger_ok: boolean;
  sandbox_ok: boolean;
  ok: boolean;
}

/** The last line's figures from the per-fault rows; a recovery that never came counts as failing the target. */
export function summarize(rows: FaultRow[], ledgers: { ledgerOk: boolean; sandboxOk: boolean }): FaultSummary {
  const ran = rows.filter((r) => r.skipped === undefined);
  const recoveries = ran.map((r) => r.recoveryMs);
  const neverReady = recoveries.some((r) => r === null);
  const max = neverReady ? null : Math.max(0, ...(recoveries as number[]));
  const s = {
    // the load ran in a skipped fault's phase too: its payments count
    accepted: rows.reduce((n, r) => n + r.accepted, 0),
    lost: rows.reduce((n, r) => n + r.lost, 0),
    duplicated: rows.reduce((n, r) => n + r.duplicated, 0),
    max_recovery_ms: max,
    faults: ran.length,
    errors: rows.reduce((n, r) => n + r.errors, 0),
    rolling_errors: ran.filter((r) => r.kind === 'rolling').reduce((n, r) => n + r.errors, 0),
    skipped: rows.length - ran.length,
    ledger_ok: ledgers.ledgerOk,
    sandbox_ok: ledgers.sandboxOk,
  };
  return { ...s, ok: s.lost === 0 && s.duplicated === 0 && max !== null && max < RECOVERY_MS_TARGET && s.ledger_ok && s.sandbox_ok && s.rolling_errors === 0 };
}

/** One table per fault: what it did to the load and how long the platform took to be ready again. */
export function faultTable(r: FaultRow): string[] {
  const lines = [`${r.fault}${r.skipped ? `  (skipped: ${r.skipped})` : ''}`];
  if (r.skipped) return lines;
  const status = Object.entries(r.byStatus).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
  const rows: [string, string][] = [
    ['recovery', r.recoveryMs === null ? `NOT ready within ${RECOVERY_WAIT_MS_MAX} ms` : `${r.recoveryMs} ms until every service is /ready${r.dependencyDownMs === undefined ? '' : ' (after the dependency was back)'}`],
    ...(r.dependencyDownMs === undefined ? [] : [['dependency down', `${r.dependencyDownMs} ms (restart command until it accepted connections)`] as [string, string]]),
    ['accepted', `${r.accepted} (${status})`],
    ['lost / duplicated', `${r.lost} / ${r.duplicated}`],
    ['phase', `${Math.round((r.phaseMs ?? 0) / 100) / 10} s (load, fault, audit until every accepted payment is final)`],
    ['client errors', `${r.errors}${r.errorSamples.length ? `  e.g. ${r.errorSamples.join(' | ')}` : ''}${r.kind === 'rolling' ? ' (target: 0)' : ''}`],
    ...(r.steps ?? []).map((step, i): [string, string] => [`instance ${i + 1}`, step]),
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(w)}  ${v}`);
  return lines;
}

// ---------------------------------------------------------------------------------------------- I/O below

interface Ctx {
  p: Platform;
  user: LoadUser;
  keys: string[];
  /** valid CPFs the DICT lookups are spread over (anti-scan buckets are per payer) */
  payers: string[];
  log: (m: string) => void;
}

const portOf = (c: Config, s: ServiceName) => ({ sandbox: c.sandboxControlPort, dict: c.dictPort, spi: c.spiPort, settlement: c.settlementPort })[s];

async function readyAll(c: Config): Promise<boolean> {
  const answers = await Promise.all(SERVICE_NAMES.map((s) =>
    fetch(`http://127.0.0.1:${portOf(c, s)}/ready`, { signal: AbortSignal.timeout(500) }).then((r) => r.ok, () => false)));
  return answers.every(Boolean);
}

/** ms from `fromMs` (performance.now) until every /ready answers 200, or null. */
async function recoveryFrom(c: Config, fromMs: number): Promise<number | null> {
  while (performance.now() - fromMs < RECOVERY_WAIT_MS_MAX) {
    if (await readyAll(c)) return Math.round(performance.now() - fromMs);
    await Bun.sleep(READY_POLL_MS);
  }
  return null;
}

async function pidOf(c: Config, s: ServiceName): Promise<number> {
  const r = await json('GET', `http://127.0.0.1:${portOf(c, s)}/health`);
  if (r.status !== 200 || typeof r.json?.pid !== 'number') throw new Error(`${s} /health gave no pid (${r.status})`);
  return r.json.pid;
}

const amountOf = (i: number) => `${1 + (i % 9)}.${String(i % 100).padStart(2, '0')}`;

/** A steady load: one payment every 1000/rate ms, bounded in flight; accepted EndToEndIds and errors kept. */
function steadyLoad(ctx: Ctx, tag: string, ratePerS: number) {
  const accepted: string[] = [];
  // per kind of error: how many, and when the first and last were sent (s into the phase): lines the errors
  // up with the fault's steps
  const errorSamples = new Map<string, { n: number; firstS: number; lastS: number }>();
  const t0 = performance.now();
  const note = (k: string, sentMs: number) => {
    const atS = Math.round((sentMs - t0) / 100) / 10;
    const e = errorSamples.get(k);
    if (e) {
      e.n++;
      e.lastS = atS;
    } else errorSamples.set(k, { n: 1, firstS: atS, lastS: atS });
  };
  let errors = 0;
  let skipped = 0;
  let inFlight = 0;
  let i = 0;
  const pending = new Set<Promise<void>>();
  const fire = async (n: number) => {
    const sentMs = performance.now();
    try {
      const res = await fetch(`${ctx.p.gatewayUrl}/spi/payments`, {
        method: 'POST',
        headers: { ...ctx.user.auth, 'content-type': 'application/json', 'idempotency-key': `${tag}-${n}` },
        body: JSON.stringify({ amount: amountOf(n), debtor: ctx.user.account, creditor: { key: ctx.keys[n % ctx.keys.length] }, payerId: ctx.payers[n % ctx.payers.length] }),
        signal: AbortSignal.timeout(LOAD_REQUEST_TIMEOUT_MS),
      });
      const body = (await res.json().catch(() => null)) as { endToEndId?: string; title?: string; detail?: string } | null;
      if ((res.status === 201 || res.status === 202) && body?.endToEndId) accepted.push(body.endToEndId);
      else {
        errors++;
        // the detail says which part answered (the gateway about an upstream, or the service itself)
        const k = `${res.status} ${body?.title ?? ''}${body?.detail ? `: ${body.detail.slice(0, ERROR_DETAIL_CHARS_MAX)}` : ''}`.trim();
        note(k, sentMs);
      }
    } catch (e) {
      errors++;
      const k = (e as Error).name === 'TimeoutError' ? 'client timeout' : 'connection failed';
      note(k, sentMs);
    }
  };
  const timer = setInterval(() => {
    if (inFlight >= LOAD_IN_FLIGHT_MAX) {
      skipped++;
      return;
    }
    inFlight++;
    const f = fire(i++).finally(() => {
      inFlight--;
      pending.delete(f);
    });
    pending.add(f);
  }, 1000 / ratePerS);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([...pending]);
      return { accepted, errors: errors + skipped, errorSamples: [...errorSamples].map(([k, e]) => `${k} ×${e.n} (sent ${e.firstS}–${e.lastS} s)`) };
    },
  };
}

function isLoopback(url: string): { host: string; port: number } | null {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) return null;
  const port = Number(u.port) || ({ 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379, 'nats:': 4222 } as Record<string, number>)[u.protocol] || 0;
  return { host, port };
}

/** pid of the process listening on a loopback TCP port (ss -ltnp), or null. */
function listenerPid(port: number): number | null {
  const out = Bun.spawnSync(['ss', '-ltnpH', `sport = :${port}`], { stdout: 'pipe', stderr: 'pipe' }).stdout.toString();
  const m = /pid=(\d+)/.exec(out);
  return m ? Number(m[1]) : null;
}

async function waitGone(pid: number, ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await Bun.sleep(20);
  }
  throw new Error(`process ${pid} did not exit within ${ms} ms`);
}

/** Runs a command without blocking the event loop: the load keeps firing while a dependency restarts (a
 *  spawnSync of `pg_ctlcluster restart` froze the generator for the whole restart, so no request met it). */
async function run(cmd: string[]): Promise<{ exitCode: number; stderr: string }> {
  const p = Bun.spawn(cmd, { stdout: 'ignore', stderr: 'pipe' });
  const [exitCode, stderr] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  return { exitCode, stderr };
}

/** Restarts a dependency on loopback; returns once it accepts connections again (recovery counts from there). */
async function restartDependency(ctx: Ctx, dep: 'postgres' | 'nats' | 'redis'): Promise<string | null> {
  const c = ctx.p.config;
  const url = { postgres: c.databaseUrl, nats: c.natsUrl, redis: c.redisUrl }[dep];
  const ep = isLoopback(url);
  if (!ep) return `${dep} is not on loopback (${new URL(url).hostname}); only loopback dependencies are restarted`;
  if (dep === 'postgres') {
    const version = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql').sort().at(-1) : undefined;
    if (!version) return 'no cluster under /etc/postgresql';
    const r = await run(['pg_ctlcluster', '--skip-systemctl-redirect', version, 'main', 'restart']);
    if (r.exitCode !== 0) throw new Error(`pg_ctlcluster restart: ${r.stderr.trim()}`);
    return null;
  }
  const pid = listenerPid(ep.port);
  if (pid === null) return `no process listens on ${ep.port}`;
  // Redis: a restart keeps the data (SHUTDOWN SAVE, loaded again at start from the same --dir); the dev
  // server runs without save points, so a plain SIGTERM would wipe every key of everyone on this host
  const saved = dep === 'redis' && (await run(['redis-cli', '-u', url, 'shutdown', 'save'])).exitCode === 0;
  if (!saved) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone (redis-cli's SHUTDOWN took it down but reported the dropped connection as an error)
    }
  }
  await waitGone(pid, 15_000);
  // the same start the platform's `up` uses (cli/infra.ts): NATS with JetStream on its store, Redis daemonized
  await ensureInfra(c, ctx.log);
  return null;
}

/** pid of the instance that answers /health on a fresh connection (behind a shared port the kernel picks one per connection). */
async function healthPid(c: Config, s: ServiceName): Promise<number | null> {
  const body = await fetch(`http://127.0.0.1:${portOf(c, s)}/health`, { headers: { connection: 'close' }, keepalive: false, signal: AbortSignal.timeout(1_000) })
    .then((r) => (r.ok ? r.json() : null), () => null) as { pid?: unknown } | null;
  return typeof body?.pid === 'number' ? body.pid : null;
}

/** Polls `check` every READY_POLL_MS until it holds (true) or `ms` pass (false). */
async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (await check()) return true;
    await Bun.sleep(READY_POLL_MS);
  }
  return false;
}

/** spi instances polling or holding the active lease: a standby counts once it is connected and can take over. */
async function spiLeaseSessions(ctx: Ctx): Promise<number> {
  const [row] = await ctx.p.db.sql<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity where application_name = ${leaseApplicationName(ctx.p.config.dbSchema, SPI_ACTIVE_LEASE)}`;
  return row?.n ?? 0;
}

/**
 * SIGTERMs the instances of `service` one at a time; the next only once the supervisor's replacement is
 * ready (dict, settlement: the new pid answers /health; spi: the new pid is polling the lease as a standby).
 * spi's standbys go first and the active one last, so its takeover finds a ready standby. Returns what
 * happened per instance, or why it could not roll.
 */
async function rollingRestart(ctx: Ctx, service: Exclude<ServiceName, 'sandbox'>, phaseStartMs: number): Promise<{ skipped?: string; steps: string[] }> {
  const c = ctx.p.config;
  const pids = servicePids(service, c.dbSchema);
  if (pids.length < ROLLING_INSTANCES_MIN) {
    return { skipped: `needs ./fluxiq up --instances ${ROLLING_INSTANCES_MIN}: found ${pids.length} ${service} instance(s) with DB_SCHEMA=${c.dbSchema}`, steps: [] };
  }
  const active = service === 'spi' ? await healthPid(c, 'spi') : null;
  if (service === 'spi' && (active === null || !pids.includes(active))) throw new Error(`the pid behind the spi port (${active}) is none of the spi instances ${pids.join(', ')}`);
  const order = active === null ? pids : [...pids.filter((p) => p !== active), active];
  const known = new Set(pids);
  const steps: string[] = [];
  for (const pid of order) {
    const t0 = performance.now();
    process.kill(pid, 'SIGTERM');
    let takeover = '';
    if (pid === active) {
      if (!(await waitFor(async () => { const p = await healthPid(c, 'spi'); return p !== null && p !== pid; }, ROLLING_READY_MS_MAX))) throw new Error(`no spi standby took over from pid ${pid} within ${ROLLING_READY_MS_MAX} ms`);
      takeover = `, a standby served after ${Math.round(performance.now() - t0)} ms`;
    }
    await waitGone(pid, ROLLING_EXIT_MS_MAX);
    const exitMs = Math.round(performance.now() - t0);
    let fresh: number | undefined;
    const started = await waitFor(() => (fresh = servicePids(service, c.dbSchema).find((p) => !known.has(p))) !== undefined, ROLLING_READY_MS_MAX);
    if (!started || fresh === undefined) throw new Error(`the supervisor started no replacement for ${service} pid ${pid} within ${ROLLING_READY_MS_MAX} ms`);
    const replacement = fresh;
    known.add(replacement);
    const ready = service === 'spi'
      ? await waitFor(async () => (await spiLeaseSessions(ctx)) >= pids.length, ROLLING_READY_MS_MAX)
      : await waitFor(async () => (await healthPid(c, service)) === replacement, ROLLING_READY_MS_MAX);
    if (!ready) throw new Error(`${service} pid ${replacement} (replacing ${pid}) not ready within ${ROLLING_READY_MS_MAX} ms`);
    const readyMs = Math.round(performance.now() - t0);
    await Bun.sleep(ROLLING_SETTLE_MS);
    const role = pid === active ? 'active' : service === 'spi' ? 'standby' : 'instance';
    steps.push(`${role} pid ${pid} → ${replacement}: SIGTERM at ${Math.round((t0 - phaseStartMs) / 100) / 10} s, exited after ${exitMs} ms${takeover}; replacement ${service === 'spi' ? 'standing by' : 'answering'} after ${readyMs} ms`);
  }
  return { steps };
}

async function control(ctx: Ctx, method: string, path: string, body?: unknown): Promise<void> {
  const r = await json(method, `${ctx.p.sandboxControlUrl}${path}`, body);
  if (r.status >= 300) throw new Error(`sandbox control ${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
}

/** Audits until nothing accepted is still open, within FAULT_AUDIT_DRAIN_MS_MAX. */
async function drainAudit(ctx: Ctx, accepted: string[]): Promise<Audit> {
  const until = performance.now() + FAULT_AUDIT_DRAIN_MS_MAX;
  for (;;) {
    const a = await auditPayments(ctx.p.db.sql, accepted);
    if (a.lost === 0 || performance.now() > until) return a;
  }
}

async function runFault(ctx: Ctx, f: FaultSpec, a: FaultArgs, tag: string): Promise<{ row: FaultRow; ids: string[] }> {
  const c = ctx.p.config;
  const phaseMs = a.secondsPerFault * 1000;
  const load = steadyLoad(ctx, tag, a.ratePerS);
  const started = performance.now();
  await Bun.sleep(FAULT_LEAD_MS);
  let recoveryMs: number | null = null;
  let dependencyDownMs: number | undefined;
  let skipped: string | undefined;
  let steps: string[] | undefined;
  try {
    if (f.kind === 'rolling') {
      const roll = await rollingRestart(ctx, f.service, started);
      if (roll.skipped) skipped = roll.skipped;
      else {
        steps = roll.steps;
        recoveryMs = await recoveryFrom(c, performance.now());
      }
    } else if (f.kind === 'kill') {
      const pid = await pidOf(c, f.service);
      process.kill(pid, 'SIGKILL');
      recoveryMs = await recoveryFrom(c, performance.now());
    } else if (f.kind === 'restart') {
      const t0 = performance.now();
      const why = await restartDependency(ctx, f.dependency);
      if (why) skipped = why;
      else {
        const back = performance.now();
        dependencyDownMs = Math.round(back - t0);
        recoveryMs = await recoveryFrom(c, back);
      }
    } else {
      const path = f.kind === 'transport' ? '/faults' : '/spi/faults';
      if (f.kind === 'transport') await control(ctx, 'POST', path, f.rule);
      else await control(ctx, 'PUT', path, f.faults);
      await Bun.sleep(Math.max(0, phaseMs * SANDBOX_FAULT_SHARE - FAULT_LEAD_MS));
      await control(ctx, 'DELETE', path);
      recoveryMs = await recoveryFrom(c, performance.now());
    }
  } catch (e) {
    // leave the sandbox clean even when the fault could not be applied
    await control(ctx, 'DELETE', '/faults').catch(() => {});
    await control(ctx, 'DELETE', '/spi/faults').catch(() => {});
    skipped = `could not apply: ${(e as Error).message}`;
  }
  await Bun.sleep(Math.max(0, phaseMs - (performance.now() - started)));
  const run = await load.stop();
  const audit = await drainAudit(ctx, run.accepted);
  const row: FaultRow = { fault: f.name, kind: f.kind, ...(steps ? { steps } : {}), accepted: audit.accepted, errors: run.errors, lost: audit.lost, duplicated: audit.duplicated, recoveryMs, ...(dependencyDownMs === undefined ? {} : { dependencyDownMs }), byStatus: audit.byStatus, errorSamples: run.errorSamples.slice(0, 3), phaseMs: Math.round(performance.now() - started), ...(skipped ? { skipped } : {}) };
  return { row, ids: run.accepted };
}

export async function faults(_config: Config, args: string[]): Promise<number> {
  const parsed = parseFaultArgs(args);
  if (!parsed.ok) {
    console.error(`fluxiq faults: ${parsed.error}`);
    return 2;
  }
  const a = parsed.value;
  const plan = selectFaults(a);
  // says so clearly (and exits 2) when ./fluxiq up is not running
  const p = await requirePlatform();
  const log = (m: string) => console.error(`  · ${m}`);
  const run = `flt-${Date.now().toString(36)}`;
  const expected = BigInt(Math.ceil(plan.length * a.secondsPerFault * a.ratePerS * 1.2) + 100);
  const user = await seedLoadUser(p, run, `${(expected * 10n).toString()}.00`);
  await fundSandboxPi(p, expected * 1_000n * 2n);
  const ctx: Ctx = { p, user, keys: seededKeys(LOAD_KEYS, p.config.sandboxDictSeed), payers: Array.from({ length: PAYERS }, (_, i) => cpf(i + 1)), log };
  // read through the gateway; right after a fault the gateway may still answer 503 for a moment: retried
  const balance = async () => {
    const until = performance.now() + RECOVERY_WAIT_MS_MAX;
    for (;;) {
      const r = await json('GET', `${p.gatewayUrl}/spi/accounts/${user.account.branch}/${user.account.number}/balance`, undefined, user.auth).catch(() => ({ status: 0, json: null }));
      if (r.status === 200 && typeof r.json?.balance === 'string') return BigInt(r.json.balance.replace('.', ''));
      if (performance.now() > until) throw new Error(`payer balance through the gateway: ${r.status}`);
      await Bun.sleep(250);
    }
  };
  const payerBefore = await balance();
  const piBefore = await sandboxPiBalance(p);

  console.log(`Fault injection under load: ${plan.length} faults, ${a.secondsPerFault} s each at ${a.ratePerS} payments/s through the gateway\n`);
  const t0 = performance.now();
  const rows: FaultRow[] = [];
  const accepted: string[] = [];
  for (const [i, f] of plan.entries()) {
    if (performance.now() - t0 > FAULTS_TOTAL_MS_MAX) {
      rows.push({ fault: f.name, accepted: 0, errors: 0, lost: 0, duplicated: 0, recoveryMs: null, byStatus: {}, errorSamples: [], skipped: `time bound ${FAULTS_TOTAL_MS_MAX / 60_000} min reached` });
      continue;
    }
    // every fault starts from a ready platform
    if ((await recoveryFrom(p.config, performance.now())) === null) throw new Error('the platform is not ready; stopping');
    const { row, ids } = await runFault(ctx, f, a, `${run}-${i}`);
    rows.push(row);
    accepted.push(...ids);
    for (const line of faultTable(row)) console.log(line);
    console.log('');
  }
  // the money, over the whole run: every payment the payer's account made (also those whose client saw an
  // error while the platform had already taken them: a retry with the same Idempotency-Key gets them) is
  // final, and what settled left the payer's account and our PI account at the sandbox, exactly once
  if ((await recoveryFrom(p.config, performance.now())) === null) throw new Error('the platform did not get ready again after the last fault');
  const stored = await p.db.sql<{ e: string }[]>`
    select end_to_end_id as e from transactions
    where direction = 'OUTBOUND' and debtor_branch = ${user.account.branch} and debtor_account = ${user.account.number}`;
  const overall = await auditPayments(p.db.sql, stored.map((r) => r.e));
  const settled = overall.settledCentavos;
  const ledgerOk = overall.lost === 0 && overall.duplicated === 0 && payerBefore - (await balance()) === settled;
  const sandboxOk = overall.lost === 0 && overall.duplicated === 0 && piBefore - (await sandboxPiBalance(p)) === settled;
  const unacknowledged = stored.length - new Set(accepted).size;
  const s = summarize(rows, { ledgerOk, sandboxOk });
  console.log(`stored ${stored.length} payments: ${accepted.length} acknowledged to the client, ${unacknowledged} taken while the client saw an error (final: ${overall.found - overall.lost} of ${stored.length}, duplicated ${overall.duplicated})`);
  console.log(`ledgers: payer account ${ledgerOk ? 'agrees' : 'DISAGREES'}, sandbox PI account ${sandboxOk ? 'agrees' : 'DISAGREES'} (settled R$ ${(Number(settled) / 100).toFixed(2)}); ${Math.round((performance.now() - t0) / 1000)} s`);
  console.log(JSON.stringify({ ...s, unacknowledged, rows: rows.map((r) => ({ fault: r.fault, accepted: r.accepted, lost: r.lost, duplicated: r.duplicated, recovery_ms: r.recoveryMs, ...(r.dependencyDownMs === undefined ? {} : { dependency_down_ms: r.dependencyDownMs }), errors: r.errors, ...(r.skipped ? { skipped: r.skipped } : {}), ...(r.steps ? { steps: r.steps } : {}) })) }));
  await p.close();
  return s.ok ? 0 : 1;
}
