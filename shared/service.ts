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
import { problemOf, problemResponse } from './errors.ts';
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
 * On SIGTERM an instance keeps answering this long before it stops listening: /ready already says 503 (a
 * load balancer stops sending) and every response carries `Connection: close`, so keep-alive clients (the
 * gateway's pool, the load generator) reconnect and the kernel gives the new connection to a sibling
 * sharing the port. Long enough for a few requests per pooled connection at the rates we run; short next to
 * the supervisor's restart.
 */
export const SHUTDOWN_DRAIN_MS = 400;

/**
 * Marks a standby's 503: the request was not handled at all, so a caller (the gateway) may send it again
 * to whichever instance is active, whatever its method.
 */
export const STANDBY_HEADER = 'x-fluxiq-standby';

/** serving: every route; draining: SIGTERM received (see SHUTDOWN_DRAIN_MS); standby: waiting for a lease. */
export type ServeState = 'standby' | 'serving' | 'draining';

export interface Serving {
  state(): ServeState;
  /** standby → serving: opens the port if it is not open yet; called once the instance holds its lease */
  activate(): void;
  /** serving → standby at once (the lease was lost): every request but /health gets the standby 503, which the
   *  gateway sends again elsewhere; the port stays open and nothing is drained */
  fence(): void;
  /** the graceful stop SIGTERM runs (drain, in-flight requests, onStop, dependencies), then the process exits */
  shutdown(reason: string, exitCode?: number): Promise<void>;
}

const pathOf = (url: string): string => {
  const at = url.indexOf('/', url.indexOf('//') + 2);
  const q = url.indexOf('?', at);
  return at < 0 ? '/' : url.slice(at, q < 0 ? undefined : q);
};

/**
 * Listens, and on SIGTERM/SIGINT drains: /ready 503 and `Connection: close` for SHUTDOWN_DRAIN_MS, then
 * stops accepting and lets in-flight requests finish (bounded by SHUTDOWN_GRACE_MS), runs `onStop` (workers,
 * leases) and closes the dependencies.
 *
 * `standby: true` (spi, which serves from one active instance at a time): the instance does not serve until
 * activate(). With a shared port (LISTEN_REUSE_PORT=on, `fluxiq up --instances N`) it does not even listen,
 * since the kernel would hand it a share of the clients; with a port of its own (a pod, a container) it
 * listens so the orchestrator's probes see it: /health 200, /ready 503 (no traffic routed to it; with
 * STANDBY_READY=on, the dependencies' answer, so a rolling update can count it), anything else 503 with
 * Retry-After and STANDBY_HEADER, closing the connection.
 */
export function serveApp(app: AnyElysia, deps: ConnectedDeps, port: number, onStop: () => Promise<void> = async () => {}, opts: { standby?: boolean } = {}): Serving {
  const reusePort = deps.config.listenReusePort === 'on';
  let state: ServeState = opts.standby ? 'standby' : 'serving';
  let listening = false;
  // the hook runs before routing for every request; compiled in at listen(), so it covers every route
  app.onRequest(({ request, set }) => {
    if (state === 'serving') return;
    const path = pathOf(request.url);
    if (state === 'draining') {
      if (request.headers.get('upgrade') === null) set.headers.connection = 'close';
      if (path === '/ready') {
        set.status = 503;
        return { status: 'draining', service: deps.service };
      }
      return;
    }
    if (path === '/health' || (path === '/ready' && deps.config.standbyReady === 'on')) return;
    set.status = 503;
    set.headers['retry-after'] = '1';
    if (path === '/ready') return { status: 'standby', service: deps.service };
    // the connection is closed so the caller's next attempt opens a new one, which a load balancer (a
    // Kubernetes Service) may give to the active instance
    return problemResponse({ ...problemOf('ServiceUnavailable', `this ${deps.service} instance is a standby; retry shortly`), instance: path }, { 'retry-after': '1', connection: 'close', [STANDBY_HEADER]: '1' });
  });
  const listen = () => {
    if (listening) return;
    app.listen(listenOptions(port, deps.config.bindHost, reusePort));
    listening = true;
    deps.logger.info({ port, host: deps.config.bindHost, state }, `${deps.service} listening`);
  };
  if (state === 'serving' || !reusePort) listen();
  else deps.logger.info({ port }, `${deps.service} standby: not listening on the shared port until it holds its lease`);

  let stopping = false;
  const shutdown = async (reason: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    const wasServing = state === 'serving';
    state = 'draining';
    deps.logger.info({ reason, drainMs: wasServing ? SHUTDOWN_DRAIN_MS : 0 }, `${deps.service} stopping`);
    const forced = setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS * 2);
    if (listening && wasServing) await Bun.sleep(SHUTDOWN_DRAIN_MS);
    if (listening) await Promise.race([app.stop(false), Bun.sleep(SHUTDOWN_GRACE_MS)]);
    await onStop();
    await deps.close();
    clearTimeout(forced);
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  return {
    state: () => state,
    activate() {
      if (state !== 'standby') return;
      state = 'serving';
      listen();
      deps.logger.info({ port }, `${deps.service} active: serving`);
    },
    fence() {
      if (state !== 'serving') return;
      state = 'standby';
      deps.logger.warn({ port }, `${deps.service} fenced: answering as a standby`);
    },
    shutdown,
  };
}
