// Dict service: the PIX key directory: registers and removes our customers' keys in DICT, looks keys up
// for payments, runs claims, reconciliation (CID/VSync) and MED. The factory mounts the feature plugins
// on the shared error and ops plugins (STYLE.md); the feature services and workers come from
// createDictServices, so main.ts, the tests and the load test wire the same objects.
import { openapi } from '@elysiajs/openapi';
import { Elysia } from 'elysia';
import { problemPlugin } from '../../shared/errors.ts';
import { dependencyChecks } from '../../shared/service.ts';
import { opsPlugin } from '../../shared/telemetry.ts';
import type { DictDeps } from './deps.ts';
import { keyRoutes } from './keys/routes.ts';
import { claimRoutes } from './claims/routes.ts';
import { syncRoutes } from './sync/routes.ts';
import { medRoutes } from './med/routes.ts';
import { participantRoutes } from './lookup/participants.ts';
import { createLookupHandler, lookupCounter, lookupRoutes, lookupServeRoutes } from './lookup/routes.ts';
import { createDictServices, type DictServices } from './services.ts';

export type { DictDeps } from './deps.ts';

export function createDictApp(deps: DictDeps, services: DictServices = createDictServices(deps)) {
  const { logger, metrics } = deps;
  const onUnexpected = (error: unknown, path: string) => logger.error({ err: error, path }, 'unexpected error');
  // The payment-path lookup runs as a Bun native route (serve.routes): Bun.serve calls its plain handler
  // with no Elysia lifecycle, and it counts itself in http_requests_total. The same handler is mounted as
  // an Elysia route before the ops plugin (so its metrics hook does not count it twice) for app.handle
  // and the OpenAPI document. See lookup/routes.ts.
  const lookup = createLookupHandler(services.lookup, lookupCounter(metrics));
  return new Elysia({ name: 'dict', serve: { routes: lookupServeRoutes(lookup, onUnexpected) } })
    .use(problemPlugin(onUnexpected))
    .use(lookupRoutes(services.lookup, lookup))
    .use(opsPlugin({ service: 'dict', metrics, checks: dependencyChecks(deps) }))
    .use(openapi({
      path: '/openapi',
      documentation: {
        info: { title: 'FluxiQ DICT service', version: '1.0.0', description: 'Keys, lookups, claims, reconciliation and MED for our participant. Errors are RFC 9457 problem+json whose type ends in the DICT error name.' },
      },
      exclude: { paths: ['/health', '/ready', '/metrics'] },
    }))
    .use(keyRoutes(deps, services.keys))
    .use(claimRoutes(deps, services.claims))
    .use(syncRoutes(deps, services.sync))
    .use(medRoutes(deps, services.med))
    .use(participantRoutes(deps));
}

export type DictApp = ReturnType<typeof createDictApp>;
