// The operations dashboard: GET /ops (the page; it logs in through POST /auth/token itself and keeps the
// token in sessionStorage), GET /ops/assets/:name (its script and chart library, embedded in the binary),
// and the feeds it polls, scope admin:
//   GET  /ops/api/overview       every panel (overview.ts), each with its own {error} when its source is down
//   POST /ops/api/windows/step   run the settlement window step now: opens the current hour's window and
//                                closes (and nets) every window whose time has come, without waiting for the ticker
// Live events come from the gateway's own WebSocket (/ws; an admin follows every channel). The page's
// other actions call the existing APIs through the gateway: claims and infraction reports (/dict/...),
// webhook redelivery (/spi/...), STR transfers (/settlement/str/transfers).
import { Elysia, t } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import type { ServiceDeps } from '../../../shared/service.ts';
import { dependencyChecks } from '../../../shared/service.ts';
import { admitRequest } from '../auth/guard.ts';
import { upstreamsFromConfig, type Gateway } from '../gateway.ts';
import { DEFAULT_LIQUIDITY_POLICY } from '../liquidity/monitor.ts';
import type { LiquidityPolicy } from '../liquidity/policy.ts';
import type { Upstreams } from '../routing/proxy.ts';
import type { SettlementBacen } from '../str/client.ts';
import { advanceWindows } from '../windows/store.ts';
import {
  consumerLag, createBalanceReader, failedWebhooks, latency, medWaiting, openClaims, panel, partitionCoverage, reconciliation,
  rejections, serviceHealth, traffic, windows, HEALTH_TIMEOUT_MS,
} from './overview.ts';
import indexHtml from './public/index.html' with { type: 'text' };
import opsJs from './public/ops.js' with { type: 'text' };
import chartJs from './public/chart.js' with { type: 'text' };

const ASSETS: Record<string, { body: string; type: string }> = {
  'ops.js': { body: opsJs, type: 'text/javascript; charset=utf-8' },
  'chart.js': { body: chartJs, type: 'text/javascript; charset=utf-8' },
};
/** The page loads only its own assets and talks only to this origin (its WebSocket included). */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export interface OpsOptions {
  bacen?: SettlementBacen;
  /** where dict and spi answer /ready (default: the configured ports, as the gateway forwards) */
  upstreams?: Upstreams;
  policy?: LiquidityPolicy;
}

async function selfHealth(deps: ServiceDeps) {
  const checks: Record<string, string> = {};
  for (const [name, check] of Object.entries(dependencyChecks(deps))) {
    try {
      await Promise.race([check(), Bun.sleep(HEALTH_TIMEOUT_MS).then(() => { throw new Error('timeout'); })]);
      checks[name] = 'ok';
    } catch (e) {
      checks[name] = e instanceof Error ? e.message : String(e);
    }
  }
  const ready = Object.values(checks).every((v) => v === 'ok');
  return { service: 'settlement', url: 'self', ready, status: ready ? 200 : 503, checks, startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString() };
}

export function opsRoutes(deps: ServiceDeps, gw: Gateway, opts: OpsOptions = {}) {
  const { clock, sql, jsm, config } = deps;
  const upstreams = opts.upstreams ?? upstreamsFromConfig(config);
  const balance = opts.bacen === undefined ? undefined : createBalanceReader(opts.bacen, clock, opts.policy ?? DEFAULT_LIQUIDITY_POLICY);

  async function overview() {
    const now = clock.now();
    const [trafficP, latencyP, rejectionsP, liquidityP, windowsP, claimsP, medP, webhooksP, reconP, healthP, natsP, partitionsP] = await Promise.all([
      panel(() => traffic(sql, now)),
      panel(() => latency(sql, now)),
      panel(() => rejections(sql, now)),
      panel(async () => {
        if (balance === undefined) throw new Error('this instance has no BACEN connection (PKI not configured)');
        return balance();
      }),
      panel(() => windows(sql)),
      panel(() => openClaims(sql, now)),
      panel(() => medWaiting(sql)),
      panel(() => failedWebhooks(sql)),
      panel(() => reconciliation(sql)),
      panel(async () => [await selfHealth(deps), ...(await Promise.all([serviceHealth('dict', upstreams.dict), serviceHealth('spi', upstreams.spi)]))]),
      panel(() => consumerLag(jsm, config)),
      panel(() => partitionCoverage(sql, now)),
    ]);
    return {
      at: now.toISOString(), ispb: config.ispb,
      traffic: trafficP, latency: latencyP, rejections: rejectionsP, liquidity: liquidityP, settlement: windowsP,
      claims: claimsP, med: medP, webhooks: webhooksP, reconciliation: reconP, health: healthP, nats: natsP, partitions: partitionsP,
    };
  }

  return new Elysia({ name: 'settlement-ops', prefix: '/ops', detail: { tags: ['ops'] } })
    .get('/', () => new Response(String(indexHtml), { headers: PAGE_HEADERS }), { detail: { summary: 'The operations dashboard (HTML)' } })
    .get('/assets/:name', ({ params }) => {
      const asset = ASSETS[params.name];
      if (asset === undefined) throw HttpProblem.of('NotFound', `no asset ${params.name}`);
      return new Response(asset.body, { headers: { 'content-type': asset.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' } });
    }, { params: t.Object({ name: t.String({ pattern: '^[a-z]+\\.js$' }) }), detail: { hide: true } })
    .guard({}, (api) => api
      .resolve(async ({ headers, set }) => ({ principal: await admitRequest(gw, clock, headers.authorization, set, 'admin') }))
      .get('/api/overview', () => overview(), { detail: { summary: 'Every dashboard panel', security: [{ bearer: ['admin'] }] } })
      .post('/api/windows/step', async ({ principal }) => {
        const actor = `${principal.kind}:${principal.sub}`;
        const moves = await advanceWindows(sql, clock.now(), { actor });
        deps.logger.info({ moves, actor }, 'settlement window step run by an operator');
        return { moves };
      }, { detail: { summary: 'Open the current window and close every window that is due, now', security: [{ bearer: ['admin'] }] } }));
}
