// Every test file works in its own Postgres schema, Redis key prefix and NATS stream/subject prefix,
// derived from the run id that `./fluxiq test` sets, so files never see each other's state and a run
// leaves nothing behind (each file drops what it created in afterAll).
import { loadConfig, type Config } from '../../shared/config.ts';

const RUN_ID = (process.env.FLUXIQ_TEST_RUN ?? Date.now().toString(36)).toLowerCase().replace(/[^a-z0-9]/g, '').slice(-8);
let fileCounter = 0;
const ID_LENGTH_MAX = 32;

/** A config for one test file: unique schema `t_<run>_<name>`, Redis prefix and NATS prefix. */
export function testConfig(name: string, overrides: Record<string, string> = {}): Config {
  // REDIS_PREFIX/NATS_PREFIX take at most ID_LENGTH_MAX characters (shared/config.ts): once the counter has
  // two digits (more than 36 files in one run) the name gives way; counter + random keep the id unique
  const suffix = `${(fileCounter++).toString(36)}${Math.random().toString(36).slice(2, 5)}`;
  const head = `t_${RUN_ID}_`;
  const slug = name.toLowerCase().replace(/[^a-z0-9]/g, '_').slice(0, Math.min(16, ID_LENGTH_MAX - head.length - 1 - suffix.length));
  const id = `${head}${slug}_${suffix}`;
  return loadConfig({
    ...process.env,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    DB_SCHEMA: id,
    REDIS_PREFIX: id,
    NATS_PREFIX: id.toUpperCase(),
    SIGNER_THREADS: '1',
    ...overrides,
  });
}
