// The gateway's parts, built once per process from the service dependencies: keyring, sessions
// (refresh tokens + revoked families), rate-limit tiers and limiter, upstream proxy, login throttle.
// main.ts and the tests build them the same way (connectGateway) and pass them to createSettlementApp.
import { Counter } from 'prom-client';
import type { Clock } from '../../shared/clock.ts';
import { subject } from '../../shared/nats/index.ts';
import { createRateLimiter, redisKey, type RateLimiter } from '../../shared/redis/index.ts';
import type { ServiceDeps } from '../../shared/service.ts';
import { keyRingFromConfig, type KeyRing } from './auth/keys.ts';
import { DEFAULT_LOGIN_LIMITS, type LoginLimits } from './auth/routes.ts';
import { createSessionStore, type SessionStore } from './auth/sessions.ts';
import { createUpstreamDocs, type UpstreamDocs } from './docs/upstream.ts';
import { createLeaseLimiter, type LeaseLimiter } from './ratelimit/lease.ts';
import { createTierTable, TIERS_SUBJECT, type TierTable } from './ratelimit/tiers.ts';
import { createProxy, type Proxy, type Upstreams } from './routing/proxy.ts';
import { ROUTES, type RouteRule } from './routing/table.ts';

export const REVOKED_SUBJECT = 'gateway.auth.revoked';

export interface Gateway {
  keys: KeyRing;
  sessions: SessionStore;
  tiers: TierTable;
  limiter: LeaseLimiter;
  /** brute-force throttle for /auth/token (shared sliding-window limiter, one call per attempt) */
  loginLimiter: RateLimiter;
  loginLimits: LoginLimits;
  proxy: Proxy;
  routes: readonly RouteRule[];
  /** the dict and spi OpenAPI documents for /docs (absent when turned off: /docs lists the route table) */
  docs?: UpstreamDocs;
  close(): Promise<void>;
}

export interface GatewayOptions {
  keys?: KeyRing;
  upstreams?: Upstreams;
  routes?: readonly RouteRule[];
  clock?: Clock;
  loginLimits?: LoginLimits;
  /** fetch the upstreams' OpenAPI documents (on by default; false lists the route table only) */
  docs?: false | { refreshMs?: number; retryMs?: number; timeoutMs?: number };
}

/** dict and spi on this host at their configured ports (a 0.0.0.0 bind is reached through loopback). */
export function upstreamsFromConfig(config: ServiceDeps['config']): Upstreams {
  const host = config.bindHost === '0.0.0.0' || config.bindHost === '::' ? '127.0.0.1' : config.bindHost;
  return { dict: config.dictUrl || `http://${host}:${config.dictPort}`, spi: config.spiUrl || `http://${host}:${config.spiPort}` };
}

export async function connectGateway(deps: ServiceDeps, opts: GatewayOptions = {}): Promise<Gateway> {
  const { config, redis, nc, sql, logger } = deps;
  const clock = opts.clock ?? deps.clock;
  const keys = opts.keys ?? keyRingFromConfig(config);
  const sessions = await createSessionStore({ redis, nc, prefix: redisKey(config, 'gw', 'session'), revokedSubject: subject(config, REVOKED_SUBJECT), clock, logger });
  const tiers = await createTierTable({ sql, nc, subject: subject(config, TIERS_SUBJECT), logger });
  const upstreamOutcomes = new Counter({
    name: 'gateway_upstream_requests_total', help: 'Forwarded requests by upstream and outcome (status, timeout, unreachable, breaker-open)',
    labelNames: ['upstream', 'outcome'], registers: [deps.metrics.registry],
  });
  logger.info({ kids: keys.kids, signing: keys.currentKid }, 'gateway keyring loaded');
  const upstreams = opts.upstreams ?? upstreamsFromConfig(config);
  const routes = opts.routes ?? ROUTES;
  const docs = opts.docs === false ? undefined : createUpstreamDocs({ upstreams, routes, logger, ...opts.docs });
  await docs?.refresh(); // fetched at start; an upstream not up yet is asked again every few seconds
  const stopDocs = docs?.start();
  return {
    keys,
    sessions,
    tiers,
    limiter: createLeaseLimiter({ redis, prefix: redisKey(config, 'gw', 'rate'), logger }),
    loginLimiter: createRateLimiter(redis, { prefix: redisKey(config, 'gw', 'login') }),
    loginLimits: opts.loginLimits ?? DEFAULT_LOGIN_LIMITS,
    proxy: createProxy({ upstreams, clock, onOutcome: (upstream, outcome) => upstreamOutcomes.inc({ upstream, outcome }) }),
    routes,
    ...(docs === undefined ? {} : { docs }),
    async close() {
      stopDocs?.();
      tiers.close();
      await sessions.close();
    },
  };
}
