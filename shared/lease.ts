// Leases for the workers that must run in exactly one instance (claim timers and poller, settlement windows,
// reconciliation, liquidity monitor, partition maintenance): a Postgres session advisory lock held on a
// connection of the lease's own. Every instance runs the lease; the one whose pg_try_advisory_lock succeeds
// starts the work, the others poll every LEASE_POLL_MS. The holder checks every LEASE_HEARTBEAT_MS, on the
// same session, that Postgres still shows the lock granted to it; a failed, late or negative heartbeat means
// the lease is lost: the work is stopped and the connection closed (closing the session is what guarantees
// Postgres lets the lock go even if it was only our heartbeat that failed). A crashed holder's session ends
// with its socket, so another instance acquires within one poll: well under 2 s.
//
// What a lease does not give: fencing. A holder cut off from Postgres keeps running a pass already in flight
// until its heartbeat notices (≤ LEASE_HEARTBEAT_MS + LEASE_HEARTBEAT_TIMEOUT_MS) while another instance may
// already hold the lock; the leased workers are written so that a pass is a transaction that re-reads
// and locks what it changes (FOR UPDATE / conditional UPDATE), so an overlapping pass does no harm, only work.
import postgres from 'postgres';
import { Gauge, type Registry } from 'prom-client';
import type { Config } from './config.ts';
import type { Logger } from './telemetry.ts';

/** How often an instance without the lease tries to take it: a crashed holder is replaced within this. */
export const LEASE_POLL_MS = 500;
/** How often the holder checks, on its own session, that it still holds the lock. */
export const LEASE_HEARTBEAT_MS = 500;
/** A heartbeat (or an acquisition attempt) slower than this counts as failed: Postgres is not answering. */
export const LEASE_HEARTBEAT_TIMEOUT_MS = 1_000;
/** Seconds a new lease connection may take to open before the attempt fails (and is retried next poll). */
export const LEASE_CONNECT_TIMEOUT_S = 2;
/** First int4 of the two-key advisory lock: the leases' own key space ('FLXL'), apart from migrations and partitions. */
export const LEASE_LOCK_CLASS = 0x464c_584c;

/** Starts the leased work and returns its stop (which waits for a pass in flight). */
export type LeasedWork = () => Promise<() => Promise<void>> | (() => Promise<void>);

export interface Lease {
  readonly name: string;
  /** true while this instance holds the lock and its work runs */
  held(): boolean;
  /** stops the work if running, lets the lock go and stops trying */
  stop(): Promise<void>;
}

export interface LeaseOptions {
  pollMs?: number;
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
  /** lease_held{lease} gauge (1 in the holder) */
  registry?: Registry;
}

type LeaseConnection = postgres.Sql<{}>;

/** The application_name of a lease's session (pg_stat_activity): one per instance running the lease. */
export const leaseApplicationName = (schema: string, name: string): string => `fluxiq-lease:${schema}/${name}`;

function leaseGauge(registry: Registry | undefined): Gauge<'lease'> | undefined {
  if (!registry) return undefined;
  return (registry.getSingleMetric('lease_held') as Gauge<'lease'> | undefined)
    ?? new Gauge({ name: 'lease_held', help: '1 while this instance holds the named lease and runs its work', labelNames: ['lease'], registers: [registry] });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Runs `work` in this instance only while it holds the lease `name` (scoped to config.dbSchema, so two
 * platforms sharing one database in different schemas do not contend). Returns at once; acquisition happens
 * in the background.
 */
export function startLease(
  config: Pick<Config, 'databaseUrl' | 'dbSchema'>,
  logger: Logger,
  name: string,
  work: LeasedWork,
  opts: LeaseOptions = {},
): Lease {
  const pollMs = opts.pollMs ?? LEASE_POLL_MS;
  const heartbeatMs = opts.heartbeatMs ?? LEASE_HEARTBEAT_MS;
  const timeoutMs = opts.heartbeatTimeoutMs ?? LEASE_HEARTBEAT_TIMEOUT_MS;
  const key = `${config.dbSchema}/${name}`;
  const log = logger.child({ component: 'lease', lease: name });
  const gauge = leaseGauge(opts.registry);
  gauge?.set({ lease: name }, 0);

  let conn: LeaseConnection | null = null;
  let stopWork: (() => Promise<void>) | null = null;
  let stopped = false;
  let wake: (() => void) | null = null;

  const connect = (): LeaseConnection => postgres(config.databaseUrl, {
    max: 1,
    connect_timeout: LEASE_CONNECT_TIMEOUT_S,
    idle_timeout: 0,
    // a lease connection lives as long as the lease: postgres.js must not recycle it under us
    max_lifetime: null,
    // with the schema: `fluxiq faults` counts an spi standby's lease session to know it is ready to take over
    connection: { application_name: leaseApplicationName(config.dbSchema, name) },
    onnotice: () => {},
  });

  /** ends the session (Postgres drops its locks with it); never throws */
  const closeConn = async () => {
    const c = conn;
    conn = null;
    await c?.end({ timeout: 0 }).catch(() => {});
  };

  const tryAcquire = async (): Promise<boolean> => {
    conn ??= connect();
    const c = conn;
    const [row] = await withTimeout(c<{ got: boolean }[]>`select pg_try_advisory_lock(${LEASE_LOCK_CLASS}, hashtext(${key})) as got`, timeoutMs, 'lease acquisition');
    return row?.got === true;
  };

  const stillHeld = async (): Promise<boolean> => {
    const c = conn;
    if (!c) return false;
    // on the same session: if postgres.js silently reconnected after the backend died, this new session
    // holds nothing and the answer is false
    const [row] = await withTimeout(c<{ held: boolean }[]>`
      select exists (
        select 1 from pg_locks
        where locktype = 'advisory' and granted and pid = pg_backend_pid()
          and classid = ${LEASE_LOCK_CLASS}::oid and objid = hashtext(${key})::oid and objsubid = 2
      ) as held`, timeoutMs, 'lease heartbeat');
    return row?.held === true;
  };

  const release = async (why: string) => {
    const s = stopWork;
    stopWork = null;
    gauge?.set({ lease: name }, 0);
    if (s) {
      log.warn({ why }, 'lease released: stopping its work');
      await s().catch((err: unknown) => log.error({ err }, 'leased work failed to stop cleanly'));
    }
    await closeConn();
  };

  const step = async () => {
    if (stopWork === null) {
      let got = false;
      try {
        got = await tryAcquire();
      } catch (err) {
        log.debug({ err }, 'lease acquisition attempt failed; retrying');
        await closeConn();
        return;
      }
      if (!got || stopped) return;
      try {
        stopWork = await work();
        gauge?.set({ lease: name }, 1);
        log.info('lease acquired: work started');
      } catch (err) {
        log.error({ err }, 'leased work failed to start; letting the lease go and retrying');
        await closeConn();
      }
      return;
    }
    let held = false;
    try {
      held = await stillHeld();
    } catch (err) {
      log.warn({ err }, 'lease heartbeat failed');
    }
    if (!held) await release('heartbeat failed: lock no longer held on our session');
  };

  const loop = (async () => {
    while (!stopped) {
      await step();
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, stopWork === null ? pollMs : heartbeatMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  })();

  return {
    name,
    held: () => stopWork !== null,
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      const c = conn;
      if (stopWork !== null && c) {
        // let the lock go explicitly before closing, so a waiting instance takes over at its next poll
        const s = stopWork;
        stopWork = null;
        gauge?.set({ lease: name }, 0);
        await s().catch((err: unknown) => log.error({ err }, 'leased work failed to stop cleanly'));
        await withTimeout(c`select pg_advisory_unlock(${LEASE_LOCK_CLASS}, hashtext(${key}))`, timeoutMs, 'lease unlock').catch(() => {});
      }
      await closeConn();
    },
  };
}
