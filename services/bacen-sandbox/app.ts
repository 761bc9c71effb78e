// The sandbox's two faces: the mTLS API participants call (BACEN's DICT/SPI surface; for now echo and
// participants/self) and the plain-HTTP control API tests use to inject faults and read what arrived.
// Mounts feature plugins, nothing else. DICT and SPI features are added here as folders.
import { Elysia } from 'elysia';
import { problemPlugin } from '../../shared/errors.ts';
import { opsPlugin } from '../../shared/telemetry.ts';
import { clockRoutes } from './clock/routes.ts';
import { connectionRoutes } from './connections/routes.ts';
import { dictControl, dictRoutes } from './dict/routes.ts';
import type { SandboxDeps } from './deps.ts';
import { echoRoutes } from './echo/routes.ts';
import { faultRoutes } from './faults/routes.ts';
import { journalRoutes } from './journal/routes.ts';
import { participantRoutes } from './participants/routes.ts';
import { signaturePlugin } from './signature/plugin.ts';
import { spiControlRoutes } from './spi/control.ts';
import { spiRoutes } from './spi/routes.ts';

export function createSandboxApp(deps: SandboxDeps) {
  const onUnexpected = (error: unknown, path: string) => deps.logger.error({ err: error, path }, 'unexpected error in sandbox route');
  return new Elysia({ name: 'bacen-sandbox-api' })
    .use(problemPlugin(onUnexpected))
    .use(signaturePlugin(deps))
    .use(echoRoutes(deps))
    .use(participantRoutes(deps))
    .use(spiRoutes(deps))
    .use(dictRoutes(deps));
}

export function createSandboxControlApp(deps: SandboxDeps, checks: { mtls: () => Promise<unknown> }) {
  const onUnexpected = (error: unknown, path: string) => deps.logger.error({ err: error, path }, 'unexpected error in sandbox control route');
  return new Elysia({ name: 'bacen-sandbox-control' })
    .use(problemPlugin(onUnexpected))
    .use(opsPlugin({ service: 'bacen-sandbox', metrics: deps.metrics, checks }))
    .use(faultRoutes(deps.faults))
    .use(journalRoutes(deps.journal))
    .use(connectionRoutes(deps.connections))
    .use(clockRoutes(deps.clock))
    .use(spiControlRoutes(deps))
    .use(dictControl(deps))
    .get('/participants', () => ({ participants: deps.registry.all().map(({ certificatePem: _pem, ...p }) => p) }));
}

export type SandboxApp = ReturnType<typeof createSandboxApp>;
