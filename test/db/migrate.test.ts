import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { cp, mkdtemp, appendFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { createDb, ensureDatabase, pingDb, type Database } from '../../shared/db/client.ts';
import { dropSchema, migrate, readMigrations, SQL_DIR } from '../../shared/db/migrate.ts';
import { testConfig } from '../support/env.ts';

const config = testConfig('migrate');
let a: Database;
let b: Database;

beforeAll(async () => {
  await ensureDatabase(config.databaseUrl);
  a = createDb(config);
  b = createDb(config);
});

afterAll(async () => {
  await dropSchema(a.sql, config.dbSchema);
  await Promise.all([a.close(), b.close()]);
});

describe('migrations', () => {
  test('two runners started at once both succeed and each migration is applied and recorded once', async () => {
    const [first, second] = await Promise.all([
      migrate(a.sql, { schema: config.dbSchema }),
      migrate(b.sql, { schema: config.dbSchema }),
    ]);
    // one of them applied everything, the other waited on the lock and found nothing to do
    const files = (await readMigrations()).map((m) => m.name);
    expect(files[0]).toBe('0001_init.sql');
    expect([...first, ...second].sort()).toEqual(files);
    const rows = await a.sql`select name, length(checksum) as len from schema_migrations order by name`;
    expect(rows.map((r) => [r.name, r.len])).toEqual(files.map((f) => [f, 64]));
  });

  test('running the migrations again applies nothing and changes nothing', async () => {
    const before = await a.sql`select name, checksum, applied_at from schema_migrations order by name`;
    expect(await migrate(a.sql, { schema: config.dbSchema })).toEqual([]);
    const after = await a.sql`select name, checksum, applied_at from schema_migrations order by name`;
    expect(after).toEqual(before);
  });

  test('an applied migration whose file changed is refused, naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fluxiq-migrations-'));
    try {
      await cp(SQL_DIR, dir, { recursive: true });
      await appendFile(join(dir, '0001_init.sql'), '\n-- edited after release\n');
      await expect(migrate(a.sql, { schema: config.dbSchema, dir })).rejects.toThrow(/0001_init\.sql changed after it was applied/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('tables are created in the configured schema, not in public', async () => {
    const [r] = await a.sql`select to_regclass(${`${config.dbSchema}.transactions`}) is not null as here, to_regclass('public.transactions') is not null as public`;
    expect(r).toEqual({ here: true, public: false });
  });

  test('dropSchema refuses a schema that is not a t_ test schema unless forced', async () => {
    await expect(dropSchema(a.sql, 'fluxiq')).rejects.toThrow(/refusing to drop schema fluxiq/);
  });
});

describe('connection', () => {
  test('an unreachable Postgres fails with one actionable line', async () => {
    const url = 'postgres://postgres@127.0.0.1:1/fluxiq';
    const sql = postgres(url, { max: 1, connect_timeout: 2 });
    try {
      await expect(pingDb(sql, url)).rejects.toThrow('cannot reach Postgres at 127.0.0.1:1 (ECONNREFUSED): start it or set DATABASE_URL');
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  test('ensureDatabase creates a missing database once and then leaves it alone', async () => {
    const name = `${config.dbSchema}_db`.slice(0, 63);
    const url = new URL(config.databaseUrl);
    url.pathname = `/${name}`;
    try {
      expect(await ensureDatabase(url.toString())).toEqual({ created: true });
      expect(await ensureDatabase(url.toString())).toEqual({ created: false });
    } finally {
      await a.sql`drop database if exists ${a.sql(name)}`;
    }
  });
});
