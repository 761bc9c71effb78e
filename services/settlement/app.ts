// Settlement service: the API gateway for the institution's portals, and settlement: windows, netting, STR, reconciliation and liquidity.
// The factory mounts the feature plugins on the shared error and ops plugins, each in its own folder
// (STYLE.md). Public without a token: /health /ready /metrics, /docs, POST /auth/token. Everything else
// authenticates (auth/guard.ts).
import { Elysia } from 'elysia';
import { problemPlugin } from '../../shared/errors.ts';
import { dependencyChecks, type ServiceDeps } from '../../shared/service.ts';
import { opsPlugin } from '../../shared/telemetry.ts';
import { authRoutes } from './auth/routes.ts';
import { docsPlugin } from './docs/plugin.ts';
import { opsRoutes } from './ops/routes.ts';
import type { Gateway } from './gateway.ts';
import { proxyRoutes } from './routing/routes.ts';
import { reconRoutes } from './recon/routes.ts';
import type { SettlementBacen } from './str/client.ts';
import { strRoutes } from './str/routes.ts';
import { windowRoutes } from './windows/routes.ts';
import { wsRoutes } from './ws/routes.ts';

/** `bacen` (mTLS to BACEN) is optional so the gateway can run without the PKI; the STR and reconciliation routes need it. */
export type SettlementDeps = ServiceDeps & { gateway: Gateway; bacen?: SettlementBacen };

export function createSettlementApp(deps: SettlementDeps) {
  const { logger, metrics, gateway, bacen } = deps;
  const app = new Elysia({ name: 'settlement' })
    .use(problemPlugin((error, path) => logger.error({ err: error, path }, 'unexpected error')))
    .use(opsPlugin({ service: 'settlement', metrics, checks: dependencyChecks(deps) }))
    .use(docsPlugin(gateway.docs))
    .use(authRoutes(deps, gateway))
    .use(wsRoutes(deps, gateway))
    .use(proxyRoutes(deps, gateway))
    .use(windowRoutes(deps, gateway))
    .use(opsRoutes(deps, gateway, bacen === undefined ? {} : { bacen }));
  return bacen === undefined ? app : app.use(strRoutes(deps, gateway, bacen)).use(reconRoutes(deps, gateway, bacen));
}
