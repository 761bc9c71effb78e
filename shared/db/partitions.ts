// Keeps month partitions ahead of time for the RANGE-partitioned tables and watches their DEFAULT
// partitions. A row in a DEFAULT partition means a month had no partition when it was written: the gauge
// `partition_default_rows{table}` above zero is the alert, and creating that month later moves the row
// out (Postgres refuses to create a partition whose range overlaps rows sitting in DEFAULT).
import type { Sql } from 'postgres';
import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Logger } from '../telemetry.ts';

/**
 * Monthly for all three. Settlements are few rows (one per participant per window), so daily partitions
 * would only multiply tables (365 a year) and planning cost without pruning anything a date index cannot;
 * a month also matches how reconciliation reports are pulled. Bounds are UTC months.
 */
export const MONTHLY_TABLES = [
  { table: 'transactions', column: 'created_at', type: 'timestamptz', identity: false },
  { table: 'audit_log', column: 'at', type: 'timestamptz', identity: true },
  { table: 'settlements', column: 'settlement_date', type: 'date', identity: false },
] as const;
export type MonthlyTable = (typeof MONTHLY_TABLES)[number]['table'];
type MonthlySpec = (typeof MONTHLY_TABLES)[number];
/** Every partitioned table has a DEFAULT partition named `<table>_default`. */
export const PARTITIONED_TABLES = ['pix_keys', ...MONTHLY_TABLES.map((t) => t.table)] as const;

/** Current month plus two: a missed daily run (or a long outage) still leaves two months of margin. */
export const PARTITION_MONTHS_AHEAD_DEFAULT = 2;
/** Creating years of empty partitions is a typo, not a plan. */
export const PARTITION_MONTHS_AHEAD_MAX = 24;
export const PARTITION_MAINTAIN_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** After a failed run, retry sooner than a day: the margin is two months but an alert should not wait. */
export const PARTITION_RETRY_INTERVAL_MS = 5 * 60 * 1000;
/**
 * DDL on a partitioned table needs a strong lock on it. Waiting for it would queue every payment insert
 * behind us, so give up after this long and try again on the next run.
 */
export const PARTITION_LOCK_TIMEOUT_MS = 5_000;
/** Counting a runaway DEFAULT partition stops here; the gauge then reads this value (still an alert). */
export const DEFAULT_ROWS_COUNT_MAX = 1_000_000;
/** Advisory-lock namespace for partition DDL; the second key is hashtext(schema.table). */
export const PARTITION_LOCK_CLASS = 0x464c_5850; // 'FLXP'

export interface MonthStart {
  year: number;
  /** 1..12 */
  month: number;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** `transactions_y2026m11` */
export function partitionName(table: MonthlyTable, m: MonthStart): string {
  return `${table}_y${pad(m.year, 4)}m${pad(m.month, 2)}`;
}

/** UTC month containing `at`, shifted by `offset` months. */
export function monthOf(at: Date, offset = 0): MonthStart {
  const d = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + offset, 1));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1 };
}

function boundLiteral(spec: MonthlySpec, m: MonthStart): string {
  const day = `${pad(m.year, 4)}-${pad(m.month, 2)}-01`;
  return spec.type === 'date' ? `'${day}'` : `'${day} 00:00:00+00'`;
}

function nextMonth(m: MonthStart): MonthStart {
  return monthOf(new Date(Date.UTC(m.year, m.month - 1, 1)), 1);
}

export interface EnsureResult {
  /** partitions created by this call */
  created: string[];
  /** rows moved out of DEFAULT partitions into the partitions created, per table */
  moved: Partial<Record<MonthlyTable, number>>;
}

/** Creates the month partitions for the clock's month and `monthsAhead` more. Idempotent and safe to run concurrently. */
export async function ensurePartitions(
  sql: Sql<any>,
  opts: { clock: Clock; monthsAhead?: number; logger?: Logger },
): Promise<EnsureResult> {
  const monthsAhead = opts.monthsAhead ?? PARTITION_MONTHS_AHEAD_DEFAULT;
  if (!Number.isInteger(monthsAhead) || monthsAhead < 0 || monthsAhead > PARTITION_MONTHS_AHEAD_MAX) {
    throw new Error(`monthsAhead=${monthsAhead} must be an integer in 0..${PARTITION_MONTHS_AHEAD_MAX}`);
  }
  const now = opts.clock.now();
  const result: EnsureResult = { created: [], moved: {} };
  for (const spec of MONTHLY_TABLES) {
    for (let i = 0; i <= monthsAhead; i++) {
      const outcome = await ensureMonth(sql, spec, monthOf(now, i));
      if (outcome === null) continue;
      result.created.push(outcome.name);
      if (outcome.moved > 0) {
        result.moved[spec.table] = (result.moved[spec.table] ?? 0) + outcome.moved;
        opts.logger?.warn({ table: spec.table, partition: outcome.name, rows: outcome.moved }, 'moved stray rows out of the default partition');
      }
      opts.logger?.info({ table: spec.table, partition: outcome.name }, 'created partition');
    }
  }
  return result;
}

async function ensureMonth(sql: Sql<any>, spec: MonthlySpec, m: MonthStart): Promise<{ name: string; moved: number } | null> {
  const name = partitionName(spec.table, m);
  const from = boundLiteral(spec, m);
  const to = boundLiteral(spec, nextMonth(m));
  const { table, column } = spec;
  const dflt = `${table}_default`;
  // identifiers and literals below come from MONTHLY_TABLES and integer months, never from input
  return sql.begin(async (tx) => {
    await tx`select set_config('lock_timeout', ${`${PARTITION_LOCK_TIMEOUT_MS}ms`}, true)`;
    await tx`select pg_advisory_xact_lock(${PARTITION_LOCK_CLASS}, hashtext(current_schema() || '.' || ${table}))`;
    const [found] = await tx`select to_regclass(${name}) is not null as "exists"`;
    if (found?.exists === true) return null;

    const inRange = `${column} >= ${from} and ${column} < ${to}`;
    const [stray] = await tx.unsafe(`select count(*)::int as n from ${dflt} where ${inRange}`);
    const moved = Number(stray?.n ?? 0);
    // rows in DEFAULT that belong to this month: detach DEFAULT so the partition can be created, copy the
    // rows in through the parent, remove them from the detached table, re-attach. Detaching also lifts
    // audit_log's append-only row trigger from DEFAULT for the move; the rows are moved, not altered.
    if (moved > 0) await tx.unsafe(`alter table ${table} detach partition ${dflt}`);
    await tx.unsafe(`create table ${name} partition of ${table} for values from (${from}) to (${to})`);
    await tx.unsafe(partitionExtras(spec, name));
    if (moved > 0) {
      const overriding = spec.identity ? 'overriding system value' : '';
      await tx.unsafe(`insert into ${table} ${overriding} select * from ${dflt} where ${inRange}`);
      await tx.unsafe(`delete from ${dflt} where ${inRange}`);
      await tx.unsafe(`alter table ${table} attach partition ${dflt} default`);
    }
    return { name, moved };
  });
}

/** Per-partition objects Postgres does not inherit from the parent (see sql/0001_init.sql). */
function partitionExtras(spec: MonthlySpec, name: string): string {
  switch (spec.table) {
    case 'transactions':
      // EndToEndId unique within its month: a parent index cannot omit created_at
      return `create unique index ${name}_e2e_key on ${name} (end_to_end_id)`;
    case 'audit_log':
      // statement-level TRUNCATE triggers are not cloned onto partitions
      return `create trigger ${name}_no_truncate before truncate on ${name} for each statement execute function audit_log_refuse_change()`;
    case 'settlements':
      return 'select 1';
  }
}

export interface DefaultRows {
  rows: number;
  /** earliest and latest partition-key value among the stray rows (null for pix_keys or when empty) */
  min: string | null;
  max: string | null;
}

/** Rows sitting in each DEFAULT partition (counted up to DEFAULT_ROWS_COUNT_MAX). */
export async function countDefaultPartitionRows(sql: Sql<any>): Promise<Record<(typeof PARTITIONED_TABLES)[number], DefaultRows>> {
  const out = {} as Record<(typeof PARTITIONED_TABLES)[number], DefaultRows>;
  for (const table of PARTITIONED_TABLES) {
    const column = MONTHLY_TABLES.find((t) => t.table === table)?.column ?? 'key_type';
    const dated = column !== 'key_type';
    const [r] = await sql.unsafe(
      `select count(*)::int as n, ${dated ? `min(c)::text, max(c)::text` : 'null::text as min, null::text as max'}
         from (select ${column} as c from ${table}_default limit ${DEFAULT_ROWS_COUNT_MAX}) s`,
    );
    out[table] = { rows: Number(r?.n ?? 0), min: r?.min ?? null, max: r?.max ?? null };
  }
  return out;
}

export interface PartitionMetrics {
  defaultRows: Gauge<'table'>;
  lastSuccess: Gauge;
}

/** Registers (once per registry) the maintainer's gauges. */
export function partitionMetrics(registry: Registry): PartitionMetrics {
  const existing = registry.getSingleMetric('partition_default_rows') as Gauge<'table'> | undefined;
  const defaultRows =
    existing ??
    new Gauge({ name: 'partition_default_rows', help: 'Rows in a DEFAULT partition: above 0 a month had no partition (alert)', labelNames: ['table'], registers: [registry] });
  const lastSuccess =
    (registry.getSingleMetric('partition_maintenance_last_success_seconds') as Gauge | undefined) ??
    new Gauge({ name: 'partition_maintenance_last_success_seconds', help: 'Unix time of the last successful partition maintenance run', registers: [registry] });
  return { defaultRows, lastSuccess };
}

/** One maintenance pass: create partitions, then publish and log what is left in DEFAULT partitions. */
export async function runPartitionMaintenance(opts: {
  sql: Sql<any>;
  clock: Clock;
  logger: Logger;
  metrics: PartitionMetrics;
  monthsAhead?: number;
}): Promise<EnsureResult> {
  const { sql, clock, logger, metrics } = opts;
  const ensured = await ensurePartitions(sql, { clock, logger, ...(opts.monthsAhead === undefined ? {} : { monthsAhead: opts.monthsAhead }) });
  const counts = await countDefaultPartitionRows(sql);
  for (const [table, c] of Object.entries(counts)) {
    metrics.defaultRows.set({ table }, c.rows);
    if (c.rows > 0) {
      // outside the maintained months (too old or too far ahead): a clock or data bug to look at by hand
      logger.warn({ table, rows: c.rows, min: c.min, max: c.max }, `${table}_default holds rows no partition covers`);
    }
  }
  metrics.lastSuccess.set(clock.nowMs() / 1000);
  return ensured;
}

/**
 * Runs maintenance now (a failure here fails start-up: without partitions rows would pile into DEFAULT),
 * then every `intervalMs`; a later failure is logged and retried after PARTITION_RETRY_INTERVAL_MS.
 * Returns a stop function that waits for a run in progress.
 */
export async function startPartitionMaintainer(opts: {
  sql: Sql<any>;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  intervalMs?: number;
  monthsAhead?: number;
}): Promise<() => Promise<void>> {
  const intervalMs = opts.intervalMs ?? PARTITION_MAINTAIN_INTERVAL_MS;
  const pass = {
    sql: opts.sql,
    clock: opts.clock,
    logger: opts.logger,
    metrics: partitionMetrics(opts.registry),
    ...(opts.monthsAhead === undefined ? {} : { monthsAhead: opts.monthsAhead }),
  };
  await runPartitionMaintenance(pass);

  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runPartitionMaintenance(pass).then(
        () => schedule(intervalMs),
        (e: unknown) => {
          opts.logger.error({ err: e }, 'partition maintenance failed; retrying');
          schedule(PARTITION_RETRY_INTERVAL_MS);
        },
      );
    }, ms);
  };
  schedule(intervalMs);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
