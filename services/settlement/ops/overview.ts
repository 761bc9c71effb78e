// What the operations dashboard and `./fluxiq status` show, read from where it lives: Postgres (payments,
// windows, claims, MED, reconciliation, partitions), JetStream (consumer lag), the services' /ready and
// /metrics, and BACEN (PI balance, cached). Each panel is collected on its own: a panel whose source is
// down reads {error} and the others still answer, because an operator needs the dashboard most when
// something is broken.
import type { JetStreamManager } from 'nats';
import type { Sql } from 'postgres';
import type { Clock } from '../../../shared/clock.ts';
import type { Config } from '../../../shared/config.ts';
import { countDefaultPartitionRows, MONTHLY_TABLES, monthOf, partitionName, PARTITION_MONTHS_AHEAD_DEFAULT } from '../../../shared/db/partitions.ts';
import { formatAmount } from '../../../shared/money.ts';
import { STREAMS, streamName, type StreamKey } from '../../../shared/nats/index.ts';
import { forecast, levelOf, LIQUIDITY_SAMPLES_MAX, type LiquidityPolicy, type Sample } from '../liquidity/policy.ts';
import type { SettlementBacen } from '../str/client.ts';
import { listWindows, windowReport } from '../windows/store.ts';

type Db = Sql<{ bigint: bigint }>;

/** The traffic chart's span: two minutes at one point per second. */
export const TRAFFIC_SECONDS = 120;
/** Latency percentiles over the payments settled in the last five minutes. */
export const LATENCY_WINDOW_MS = 5 * 60 * 1000;
/** Rejection reasons over the last day. */
export const REJECTIONS_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Rows per table panel: an operator filters, nobody scrolls through thousands. */
export const PANEL_ROWS_MAX = 100;
/** Windows shown: the last half day of hourly windows. */
export const WINDOWS_SHOWN_MAX = 12;
/** /ready and /metrics of a service: an answer slower than this counts as down. */
export const HEALTH_TIMEOUT_MS = 1_500;
/** The PI balance is read from BACEN (camt.052) at most this often, however many dashboards poll. */
export const BALANCE_CACHE_MS = 10_000;

export const signedAmount = (c: bigint) => (c < 0n ? `-${formatAmount(-c)}` : formatAmount(c));

/** A panel's value, or why it could not be read. */
export type Panel<T> = T | { error: string };

export async function panel<T>(read: () => Promise<T>): Promise<Panel<T>> {
  try {
    return await read();
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

// --- payments ---------------------------------------------------------------------------------------

export interface Traffic {
  /** epoch seconds of the first point; one point per second */
  fromS: number;
  inbound: number[];
  outbound: number[];
  /** payments in the last 10 s, per second */
  inboundPerS: number;
  outboundPerS: number;
  total: number;
}

export async function traffic(sql: Db, now: Date): Promise<Traffic> {
  const toS = Math.floor(now.getTime() / 1000);
  const fromS = toS - TRAFFIC_SECONDS + 1;
  const rows = await sql<{ s: number; direction: string; n: number }[]>`
    select floor(extract(epoch from created_at))::int as s, direction, count(*)::int as n from transactions
    where created_at >= ${new Date(fromS * 1000)} and created_at < ${new Date((toS + 1) * 1000)}
    group by 1, 2`;
  const inbound = new Array<number>(TRAFFIC_SECONDS).fill(0);
  const outbound = new Array<number>(TRAFFIC_SECONDS).fill(0);
  for (const r of rows) (r.direction === 'INBOUND' ? inbound : outbound)[r.s - fromS] = r.n;
  const lastTen = (xs: number[]) => xs.slice(-10).reduce((a, b) => a + b, 0) / 10;
  return { fromS, inbound, outbound, inboundPerS: lastTen(inbound), outboundPerS: lastTen(outbound), total: rows.reduce((a, r) => a + r.n, 0) };
}

export interface Latency {
  /** creation to settlement (pacs.008 out to pacs.002 ACSC in, plus our own queueing), ms */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  settled: number;
}

export async function latency(sql: Db, now: Date): Promise<Latency> {
  const [r] = await sql<{ p50: number | null; p95: number | null; p99: number | null; max: number | null; n: number }[]>`
    select percentile_cont(0.5) within group (order by ms) as p50, percentile_cont(0.95) within group (order by ms) as p95,
           percentile_cont(0.99) within group (order by ms) as p99, max(ms) as max, count(*)::int as n
    from (select extract(epoch from (settled_at - created_at)) * 1000 as ms from transactions
          where direction = 'OUTBOUND' and settled_at is not null and created_at >= ${new Date(now.getTime() - LATENCY_WINDOW_MS)}) s`;
  const round = (v: number | null) => (v === null ? null : Math.round(Number(v)));
  return { p50Ms: round(r!.p50), p95Ms: round(r!.p95), p99Ms: round(r!.p99), maxMs: round(r!.max), settled: r!.n };
}

export async function rejections(sql: Db, now: Date): Promise<{ reason: string; count: number }[]> {
  return sql<{ reason: string; count: number }[]>`
    select reject_reason as reason, count(*)::int as count from transactions
    where reject_reason is not null and created_at >= ${new Date(now.getTime() - REJECTIONS_WINDOW_MS)}
    group by 1 order by 2 desc, 1 limit ${PANEL_ROWS_MAX}`;
}

// --- liquidity --------------------------------------------------------------------------------------

export interface Liquidity {
  balance: string;
  at: string;
  level: string;
  warning: string;
  critical: string;
  topUp: string;
  /** projected balance at the policy's horizon from the recent outflow, when there are samples enough */
  forecast: string | null;
  forecastHorizonMs: number;
  samples: { at: string; balance: string }[];
}

/** Reads the PI balance through BACEN at most every BALANCE_CACHE_MS and keeps samples for the forecast. */
export function createBalanceReader(bacen: SettlementBacen, clock: Clock, policy: LiquidityPolicy) {
  let samples: Sample[] = [];
  let last: { atMs: number; readMs: number } | undefined;
  return async function read(): Promise<Liquidity> {
    const nowMs = clock.nowMs();
    if (last === undefined || nowMs - last.readMs >= BALANCE_CACHE_MS) {
      const b = await bacen.balance();
      if (!b.ok) throw new Error(`BACEN balance: ${b.error.detail}`);
      samples = [...samples, { atMs: b.value.at.getTime(), balanceCentavos: b.value.balanceCentavos }].slice(-LIQUIDITY_SAMPLES_MAX);
      last = { atMs: b.value.at.getTime(), readMs: nowMs };
    }
    const current = samples[samples.length - 1]!;
    const projected = forecast(samples, policy.forecastHorizonMs);
    return {
      balance: signedAmount(current.balanceCentavos), at: new Date(current.atMs).toISOString(), level: levelOf(current.balanceCentavos, policy),
      warning: formatAmount(policy.warningCentavos), critical: formatAmount(policy.criticalCentavos), topUp: formatAmount(policy.topUpCentavos),
      forecast: projected === undefined ? null : signedAmount(projected), forecastHorizonMs: policy.forecastHorizonMs,
      samples: samples.map((s) => ({ at: new Date(s.atMs).toISOString(), balance: signedAmount(s.balanceCentavos) })),
    };
  };
}

// --- settlement -------------------------------------------------------------------------------------

export async function windows(sql: Db) {
  const list = await listWindows(sql, WINDOWS_SHOWN_MAX);
  const lastClosed = list.find((w) => w.state !== 'OPEN' && w.state !== 'CLOSING');
  const report = lastClosed === undefined ? undefined : await windowReport(sql, lastClosed.id);
  return {
    windows: list.map((w) => ({ id: w.id, state: w.state, startsAt: w.startsAt.toISOString(), endsAt: w.endsAt.toISOString(), payments: w.payments, gross: formatAmount(w.grossCentavos) })),
    positions: report === undefined ? null : {
      window: report.window.id,
      rows: report.positions.map((p) => ({ ispb: p.ispb, grossDebit: formatAmount(p.grossDebitCentavos), grossCredit: formatAmount(p.grossCreditCentavos), net: signedAmount(p.netCentavos) })),
      netSum: signedAmount(report.netSumCentavos),
    },
  };
}

export async function reconciliation(sql: Db) {
  const rows = await sql<{ id: number; statement_from: Date; ran_at: Date; matched: number; unexplained: number; mismatches: unknown }[]>`
    select id, statement_from, ran_at, matched, unexplained, mismatches from recon_runs order by ran_at desc limit 7`;
  return rows.map((r) => ({ id: Number(r.id), day: r.statement_from.toISOString().slice(0, 10), ranAt: r.ran_at.toISOString(), matched: r.matched, unexplained: r.unexplained, mismatches: r.mismatches }));
}

// --- DICT and MED: what waits for us ------------------------------------------------------------------

export interface OpenClaim {
  id: string; role: string; type: string; key: string; keyType: string; status: string;
  claimer: string; donor: string; resolutionDeadline: string; completionDeadline: string; msLeft: number;
}

export async function openClaims(sql: Db, now: Date, limit = PANEL_ROWS_MAX): Promise<OpenClaim[]> {
  const rows = await sql<{ id: string; role: string; claim_type: string; key: string; key_type: string; status: string; claimer_ispb: string; donor_ispb: string; resolution_period_end: Date; completion_period_end: Date }[]>`
    select id, role, claim_type, key, key_type, status, claimer_ispb, donor_ispb, resolution_period_end, completion_period_end from dict_claims
    where status not in ('COMPLETED', 'CANCELLED') order by resolution_period_end limit ${limit}`;
  return rows.map((r) => ({
    id: r.id, role: r.role, type: r.claim_type, key: r.key, keyType: r.key_type, status: r.status, claimer: r.claimer_ispb, donor: r.donor_ispb,
    resolutionDeadline: r.resolution_period_end.toISOString(), completionDeadline: r.completion_period_end.toISOString(),
    msLeft: (r.status === 'CONFIRMED' ? r.completion_period_end : r.resolution_period_end).getTime() - now.getTime(),
  }));
}

/** Infraction reports about payments we took part in that we must analyse and close, and refunds we must answer. */
export async function medWaiting(sql: Db) {
  const reports = await sql<{ id: string; end_to_end_id: string; report_type: string; status: string; reporter_ispb: string; created_at: Date }[]>`
    select id, end_to_end_id, report_type, status, reporter_ispb, created_at from dict_infraction_reports
    where role = 'REPORTED' and status in ('OPEN', 'ACKNOWLEDGED') order by created_at limit ${PANEL_ROWS_MAX}`;
  const refunds = await sql<{ id: string; end_to_end_id: string; reason: string; amount_centavos: bigint; status: string; answer_due_at: Date }[]>`
    select id, end_to_end_id, reason, amount_centavos, status, answer_due_at from dict_refunds
    where role = 'CONTESTED' and status = 'OPEN' order by answer_due_at limit ${PANEL_ROWS_MAX}`;
  return {
    reports: reports.map((r) => ({ id: r.id, endToEndId: r.end_to_end_id.trim(), type: r.report_type, status: r.status, reporter: r.reporter_ispb, createdAt: r.created_at.toISOString() })),
    refunds: refunds.map((r) => ({ id: r.id, endToEndId: r.end_to_end_id.trim(), reason: r.reason, amount: formatAmount(r.amount_centavos), status: r.status, answerDueAt: r.answer_due_at.toISOString() })),
  };
}

/** Webhook deliveries that gave up: an operator redelivers them once the receiver is fixed. */
export async function failedWebhooks(sql: Db) {
  const rows = await sql<{ subscription_id: string; event_id: string; event_type: string; attempts: number; created_at: Date; url: string }[]>`
    select d.subscription_id, d.event_id, d.event_type, d.attempts, d.created_at, s.url from spi_webhook_deliveries d
    join spi_webhook_subscriptions s on s.id = d.subscription_id where d.status = 'FAILED' order by d.created_at desc limit ${PANEL_ROWS_MAX}`;
  return rows.map((r) => ({ subscriptionId: r.subscription_id, eventId: r.event_id, eventType: r.event_type, attempts: r.attempts, url: r.url, createdAt: r.created_at.toISOString() }));
}

// --- platform -----------------------------------------------------------------------------------------

export interface ServiceHealth {
  service: string;
  url: string;
  ready: boolean;
  status: number | null;
  checks: unknown;
  /** from process_start_time_seconds: a recent start is a restart */
  startedAt: string | null;
  error?: string;
}

export async function serviceHealth(service: string, url: string): Promise<ServiceHealth> {
  try {
    const ready = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    const checks = await ready.json().catch(() => null);
    let startedAt: string | null = null;
    const metrics = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) }).catch(() => undefined);
    if (metrics?.ok) {
      const m = /^process_start_time_seconds(?:\{[^}]*\})? ([0-9.e+]+)$/m.exec(await metrics.text());
      if (m) startedAt = new Date(Number(m[1]) * 1000).toISOString();
    }
    return { service, url, ready: ready.status === 200, status: ready.status, checks, startedAt };
  } catch (e) {
    return { service, url, ready: false, status: null, checks: null, startedAt: null, error: e instanceof Error ? e.message : String(e) };
  }
}

export interface ConsumerLag {
  stream: string;
  consumer: string;
  /** messages not yet delivered to the consumer */
  pending: number;
  /** delivered, not yet acknowledged */
  ackPending: number;
  redelivered: number;
}

/** Durable consumers of our streams with their lag (ephemeral ones are live WebSocket feeds). */
export async function consumerLag(jsm: JetStreamManager, config: Pick<Config, 'natsPrefix'>): Promise<{ streams: { stream: string; messages: number; lastSeq: number }[]; consumers: ConsumerLag[] }> {
  const streams: { stream: string; messages: number; lastSeq: number }[] = [];
  const consumers: ConsumerLag[] = [];
  for (const key of Object.keys(STREAMS) as StreamKey[]) {
    const name = streamName(config, key);
    const info = await jsm.streams.info(name);
    streams.push({ stream: name, messages: info.state.messages, lastSeq: info.state.last_seq });
    for await (const c of jsm.consumers.list(name)) {
      if (c.config.durable_name === undefined) continue;
      consumers.push({ stream: name, consumer: c.name, pending: c.num_pending, ackPending: c.num_ack_pending, redelivered: c.num_redelivered });
    }
  }
  return { streams, consumers };
}

export interface PartitionCoverage {
  table: string;
  /** months from the current one through PARTITION_MONTHS_AHEAD_DEFAULT ahead, each with or without its partition */
  months: { month: string; partition: string; exists: boolean }[];
  defaultRows: number;
  covered: boolean;
}

export async function partitionCoverage(sql: Db, now: Date): Promise<PartitionCoverage[]> {
  const children = new Set((await sql<{ relname: string }[]>`
    select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
    join pg_namespace n on n.oid = p.relnamespace where n.nspname = current_schema()`).map((r) => r.relname));
  const defaults = await countDefaultPartitionRows(sql);
  return MONTHLY_TABLES.map(({ table }) => {
    const months = Array.from({ length: PARTITION_MONTHS_AHEAD_DEFAULT + 1 }, (_, i) => {
      const m = monthOf(now, i);
      const partition = partitionName(table, m);
      return { month: `${m.year}-${String(m.month).padStart(2, '0')}`, partition, exists: children.has(partition) };
    });
    const defaultRows = defaults[table].rows;
    return { table, months, defaultRows, covered: months.every((m) => m.exists) && defaultRows === 0 };
  });
}
