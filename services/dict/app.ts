// Dict service: the PIX key directory: registers and removes our customers' keys in DICT, looks keys up for payments, runs claims, reconciliation (CID/VSync) and MED.
// The factory mounts the feature plugins on the shared error and ops plugins; features arrive with
// their issues, each in its own folder (STYLE.md).
import { Elysia } from 'elysia';
import { problemPlugin } from '../../shared/errors.ts';
import { dependencyChecks, type ServiceDeps } from '../../shared/service.ts';
import { opsPlugin } from '../../shared/telemetry.ts';

export type DictDeps = ServiceDeps;

export function createDictApp(deps: DictDeps) {
  const { logger, metrics } = deps;
  return new Elysia({ name: 'dict' })
    .use(problemPlugin((error, path) => logger.error({ err: error, path }, 'unexpected error')))
    .use(opsPlugin({ service: 'dict', metrics, checks: dependencyChecks(deps) }));
}
