// Configuration comes from environment variables, each with a typed default, validated once at start.
// A bad value stops the process with one line naming the variable and the rule it broke.
import { resolve } from 'node:path';
import { IS_COMPILED } from './runtime.ts';

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

/**
 * JWT signing keys `kid:secret[,kid:secret...]`: the first signs, every one verifies (rotation: put the new
 * key first, drop the old one after the access-token lifetime). Empty = a dev key generated into var/.
 */
const jwtKeys: Parser<string> = (raw, name) => {
  if (raw === '') return raw;
  for (const entry of raw.split(',')) {
    const at = entry.indexOf(':');
    const kid = entry.slice(0, at);
    if (at < 1 || !/^[A-Za-z0-9_-]{1,32}$/.test(kid)) throw new ConfigError(`${name}: each entry must be kid:secret with kid [A-Za-z0-9_-]{1,32}`);
    if (entry.length - at - 1 < 32) throw new ConfigError(`${name}: the secret of kid ${kid} is shorter than 32 characters`);
  }
  return raw;
};

const cpus = (): number => navigator.hardwareConcurrency || 1;

/** The checkout; for the compiled binary, the working directory (var/pki and the like live there). */
export const ROOT_DIR = IS_COMPILED ? process.cwd() : resolve(import.meta.dir, '..');

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
  /** JetStream replicas of each stream: 1 on one server, 3 on a three-node cluster (deploy/) */
  natsStreamReplicas: ['NATS_STREAM_REPLICAS', int(1, 5), '1'],
  pkiDir: ['PKI_DIR', str, resolve(ROOT_DIR, 'var/pki')],
  /** the CA's revocation list our BACEN client checks the server's certificate against; empty: <PKI_DIR>/ca.crl when present at start */
  pkiCrl: ['PKI_CRL', str, ''],
  /** our institution's ISPB */
  ispb: ['FLUXIQ_ISPB', ispb, '12345678'],
  /** BACEN's own ISPB (SPI and DICT are addressed to it) */
  bacenIspb: ['BACEN_ISPB', ispb, '00038166'],
  bacenUrl: ['BACEN_URL', url('https:'), 'https://127.0.0.1:4443'],
  bacenTimeoutMs: ['BACEN_TIMEOUT_MS', int(100, 120_000), '5000'],
  /** address the services listen on; 0.0.0.0 in a container */
  bindHost: ['BIND_HOST', str, '127.0.0.1'],
  /** 'on': several instances of a service share its port (SO_REUSEPORT, Linux; `fluxiq up --instances N` sets it). Off by default, so a second platform started by mistake fails on a busy port instead of silently sharing it */
  listenReusePort: ['LISTEN_REUSE_PORT', oneOf('off', 'on'), 'off'],
  /** 'on' (Kubernetes): a standby (spi waiting for its lease) on a port of its own answers /ready from its dependencies, so a rollout can count it; its every other answer is a 503 marked x-fluxiq-standby that closes the connection, and the gateway sends the request again on a new one. 'off': /ready is 503 until the instance is active */
  standbyReady: ['STANDBY_READY', oneOf('off', 'on'), 'off'],
  dictPort: ['DICT_PORT', port, '4001'],
  spiPort: ['SPI_PORT', port, '4002'],
  settlementPort: ['SETTLEMENT_PORT', port, '4003'],
  /** where the gateway (and `fluxiq status`) reach dict and spi when they run elsewhere (containers, pods); empty: this host at DICT_PORT/SPI_PORT */
  dictUrl: ['DICT_URL', str, ''],
  spiUrl: ['SPI_URL', str, ''],
  sandboxPort: ['SANDBOX_PORT', port, '4443'],
  sandboxControlPort: ['SANDBOX_CONTROL_PORT', port, '4480'],
  /** DICT entries the sandbox seeds for its simulated PSPs at start (only those absent); 0 seeds none */
  sandboxDictSeed: ['SANDBOX_DICT_SEED', int(0, 1_000_000), '100000'],
  /** threads that run RSA for the XML signer; 0 signs on the calling thread */
  signerThreads: ['SIGNER_THREADS', int(0, 64), String(cpus())],
  /** gateway JWT keys (never logged); see jwtKeys above */
  jwtKeys: ['JWT_KEYS', jwtKeys, ''],
  /** SPI (issue 6): the client waits this long for the pacs.002 before getting 202 and a status URL */
  spiSyncWaitMs: ['SPI_SYNC_WAIT_MS', int(0, 60_000), '3000'],
  /** SPI: no pacs.002 this long after sending → TIMED_OUT (a late answer still decides); SPI's own deadline is 10 s */
  spiAnswerTimeoutMs: ['SPI_ANSWER_TIMEOUT_MS', int(100, 600_000), '15000'],
  /** SPI: concurrent inbox pollers */
  spiPollers: ['SPI_POLLERS', int(1, 32), '4'],
  /** SPI account authority: the built-in ledger, or the institution's core banking over HTTP */
  spiAccountAuthority: ['SPI_ACCOUNT_AUTHORITY', oneOf('ledger', 'http'), 'ledger'],
  coreBankingUrl: ['CORE_BANKING_URL', str, ''],
  /** HMAC key for requests to the core banking (never logged) */
  coreBankingSecret: ['CORE_BANKING_SECRET', str, ''],
  coreBankingTimeoutMs: ['CORE_BANKING_TIMEOUT_MS', int(50, 10_000), '800'],
  /** decision applied when the core banking is late or down */
  coreBankingDefault: ['CORE_BANKING_DEFAULT', oneOf('approve', 'reject'), 'reject'],
  /** base URL our BR Code payload locations use (host[:port][/path], no scheme: the BR Code carries none) */
  qrPayloadHost: ['QR_PAYLOAD_HOST', str, 'pix.fluxiq.dev'],
  /** settlement: liquidity alerts are also POSTed here, HMAC-signed (empty = no webhook) */
  liquidityWebhookUrl: ['LIQUIDITY_WEBHOOK_URL', str, ''],
  /** HMAC-SHA256 key for the liquidity webhook, at least 32 characters (never logged) */
  liquidityWebhookSecret: ['LIQUIDITY_WEBHOOK_SECRET', str, ''],
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
