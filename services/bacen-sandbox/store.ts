// The sandbox's own Postgres schema: `<DB_SCHEMA>_bacen`, migrated from sql/sandbox/.
import type { Config } from '../../shared/config.ts';
import { createDb, ensureDatabase, pingDb, type Database } from '../../shared/db/client.ts';
import { migrate } from '../../shared/db/migrate.ts';
import type { Logger } from '../../shared/telemetry.ts';

/** Relative to the checkout: read from disk there, from the binary's embedded copy when compiled. */
export const SANDBOX_SQL_DIR = 'sql/sandbox';

export function sandboxSchema(config: Pick<Config, 'dbSchema'>): string {
  return `${config.dbSchema}_bacen`;
}

/** Connects to the sandbox schema and applies its migrations (idempotent). */
export async function openSandboxStore(config: Config, logger?: Logger): Promise<Database> {
  await ensureDatabase(config.databaseUrl);
  const schema = sandboxSchema(config);
  const database = createDb({ ...config, dbSchema: schema }, logger);
  try {
    await pingDb(database.sql, config.databaseUrl);
    await migrate(database.sql, { schema, dir: SANDBOX_SQL_DIR, logger });
    return database;
  } catch (e) {
    await database.close();
    throw e;
  }
}
