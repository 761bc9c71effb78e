// One service instance for the drain and standby tests, run as its own process (SIGTERM ends a process):
// the real shared deps (Postgres, NATS, Redis from the env's config) served by shared/service.ts serveApp on
// SERVICE_TEST_PORT. /who answers the pid; /slow?ms=N answers after N ms (an in-flight request at SIGTERM).
// SERVICE_TEST_STANDBY=on starts it as a standby, activated after SERVICE_TEST_ACTIVATE_MS.
import { Elysia } from 'elysia';
import { loadConfig } from '../../../shared/config.ts';
import { connectServiceDeps, dependencyChecks, serveApp } from '../../../shared/service.ts';
import { opsPlugin } from '../../../shared/telemetry.ts';

const config = loadConfig();
const deps = await connectServiceDeps('drain-test', config);
const app = new Elysia()
  .use(opsPlugin({ service: 'drain-test', metrics: deps.metrics, checks: dependencyChecks(deps) }))
  .get('/who', () => ({ pid: process.pid }))
  .get('/slow', async ({ query }) => {
    await Bun.sleep(Math.min(5_000, Number(query.ms ?? 0)));
    return { pid: process.pid, slow: true };
  });
const standby = process.env.SERVICE_TEST_STANDBY === 'on';
const serving = serveApp(app, deps, Number(process.env.SERVICE_TEST_PORT), async () => {}, { standby });
if (standby) setTimeout(() => serving.activate(), Number(process.env.SERVICE_TEST_ACTIVATE_MS ?? 0));
