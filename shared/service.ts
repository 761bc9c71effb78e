// What every service process shares: its dependencies connected once (Postgres, NATS/JetStream, Redis,
// logger, metrics, clock), the readiness checks over them, and a clean shutdown. Each service's
// main.ts calls connectServiceDeps, passes the deps to its createXApp factory and serves it.
import type { Elysia } from 'elysia';
import type { Redis } from 'ioredis';
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import type { Sql } from 'postgres';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { createDb, pingDb, type Db } from './db/client.ts';
import { connectNats, ensureStreams } from './nats/index.ts';
import { connectRedis } from './redis/index.ts';
import { createLogger, createMetrics, type Logger, type Metrics, type ReadyCheck } from './telemetry.ts';

/** In-flight requests get this long to finish on SIGTERM before the process exits anyway. */
export const SHUTDOWN_GRACE_MS = 5_000;
/**
 * Largest request body any service reads: twice XML_BYTES_MAX (1 MiB, the largest document we accept), so
 * a body between the two still reaches the route's own bound and gets a problem+json, while anything
 * bigger is refused by Bun (413) before it is buffered or parsed. Bun's default would be 128 MiB.
 */
export const HTTP_BODY_BYTES_MAX = 2 * 1024 * 1024;

/**
 * What every service passes to listen(): the body bound above, on the configured host; with `reusePort`
 * (LISTEN_REUSE_PORT=on) several instances bind the same port and the kernel spreads connections over them.
 */
export function listenOptions(port: number, hostname: string, reusePort = false) {
  return { port, hostname, maxRequestBodySize: HTTP_BODY_BYTES_MAX, reusePort };
}

export interface ServiceDeps {
  service: string;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  sql: Sql<{ bigint: bigint }>;
  db: Db;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  redis: Redis;
}

export interface ConnectedDeps extends ServiceDeps {
  close(): Promise<void>;
}

export async function connectServiceDeps(service: string, config: Config, clock: Clock = systemClock): Promise<ConnectedDeps> {
  const logger = createLogger(service, config.logLevel);
  const metrics = createMetrics(service);
  const database = createDb(config, logger);
  const closers: (() => Promise<unknown>)[] = [() => database.close()];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch((e) => logger.warn({ err: e }, 'error while closing a dependency'));
  };
  try {
    await pingDb(database.sql, config.databaseUrl);
    const nc = await connectNats(config, logger, service);
    closers.push(() => nc.drain());
    const jsm = await nc.jetstreamManager();
    await ensureStreams(jsm, config, { replicas: config.natsStreamReplicas });
    const redis = await connectRedis(config, logger, service);
    closers.push(async () => redis.disconnect());
    return { service, config, logger, metrics, clock, sql: database.sql, db: database.db, nc, js: nc.jetstream(), jsm, redis, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** /ready answers 200 only while Postgres, NATS and Redis all answer. */
export function dependencyChecks(deps: Pick<ServiceDeps, 'sql' | 'nc' | 'redis'>): Record<string, ReadyCheck> {
  return {
    postgres: () => deps.sql`select 1`,
    nats: async () => {
      if (deps.nc.isClosed()) throw new Error('connection closed');
      await deps.nc.flush();
    },
    redis: async () => {
      if ((await deps.redis.ping()) !== 'PONG') throw new Error('no PONG');
    },
  };
}

type AnyElysia = Elysia<any, any, any, any, any, any, any>;

/**
 * Listens, and on SIGTERM/SIGINT stops accepting, lets in-flight requests finish (bounded by
 * SHUTDOWN_GRACE_MS), runs `onStop` (workers) and closes the dependencies.
 */
export function serveApp(app: AnyElysia, deps: ConnectedDeps, port: number, onStop: () => Promise<void> = async () => {}): void {
  app.listen(listenOptions(port, deps.config.bindHost, deps.config.listenReusePort === 'on'));
  deps.logger.info({ port, host: deps.config.bindHost }, `${deps.service} listening`);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info({ signal }, `${deps.service} stopping`);
    const forced = setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS * 2);
    await Promise.race([app.stop(false), Bun.sleep(SHUTDOWN_GRACE_MS)]);
    await onStop();
    await deps.close();
    clearTimeout(forced);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
