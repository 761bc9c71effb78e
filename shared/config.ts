// Configuration comes from environment variables, each with a typed default, validated once at start.
// A bad value stops the process with one line naming the variable and the rule it broke.
import { resolve } from 'node:path';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Parser<T> = (raw: string, name: string) => T;

const str: Parser<string> = (raw) => raw;

const int =
  (min: number, max: number): Parser<number> =>
  (raw, name) => {
    if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${name}=${raw} is not an integer`);
    const n = Number(raw);
    if (n < min || n > max) throw new ConfigError(`${name}=${raw} is outside ${min}..${max}`);
    return n;
  };

const port = int(1, 65535);

const url =
  (...protocols: string[]): Parser<string> =>
  (raw, name) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new ConfigError(`${name}=${raw} is not a URL`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(`${name}=${raw} must use ${protocols.join(' or ')}`);
    }
    return raw;
  };

const oneOf =
  <const T extends string>(...values: T[]): Parser<T> =>
  (raw, name) => {
    if (!(values as string[]).includes(raw)) throw new ConfigError(`${name}=${raw} must be one of ${values.join(', ')}`);
    return raw as T;
  };

const ispb: Parser<string> = (raw, name) => {
  if (!/^[0-9A-Z]{8}$/.test(raw)) throw new ConfigError(`${name}=${raw} is not an ISPB (8 characters [0-9A-Z])`);
  return raw;
};

/** Lower-case identifier safe to splice into SQL, stream and Redis names (validated, never user input). */
const ident: Parser<string> = (raw, name) => {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(raw)) throw new ConfigError(`${name}=${raw} must match [a-z_][a-z0-9_]{0,40}`);
  return raw;
};

const prefix: Parser<string> = (raw, name) => {
  if (!/^[A-Za-z0-9_]{0,32}$/.test(raw)) throw new ConfigError(`${name}=${raw} must match [A-Za-z0-9_]{0,32}`);
  return raw;
};

const cpus = (): number => navigator.hardwareConcurrency || 1;

export const ROOT_DIR = resolve(import.meta.dir, '..');

const SPEC = {
  logLevel: ['LOG_LEVEL', oneOf('trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'), 'info'],
  databaseUrl: ['DATABASE_URL', url('postgres:', 'postgresql:'), 'postgres://postgres@127.0.0.1:5432/fluxiq'],
  /** every table lives in this schema; tests use one schema per run */
  dbSchema: ['DB_SCHEMA', ident, 'fluxiq'],
  dbPoolMax: ['DB_POOL_MAX', int(1, 200), '10'],
  redisUrl: ['REDIS_URL', url('redis:', 'rediss:'), 'redis://127.0.0.1:6379'],
  /** namespace for every Redis key (tests use one per run) */
  redisPrefix: ['REDIS_PREFIX', prefix, 'fluxiq'],
  natsUrl: ['NATS_URL', str, 'nats://127.0.0.1:4222'],
  /** prefixes stream names and subjects so test runs never share JetStream state with the platform */
  natsPrefix: ['NATS_PREFIX', prefix, ''],
  pkiDir: ['PKI_DIR', str, resolve(ROOT_DIR, 'var/pki')],
  /** our institution's ISPB */
  ispb: ['FLUXIQ_ISPB', ispb, '12345678'],
  /** BACEN's own ISPB (SPI and DICT are addressed to it) */
  bacenIspb: ['BACEN_ISPB', ispb, '00038166'],
  bacenUrl: ['BACEN_URL', url('https:'), 'https://127.0.0.1:4443'],
  bacenTimeoutMs: ['BACEN_TIMEOUT_MS', int(100, 120_000), '5000'],
  /** address the services listen on; 0.0.0.0 in a container */
  bindHost: ['BIND_HOST', str, '127.0.0.1'],
  dictPort: ['DICT_PORT', port, '4001'],
  spiPort: ['SPI_PORT', port, '4002'],
  settlementPort: ['SETTLEMENT_PORT', port, '4003'],
  sandboxPort: ['SANDBOX_PORT', port, '4443'],
  sandboxControlPort: ['SANDBOX_CONTROL_PORT', port, '4480'],
  /** threads that run RSA for the XML signer; 0 signs on the calling thread */
  signerThreads: ['SIGNER_THREADS', int(0, 64), String(cpus())],
} as const satisfies Record<string, readonly [string, Parser<unknown>, string]>;

type Spec = typeof SPEC;
export type Config = { readonly [K in keyof Spec]: ReturnType<Spec[K][1]> };

/** Reads and validates every variable; throws ConfigError (one line) on the first bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const out: Record<string, unknown> = {};
  for (const [field, [name, parse, fallback]] of Object.entries(SPEC)) {
    const raw = env[name];
    out[field] = (parse as Parser<unknown>)(raw === undefined || raw === '' ? fallback : raw, name);
  }
  return Object.freeze(out) as Config;
}

/** The variables, their defaults and current values, for `./fluxiq config` and the README. */
export function describeConfig(): { name: string; default: string }[] {
  return Object.values(SPEC).map(([name, , fallback]) => ({ name, default: fallback }));
}
