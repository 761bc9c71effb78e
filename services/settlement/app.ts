// Settlement service: the API gateway for the institution's portals, and settlement: windows, netting, STR, reconciliation and liquidity.
// The factory mounts the feature plugins on the shared error and ops plugins; features arrive with
// their issues, each in its own folder (STYLE.md).
import { Elysia } from 'elysia';
import { problemPlugin } from '../../shared/errors.ts';
import { dependencyChecks, type ServiceDeps } from '../../shared/service.ts';
import { opsPlugin } from '../../shared/telemetry.ts';

export type SettlementDeps = ServiceDeps;

export function createSettlementApp(deps: SettlementDeps) {
  const { logger, metrics } = deps;
  return new Elysia({ name: 'settlement' })
    .use(problemPlugin((error, path) => logger.error({ err: error, path }, 'unexpected error')))
    .use(opsPlugin({ service: 'settlement', metrics, checks: dependencyChecks(deps) }));
}
