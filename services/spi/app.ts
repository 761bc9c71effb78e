// Spi service: instant payments: outbound pacs.008 and their pacs.002, inbound payments, returns, BR Codes, positions and webhooks.
// The factory mounts the feature plugins on the shared error and ops plugins; features arrive with
// their issues, each in its own folder (STYLE.md).
import { Elysia } from 'elysia';
import { problemPlugin } from '../../shared/errors.ts';
import { dependencyChecks, type ServiceDeps } from '../../shared/service.ts';
import { opsPlugin } from '../../shared/telemetry.ts';

export type SpiDeps = ServiceDeps;

export function createSpiApp(deps: SpiDeps) {
  const { logger, metrics } = deps;
  return new Elysia({ name: 'spi' })
    .use(problemPlugin((error, path) => logger.error({ err: error, path }, 'unexpected error')))
    .use(opsPlugin({ service: 'spi', metrics, checks: dependencyChecks(deps) }));
}
