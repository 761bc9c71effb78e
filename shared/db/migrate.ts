// Applies sql/NNNN_name.sql in file-name order into one schema, each file in its own transaction,
// recorded with its sha256 so an edited, already-applied migration is caught instead of silently ignored.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Sql } from 'postgres';
import { IS_COMPILED } from '../runtime.ts';
import type { Logger } from '../telemetry.ts';

/** The checkout (meaningless inside the compiled binary, which reads its embedded copies instead). */
const SOURCE_ROOT_DIR = join(import.meta.dir, '..', '..');
export const SQL_DIR = join(SOURCE_ROOT_DIR, 'sql');
/** `0001_init.sql`: the numeric prefix gives the order, the rest says what the file does. */
export const MIGRATION_FILE = /^\d{4}_[a-z0-9_]+\.sql$/;
/** Advisory-lock namespace (first int4 key) for migrations; the second key is hashtext(schema). */
export const MIGRATION_LOCK_CLASS = 0x464c_584d; // 'FLXM'
/** Only schemas with this prefix are dropped without `force`: test schemas, never production. */
export const TEST_SCHEMA_PREFIX = 't_';
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A migration that cannot be applied as it stands: an operator fixes the files or the schema, so the
 *  CLI prints it as one line (cli/main.ts), not as a stack trace. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface Migration {
  name: string;
  checksum: string;
  text: string;
}

/**
 * A migration folder is named relative to the checkout (`sql`, `sql/sandbox`), or given
 * as an absolute path (tests). In a checkout it is read from disk; inside the compiled binary
 * (`./fluxiq build` embeds sql/ with --asset, keeping relative paths) from the embedded copies.
 */
async function migrationSources(dir: string): Promise<{ name: string; text: string }[]> {
  if (IS_COMPILED && !isAbsolute(dir)) {
    const folder = `${dir.replace(/\/+$/, '')}/`;
    // only the folder's own files: sql/sandbox/* belongs to the sandbox, not to sql/
    const files = (Bun.embeddedFiles as (Blob & { name: string })[]).filter((f) => f.name.startsWith(folder) && f.name.endsWith('.sql') && !f.name.slice(folder.length).includes('/'));
    return Promise.all(files.map(async (f) => ({ name: f.name.slice(folder.length), text: await f.text() })));
  }
  const path = isAbsolute(dir) ? dir : join(SOURCE_ROOT_DIR, dir);
  const names = (await readdir(path)).filter((n) => n.endsWith('.sql'));
  return Promise.all(names.map(async (name) => ({ name, text: await readFile(join(path, name), 'utf8') })));
}

export async function readMigrations(dir: string = 'sql'): Promise<Migration[]> {
  const sources = (await migrationSources(dir)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const bad = sources.find((s) => !MIGRATION_FILE.test(s.name));
  if (bad) throw new MigrationError(`migration file ${bad.name} in ${dir} must be named like 0001_init.sql (${MIGRATION_FILE.source})`);
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
      throw new MigrationError(
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
    throw new MigrationError(`migration ${early.name} sorts before the already-applied ${lastApplied} in schema ${schema}: renumber it after ${lastApplied}`);
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
      throw new MigrationError(`migration ${m.name} failed in schema ${schema}: ${why}`, { cause: e });
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
