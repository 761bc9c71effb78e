// One Postgres pool per process, schema-scoped through search_path, returning bigint as JS bigint
// (money is integer centavos: a float would silently lose centavos above 2^53).
import postgres, { type Sql } from 'postgres';
import { DependencyError } from '../errors.ts';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { Config } from '../config.ts';
import type { Logger } from '../telemetry.ts';
import * as schema from './schema.ts';

/** A dead host must fail start-up in seconds, not hang on the OS TCP timeout. */
export const DB_CONNECT_TIMEOUT_S = 5;
/** Idle connections are closed after this long so a quiet service gives them back to Postgres. */
export const DB_IDLE_TIMEOUT_S = 60;
/** Connections are recycled after this long so a failover/DNS change is picked up without a restart. */
export const DB_CONNECTION_LIFETIME_S = 30 * 60;

export type DbConfig = Pick<Config, 'databaseUrl' | 'dbPoolMax' | 'dbSchema'>;
export type Schema = typeof schema;
export type Db = PostgresJsDatabase<Schema>;

export interface Database {
  /** postgres.js: the query API services use (tagged templates, batched writes, transactions) */
  sql: Sql<{ bigint: bigint }>;
  /** drizzle over its own pool (see createDb for why it is not the same pool) */
  db: Db;
  close(): Promise<void>;
}

function options(config: DbConfig, logger: Logger | undefined, applicationName: string) {
  return {
    max: config.dbPoolMax,
    connect_timeout: DB_CONNECT_TIMEOUT_S,
    idle_timeout: DB_IDLE_TIMEOUT_S,
    max_lifetime: DB_CONNECTION_LIFETIME_S,
    // int8 → bigint; postgres.js's default would return a string
    types: { bigint: postgres.BigInt },
    connection: {
      // every unqualified table name resolves in the configured schema (tests use one schema per file)
      search_path: config.dbSchema,
      // month partitions are UTC months; make now()/date_trunc agree with them in every session
      TimeZone: 'UTC',
      application_name: applicationName,
    },
    // Postgres NOTICEs (e.g. "schema already exists") go to debug instead of postgres.js's console.log
    onnotice: (notice: postgres.Notice) => logger?.debug({ notice: notice.message }, 'postgres notice'),
  };
}

/**
 * Creates the pools; no connection is opened until the first query (use `pingDb` at start-up to fail fast).
 *
 * `db` gets a pool of its own, created lazily by postgres.js like `sql`'s: drizzle's postgres-js driver
 * replaces the client's date/time parsers and serializers and its json serializer with pass-throughs, so
 * sharing one client would make `sql` return timestamps as strings and reject Date parameters
 * ("The string argument must be of type string ... Received an instance of Date"). Each pool is bounded by
 * DB_POOL_MAX; a service that only uses one of the APIs only ever opens that pool's connections.
 */
export function createDb(config: DbConfig, logger?: Logger): Database {
  const sql = postgres(config.databaseUrl, options(config, logger, 'fluxiq'));
  const drizzleClient = postgres(config.databaseUrl, options(config, logger, 'fluxiq-drizzle'));
  const db = drizzle(drizzleClient, { schema });
  return {
    sql,
    db,
    async close() {
      await Promise.all([sql.end({ timeout: DB_CONNECT_TIMEOUT_S }), drizzleClient.end({ timeout: DB_CONNECT_TIMEOUT_S })]);
    },
  };
}

/** Runs `select 1`; a failure becomes one actionable line (see explainDbError). */
export async function pingDb(sql: Sql<any>, databaseUrl: string): Promise<void> {
  try {
    await sql`select 1`;
  } catch (e) {
    throw explainDbError(e, databaseUrl);
  }
}

function where(databaseUrl: string): { host: string; database: string } {
  const u = new URL(databaseUrl);
  return { host: `${u.hostname}:${u.port || '5432'}`, database: decodeURIComponent(u.pathname.slice(1)) || 'postgres' };
}

/** Turns a connection failure into an Error whose one-line message says what to do. */
export function explainDbError(e: unknown, databaseUrl: string): Error {
  const { host, database } = where(databaseUrl);
  const code = (e as { code?: string } | null)?.code ?? '';
  const detail = e instanceof Error ? e.message : String(e);
  const hints: Record<string, string> = {
    ECONNREFUSED: `cannot reach Postgres at ${host} (ECONNREFUSED): start it or set DATABASE_URL`,
    ENOTFOUND: `cannot resolve the Postgres host in DATABASE_URL (${host}): fix DATABASE_URL`,
    CONNECT_TIMEOUT: `no answer from Postgres at ${host} within ${DB_CONNECT_TIMEOUT_S} s: check the host, port and firewall, or set DATABASE_URL`,
    '3D000': `database "${database}" does not exist on ${host}: create it (ensureDatabase / ./fluxiq db) or fix DATABASE_URL`,
    '28P01': `Postgres at ${host} rejected the password in DATABASE_URL: fix the credentials`,
    '28000': `Postgres at ${host} refused the connection (pg_hba.conf / role): fix the credentials in DATABASE_URL`,
    '57P03': `Postgres at ${host} is starting up or shutting down: retry in a few seconds`,
  };
  const message = hints[code] ?? `cannot use Postgres at ${host}/${database} (${code || 'error'}: ${detail}): check DATABASE_URL`;
  return new DependencyError(message, { cause: e });
}

/** Database names we create are plain identifiers; anything else is refused rather than quoted. */
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Connects to the `postgres` maintenance database of the same server and creates the target if missing. */
export async function ensureDatabase(databaseUrl: string, logger?: Logger): Promise<{ created: boolean }> {
  const { database } = where(databaseUrl);
  if (!DATABASE_NAME.test(database)) {
    throw new DependencyError(`database name "${database}" in DATABASE_URL must match ${DATABASE_NAME.source}`);
  }
  const maintenanceUrl = new URL(databaseUrl);
  maintenanceUrl.pathname = '/postgres';
  const admin = postgres(maintenanceUrl.toString(), {
    max: 1,
    connect_timeout: DB_CONNECT_TIMEOUT_S,
    onnotice: () => {},
  });
  try {
    const [found] = await admin`select 1 as one from pg_database where datname = ${database}`;
    if (found) return { created: false };
    await admin`create database ${admin(database)}`;
    logger?.info({ database }, 'created database');
    return { created: true };
  } catch (e) {
    // another process created it between our check and our CREATE: the goal is reached
    if ((e as { code?: string }).code === '42P04') return { created: false };
    throw explainDbError(e, maintenanceUrl.toString());
  } finally {
    await admin.end({ timeout: DB_CONNECT_TIMEOUT_S });
  }
}
