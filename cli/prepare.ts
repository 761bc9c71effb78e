// What `up` and `test` do before anything runs, each step idempotent and quick on a second run:
// dependencies running, database present and migrated, partitions ahead, dev PKI present.
import { connect as connectNatsRaw } from 'nats';
import Redis from 'ioredis';
import type { Config } from '../shared/config.ts';
import { systemClock } from '../shared/clock.ts';
import { createDb, ensureDatabase, pingDb } from '../shared/db/client.ts';
import { dropSchema, migrate } from '../shared/db/migrate.ts';
import { ensurePartitions } from '../shared/db/partitions.ts';
import { loadCrl } from '../shared/crl.ts';
import { ensureDevPki, revokeCert, writeCrl } from '../shared/pki.ts';
import { ensureInfra } from './infra.ts';

type Log = (message: string) => void;

async function withDb<T>(config: Config, work: (sql: ReturnType<typeof createDb>['sql']) => Promise<T>): Promise<T> {
  const database = createDb(config);
  try {
    await pingDb(database.sql, config.databaseUrl);
    return await work(database.sql);
  } finally {
    await database.close();
  }
}

export async function migrateAndPartition(config: Config, log: Log): Promise<void> {
  const { created } = await ensureDatabase(config.databaseUrl);
  if (created) log(`created database ${new URL(config.databaseUrl).pathname.slice(1)}`);
  await withDb(config, async (sql) => {
    const applied = await migrate(sql, { schema: config.dbSchema });
    if (applied.length > 0) log(`applied migrations to schema ${config.dbSchema}: ${applied.join(', ')}`);
    const { created: parts } = await ensurePartitions(sql, { clock: systemClock });
    if (parts.length > 0) log(`created partitions: ${parts.join(', ')}`);
  });
}

export async function prepare(config: Config, log: Log): Promise<void> {
  const actions = await ensureInfra(config, log);
  for (const a of actions) log(a);
  await migrateAndPartition(config, log);
  ensureDevPki(config.pkiDir, { ispb: config.ispb, bacenIspb: config.bacenIspb });
}

export async function migrateCommand(config: Config): Promise<number> {
  await migrateAndPartition(config, (m) => console.log(m));
  console.log(`schema ${config.dbSchema} is up to date`);
  return 0;
}

export async function partitionsCommand(config: Config, args: string[]): Promise<number> {
  if (args[0] !== 'ensure') {
    console.error('usage: fluxiq partitions ensure');
    return 2;
  }
  await withDb(config, async (sql) => {
    const { created, moved } = await ensurePartitions(sql, { clock: systemClock });
    console.log(created.length > 0 ? `created: ${created.join(', ')}` : 'every partition already exists');
    for (const [table, rows] of Object.entries(moved)) console.log(`moved ${rows} rows of ${table} out of its default partition`);
  });
  return 0;
}

export async function pkiCommand(config: Config, args: string[]): Promise<number> {
  const [action, cert] = args;
  if (!(action === 'init' || action === 'crl' || (action === 'revoke' && cert !== undefined))) {
    console.error('usage: fluxiq pki init | pki revoke CERT | pki crl');
    return 2;
  }
  const pki = ensureDevPki(config.pkiDir, { ispb: config.ispb, bacenIspb: config.bacenIspb });
  if (action === 'init') {
    console.log(`dev PKI in ${pki.dir}: ca, bacen (${config.bacenIspb}), participant (${config.ispb}), ${Object.keys(pki.psps).length} simulated PSPs, CRL ${pki.crl}`);
    return 0;
  }
  // clients reload the CRL when the file changes; the sandbox reads it at start
  const crl = action === 'revoke' ? revokeCert(pki.ca, cert!) : writeCrl(pki.ca);
  const list = loadCrl(crl, pki.ca.cert);
  if (!list.ok) throw new Error(list.error);
  console.log(`${crl}: ${list.value.revoked.size} revoked, next update ${list.value.nextUpdate?.toISOString() ?? 'none'}`);
  return 0;
}

/**
 * A safety net after `./fluxiq test`: every test file drops its own schema, streams and keys, but a file
 * that crashed may not have; whatever carries this run's id goes.
 */
export async function removeTestLeftovers(config: Config, runId: string): Promise<void> {
  const prefix = `t_${runId}_`;
  await withDb(config, async (sql) => {
    const schemas = await sql<{ nspname: string }[]>`select nspname from pg_namespace where nspname like ${prefix + '%'}`;
    for (const { nspname } of schemas) await dropSchema(sql, nspname);
  });
  const nc = await connectNatsRaw({ servers: config.natsUrl, timeout: 2_000 });
  try {
    const jsm = await nc.jetstreamManager();
    for await (const name of jsm.streams.names()) {
      if (name.toLowerCase().startsWith(prefix)) await jsm.streams.delete(name);
    }
  } finally {
    await nc.close();
  }
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
