// A DICT service wired with real dependencies for one test file: its own Postgres schema (migrated),
// Redis prefix and NATS streams, a sandbox on ephemeral ports over mTLS, and the app called in-process
// with app.handle. Our clock is an OffsetClock advanced together with the sandbox's (claim deadlines).
import type { Config } from '../../shared/config.ts';
import { OffsetClock } from '../../shared/clock.ts';
import { createDb, ensureDatabase } from '../../shared/db/client.ts';
import { dropSchema, migrate } from '../../shared/db/migrate.ts';
import { connectNats, deleteStreams, ensureStreams } from '../../shared/nats/index.ts';
import { connectRedis, deleteKeysWithPrefix } from '../../shared/redis/index.ts';
import type { ServiceDeps } from '../../shared/service.ts';
import { createLogger, createMetrics } from '../../shared/telemetry.ts';
import type { ParticipantCategory } from '../../shared/dict/buckets.ts';
import { createDictApp, type DictApp } from '../../services/dict/app.ts';
import { LogSender } from '../../services/dict/confirmations/sender.ts';
import type { DictDeps } from '../../services/dict/deps.ts';
import { createDictServices, type DictServices } from '../../services/dict/services.ts';
import { wireDictDeps } from '../../services/dict/wiring.ts';
import { loadParticipantCategory } from '../../services/dict/lookup/participants.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/support/harness.ts';
import { testConfig } from '../support/env.ts';

/** Test streams hold a few messages; small, so a run reserves little server storage. */
const TEST_STREAM_BYTES_MAX = 8 * 1024 * 1024;
export const DAY_MS = 24 * 60 * 60 * 1000;

export interface DictFixture {
  config: Config;
  clock: OffsetClock;
  sandbox: TestSandbox;
  deps: DictDeps;
  services: DictServices;
  app: DictApp;
  sender: LogSender;
  /** JSON request to the app; returns status, parsed body and headers */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; headers: Headers }>;
  /** advances our clock and the sandbox's by the same amount */
  advance(ms: number): Promise<void>;
  /** a fresh service instance over the same database (a restart), replacing `services`/`app` */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function dictFixture(name: string, opts: { category?: ParticipantCategory } = {}): Promise<DictFixture> {
  const sandbox = await startTestSandbox(`dict-${name}`);
  const config = testConfig(`dict_${name}`, { PKI_DIR: sandbox.dir, BACEN_URL: sandbox.baseUrl });
  const logger = createLogger('dict-test', config.logLevel);
  await ensureDatabase(config.databaseUrl);
  const database = createDb(config, logger);
  await migrate(database.sql, { schema: config.dbSchema });
  const nc = await connectNats(config, logger, `test-dict-${name}`);
  const jsm = await nc.jetstreamManager();
  await ensureStreams(jsm, config, { bytesMax: TEST_STREAM_BYTES_MAX });
  const redis = await connectRedis(config, logger, `test-dict-${name}`);
  const clock = new OffsetClock();
  const base: ServiceDeps = { service: 'dict', config, logger, metrics: createMetrics('dict'), clock, sql: database.sql, db: database.db, nc, js: nc.jetstream(), jsm, redis };
  const sender = new LogSender(logger);
  const wiring = await wireDictDeps(base, sender, { signerThreads: 0 });

  const build = async () => {
    const services = createDictServices(wiring.deps, { workers: false, category: opts.category ?? (await loadParticipantCategory(wiring.deps)) });
    await services.start();
    return { services, app: createDictApp(wiring.deps, services) };
  };
  let built = await build();

  const fx: DictFixture = {
    config,
    clock,
    sandbox,
    deps: wiring.deps,
    services: built.services,
    app: built.app,
    sender,
    async call(method, path, body, headers = {}) {
      const res = await fx.app.handle(new Request(`http://dict.test${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }));
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : null, headers: res.headers };
    },
    async advance(ms) {
      clock.advance(ms);
      const r = await sandbox.control('POST', '/clock/advance', { ms });
      if (r.status >= 300) throw new Error(`sandbox clock advance failed: ${r.status} ${JSON.stringify(r.json)}`);
    },
    async restart() {
      await fx.services.stop();
      built = await build();
      fx.services = built.services;
      fx.app = built.app;
    },
    async close() {
      await fx.services.stop();
      await wiring.close();
      await dropSchema(database.sql, config.dbSchema);
      await deleteStreams(jsm, config);
      await deleteKeysWithPrefix(redis, `${config.redisPrefix}:`);
      await nc.drain();
      redis.disconnect();
      await database.close();
      await sandbox.stop();
    },
  };
  return fx;
}

/** An account body for registrations. */
export function account(accountNumber: string, branch = '0001') {
  return { branch, accountNumber, accountType: 'CACC' as const, openingDate: '2020-01-10T03:00:00.000Z' };
}

export function naturalPerson(taxIdNumber: string, name = 'Maria da Silva') {
  return { type: 'NATURAL_PERSON' as const, taxIdNumber, name };
}

export function legalPerson(taxIdNumber: string, name = 'Empresa Exemplo Ltda') {
  return { type: 'LEGAL_PERSON' as const, taxIdNumber, name };
}

/** Starting a sandbox, migrating a schema and seeding take a few seconds on a loaded 2-core CI box:
 *  more than bun's 5 s default for hooks. */
export const FIXTURE_TIMEOUT_MS = 30_000;
