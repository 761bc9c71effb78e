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
import { lookupRoutes } from './lookup/routes.ts';
import { createDictServices, type DictServices } from './services.ts';

export type { DictDeps } from './deps.ts';

export function createDictApp(deps: DictDeps, services: DictServices = createDictServices(deps)) {
  const { logger, metrics } = deps;
  return new Elysia({ name: 'dict' })
    .use(problemPlugin((error, path) => logger.error({ err: error, path }, 'unexpected error')))
    // the payment-path lookup is mounted before the ops plugin so its per-request HTTP metrics hook does
    // not run on it (lookups are counted by the cache's hit/miss counters instead): see lookup/routes.ts
    .use(lookupRoutes(services.lookup))
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
