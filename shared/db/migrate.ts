// Applies sql/NNNN_name.sql in file-name order into one schema, each file in its own transaction,
// recorded with its sha256 so an edited, already-applied migration is caught instead of silently ignored.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sql } from 'postgres';
import { ROOT_DIR } from '../config.ts';
import type { Logger } from '../telemetry.ts';

export const SQL_DIR = join(ROOT_DIR, 'sql');
/** `0001_init.sql`: the numeric prefix gives the order, the rest says what the file does. */
export const MIGRATION_FILE = /^\d{4}_[a-z0-9_]+\.sql$/;
/** Advisory-lock namespace (first int4 key) for migrations; the second key is hashtext(schema). */
export const MIGRATION_LOCK_CLASS = 0x464c_584d; // 'FLXM'
/** Only schemas with this prefix are dropped without `force`: test schemas, never production. */
export const TEST_SCHEMA_PREFIX = 't_';
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface Migration {
  name: string;
  checksum: string;
  text: string;
}

/** The compiled binary carries sql/*.sql inside it (`bun build --compile cli/main.ts sql/*.sql`). */
async function embeddedMigrations(): Promise<{ name: string; text: string }[]> {
  const files = (Bun.embeddedFiles ?? []) as (Blob & { name?: string })[];
  const sqlFiles = files.filter((f) => typeof f.name === 'string' && f.name.endsWith('.sql'));
  // embedded names may carry a content hash (0001_init-a1b2c3.sql): strip it back to the source name
  return Promise.all(sqlFiles.map(async (f) => ({ name: f.name!.replace(/-[a-z0-9]{8}\.sql$/, '.sql'), text: await f.text() })));
}

/**
 * Migrations come from `dir` on disk; inside the compiled binary (no sql/ beside it) from the embedded
 * copies. Embedded files lose their folder, so the sandbox's migrations carry `_sandbox_` in their
 * names (services/bacen-sandbox/sql/0001_sandbox_init.sql) and the platform's never do.
 */
async function migrationSources(dir: string | undefined): Promise<{ name: string; text: string }[]> {
  const from = dir ?? SQL_DIR;
  if (!existsSync(from)) {
    const wantSandbox = dir !== undefined && dir !== SQL_DIR;
    const embedded = (await embeddedMigrations()).filter((m) => m.name.includes('_sandbox_') === wantSandbox);
    if (embedded.length > 0) return embedded;
  }
  const names = (await readdir(from)).filter((n) => n.endsWith('.sql'));
  return Promise.all(names.map(async (name) => ({ name, text: await readFile(join(from, name), 'utf8') })));
}

export async function readMigrations(dir?: string): Promise<Migration[]> {
  const sources = (await migrationSources(dir)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const bad = sources.find((s) => !MIGRATION_FILE.test(s.name));
  if (bad) throw new Error(`migration file ${bad.name} in ${dir ?? SQL_DIR} must be named like 0001_init.sql (${MIGRATION_FILE.source})`);
  return sources.map(({ name, text }) => ({ name, checksum: createHash('sha256').update(text).digest('hex'), text }));
}

function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`schema name "${schema}" must match ${SCHEMA_NAME.source}`);
}

/**
 * Brings `schema` up to date and returns the names it applied (empty when nothing was pending).
 * Concurrent runners (several instances starting at once) serialise on a session advisory lock keyed on
 * the schema: the second waits, then finds everything recorded and applies nothing.
 */
export async function migrate(
  sql: Sql<any>,
  opts: { schema: string; dir?: string; logger?: Logger },
): Promise<string[]> {
  const { schema, logger } = opts;
  assertSchemaName(schema);
  const migrations = await readMigrations(opts.dir);
  // one dedicated connection: the session lock and the BEGIN/COMMIT must all happen on it
  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK_CLASS}, hashtext(${schema}))`;
    try {
      return await applyPending(conn, schema, migrations, logger);
    } finally {
      await conn`select pg_advisory_unlock(${MIGRATION_LOCK_CLASS}, hashtext(${schema}))`;
    }
  } finally {
    conn.release();
  }
}

async function applyPending(conn: Sql<any>, schema: string, migrations: Migration[], logger?: Logger): Promise<string[]> {
  await conn`create schema if not exists ${conn(schema)}`;
  await conn`
    create table if not exists ${conn(schema)}.schema_migrations (
      name       text        primary key,
      checksum   char(64)    not null,
      applied_at timestamptz not null default now()
    )`;
  const rows = await conn<{ name: string; checksum: string }[]>`select name, checksum from ${conn(schema)}.schema_migrations order by name`;
  const applied = new Map(rows.map((r) => [r.name, r.checksum]));
  const onDisk = new Set(migrations.map((m) => m.name));

  for (const m of migrations) {
    const recorded = applied.get(m.name);
    if (recorded !== undefined && recorded !== m.checksum) {
      throw new Error(
        `migration ${m.name} changed after it was applied to schema ${schema} (checksum ${recorded.slice(0, 12)}… now ${m.checksum.slice(0, 12)}…): restore the file and put the change in a new migration`,
      );
    }
  }
  for (const name of applied.keys()) {
    if (!onDisk.has(name)) logger?.warn({ migration: name, schema }, 'applied migration is missing from sql/');
  }
  const pending = migrations.filter((m) => !applied.has(m.name));
  const lastApplied = rows.at(-1)?.name;
  const early = pending.find((m) => lastApplied !== undefined && m.name < lastApplied);
  if (early) {
    // applying it now would run it after files that were written expecting it to exist before them
    throw new Error(`migration ${early.name} sorts before the already-applied ${lastApplied} in schema ${schema}: renumber it after ${lastApplied}`);
  }

  const done: string[] = [];
  for (const m of pending) {
    await conn`begin`;
    try {
      // migrations are schema-agnostic: unqualified names land in `schema` for this transaction only
      await conn`select set_config('search_path', ${schema}, true)`;
      await conn.unsafe(m.text).simple();
      await conn`insert into ${conn(schema)}.schema_migrations (name, checksum) values (${m.name}, ${m.checksum})`;
      await conn`commit`;
    } catch (e) {
      await conn`rollback`;
      const why = e instanceof Error ? e.message : String(e);
      throw new Error(`migration ${m.name} failed in schema ${schema}: ${why}`, { cause: e });
    }
    logger?.info({ migration: m.name, schema }, 'applied migration');
    done.push(m.name);
  }
  return done;
}

/** Drops a schema and everything in it. Refuses anything but a test schema (`t_…`) unless forced. */
export async function dropSchema(sql: Sql<any>, schema: string, opts: { force?: boolean } = {}): Promise<void> {
  assertSchemaName(schema);
  if (!schema.startsWith(TEST_SCHEMA_PREFIX) && opts.force !== true) {
    throw new Error(`refusing to drop schema ${schema}: only ${TEST_SCHEMA_PREFIX}* test schemas are dropped without force`);
  }
  await sql`drop schema if exists ${sql(schema)} cascade`;
}
