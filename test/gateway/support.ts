// A gateway on an ephemeral port over this file's own schema, Redis prefix and NATS streams, with a
// manual clock, plus small upstreams (real Bun.serve servers) standing in for dict and spi as routing
// targets: the gateway's contract with them is HTTP forwarding.
import { ManualClock } from '../../shared/clock.ts';
import type { Config } from '../../shared/config.ts';
import { createDb, ensureDatabase } from '../../shared/db/client.ts';
import { dropSchema, migrate } from '../../shared/db/migrate.ts';
import { connectNats, deleteStreams, ensureStreams } from '../../shared/nats/index.ts';
import { connectRedis, deleteKeysWithPrefix } from '../../shared/redis/index.ts';
import type { ServiceDeps } from '../../shared/service.ts';
import { createLogger, createMetrics } from '../../shared/telemetry.ts';
import { createSettlementApp } from '../../services/settlement/app.ts';
import { addClient, addUser } from '../../services/settlement/auth/credentials.ts';
import type { Scope } from '../../services/settlement/auth/principal.ts';
import { connectGateway, type Gateway, type GatewayOptions } from '../../services/settlement/gateway.ts';
import type { SettlementBacen } from '../../services/settlement/str/client.ts';
import { testConfig } from '../support/env.ts';

export const TEST_STREAM_BYTES_MAX = 8 * 1024 * 1024;
export const TEST_JWT_KEYS = 'k2026b:test-secret-b-0123456789abcdefghijklmnopqrstuv,k2026a:test-secret-a-0123456789abcdefghijklmnopqrstuv';

export interface GatewayHarness {
  config: Config;
  clock: ManualClock;
  deps: ServiceDeps;
  gateway: Gateway;
  baseUrl: string;
  port: number;
  /** every route the app mounts, as Elysia lists them */
  routes: { method: string; path: string }[];
  /** the app itself, for in-process requests (app.handle) */
  app: ReturnType<typeof createSettlementApp>;
  fetch(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
  addUser(username: string, password: string, scopes: Scope[], extra?: { tier?: string; accounts?: string[] }): Promise<string>;
  addClient(clientId: string, secret: string, scopes: Scope[], tier?: string): Promise<void>;
  /** POST /auth/token with a JSON body */
  token(body: Record<string, string>): Promise<Response>;
  stop(): Promise<void>;
}

export async function startGateway(name: string, opts: Omit<GatewayOptions, 'clock'> & { env?: Record<string, string>; bacen?: SettlementBacen } = {}): Promise<GatewayHarness> {
  const config = testConfig(`gw-${name}`, { JWT_KEYS: TEST_JWT_KEYS, ...opts.env });
  const clock = new ManualClock(Date.now());
  const logger = createLogger('test-gateway', config.logLevel);
  await ensureDatabase(config.databaseUrl);
  const database = createDb(config, logger);
  await migrate(database.sql, { schema: config.dbSchema });
  const nc = await connectNats(config, logger, `test-gw-${name}`);
  const jsm = await nc.jetstreamManager();
  await ensureStreams(jsm, config, { bytesMax: TEST_STREAM_BYTES_MAX });
  const redis = await connectRedis(config, logger, `test-gw-${name}`);
  const deps: ServiceDeps = { service: 'settlement', config, logger, metrics: createMetrics('settlement'), clock, sql: database.sql, db: database.db, nc, js: nc.jetstream(), jsm, redis };
  // upstream OpenAPI documents only when a test asks: the default upstreams are the operator's ports
  const gateway = await connectGateway(deps, { docs: false, ...opts });
  const app = createSettlementApp({ ...deps, gateway, ...(opts.bacen ? { bacen: opts.bacen } : {}) }).listen({ port: 0, hostname: '127.0.0.1' });
  const port = app.server!.port!;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    config, clock, deps, gateway, baseUrl, port, app,
    routes: app.routes.map((r) => ({ method: r.method, path: r.path })),
    fetch(path, init = {}) {
      const { token, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
      return fetch(baseUrl + path, { ...rest, headers });
    },
    addUser: (username, password, scopes, extra = {}) => addUser(database.sql, { username, password, scopes, ...extra }),
    addClient: (clientId, secret, scopes, tier) => addClient(database.sql, { clientId, name: clientId, secret, scopes, ...(tier ? { tier } : {}) }),
    token: (body) => fetch(`${baseUrl}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    async stop() {
      await app.stop(true);
      await gateway.close();
      await deleteStreams(jsm, config);
      await deleteKeysWithPrefix(redis, `${config.redisPrefix}:`);
      await redis.quit();
      await nc.drain();
      await dropSchema(database.sql, config.dbSchema);
      await database.close();
    },
  };
}

/** What an upstream saw of a forwarded request. */
export interface Seen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A real HTTP server standing in for dict or spi: echoes what it received; `mode` makes it fail or hang. */
export function startUpstream(port = 0): { url: string; port: number; seen: Seen[]; mode: 'ok' | 'error' | 'hang'; stop(): void } {
  const seen: Seen[] = [];
  const state = {
    mode: 'ok' as 'ok' | 'error' | 'hang',
    seen,
    url: '',
    port: 0,
    stop: () => server.stop(true),
  };
  const server = Bun.serve({
    port,
    hostname: '127.0.0.1',
    async fetch(req) {
      const url = new URL(req.url);
      const s: Seen = { method: req.method, path: url.pathname + url.search, headers: Object.fromEntries(req.headers), body: await req.text() };
      seen.push(s);
      if (state.mode === 'hang') await Bun.sleep(5_000);
      if (state.mode === 'error') return Response.json({ error: 'boom' }, { status: 500 });
      return Response.json({ echoed: s.path, method: s.method }, { status: req.method === 'POST' ? 201 : 200, headers: { 'x-upstream-only': 'not passed back' } });
    },
  });
  state.port = server.port!;
  state.url = `http://127.0.0.1:${server.port}`;
  return state;
}
