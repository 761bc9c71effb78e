// Shared set-up for the db tests: one migrated schema per test file, dropped afterwards.
import type { Config } from '../../shared/config.ts';
import { createDb, ensureDatabase, type Database } from '../../shared/db/client.ts';
import { dropSchema, migrate } from '../../shared/db/migrate.ts';
import { testConfig } from '../support/env.ts';

export interface TestDb extends Database {
  config: Config;
  /** drops the schema and closes the pools */
  cleanup(): Promise<void>;
}

export async function migratedTestDb(name: string): Promise<TestDb> {
  const config = testConfig(name);
  await ensureDatabase(config.databaseUrl);
  const database = createDb(config);
  await migrate(database.sql, { schema: config.dbSchema });
  return {
    ...database,
    config,
    async cleanup() {
      await dropSchema(database.sql, config.dbSchema);
      await database.close();
    },
  };
}

/** E + ISPB + yyyyMMddHHmm (UTC) + 11 alphanumerics, as PIX.md describes. */
export function endToEndId(at: Date, suffix: string, ispb = '12345678'): string {
  const stamp = at.toISOString().replace(/[-:T]/g, '').slice(0, 12);
  const id = `E${ispb}${stamp}${suffix.padEnd(11, '0').slice(0, 11)}`;
  if (id.length !== 32) throw new Error(`bad test EndToEndId ${id}`);
  return id;
}

/** A minimal valid transactions row for raw-SQL inserts. */
export function transactionRow(at: Date, suffix: string, amountCentavos = 1_234n) {
  return {
    end_to_end_id: endToEndId(at, suffix),
    direction: 'OUTBOUND',
    status: 'CREATED',
    amount_centavos: amountCentavos,
    debtor_ispb: '12345678',
    debtor_account: '123456',
    debtor_tax_id: '52998224725',
    debtor_name: 'Fulano de Tal',
    creditor_ispb: '10000001',
    creditor_account: '654321',
    creditor_tax_id: '11222333000181',
    creditor_name: 'Loja Exemplo Ltda',
    initiation_form: 'DICT',
    created_at: at,
    updated_at: at,
  };
}
