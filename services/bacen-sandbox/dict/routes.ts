// The sandbox's DICT API under /api/v2 (mTLS) and its control routes under /dict (loopback). One context
// per deps is shared by both and by the simulated PSPs' loop, started with the API.
import { Elysia } from 'elysia';
import type { SandboxDeps } from '../deps.ts';
import { claimRoutes } from './claims/routes.ts';
import { dictContext } from './context.ts';
import { entryRoutes } from './entries/routes.ts';
import { infractionRoutes } from './infractions/routes.ts';
import { policyRoutes } from './policies/routes.ts';
import { reconciliationRoutes } from './reconciliation/routes.ts';
import { refundRoutes } from './refunds/routes.ts';
import { dictControlRoutes } from './simulation/control-routes.ts';
import { DICT_SEED_DEFAULT, seedDict } from './simulation/seed.ts';
import { startSimulationLoop } from './simulation/worker.ts';

const loops = new WeakSet<SandboxDeps>();

export function dictRoutes(deps: SandboxDeps) {
  const ctx = dictContext(deps);
  if (!loops.has(deps)) {
    loops.add(deps);
    startSimulationLoop(deps);
  }
  return new Elysia({ name: 'sandbox-dict' })
    .use(entryRoutes(ctx))
    .use(claimRoutes(ctx))
    .use(reconciliationRoutes(ctx))
    .use(infractionRoutes(ctx))
    .use(refundRoutes(ctx))
    .use(policyRoutes(ctx));
}

export function dictControl(deps: SandboxDeps) {
  return dictControlRoutes(dictContext(deps));
}

/** The sandbox binary seeds the simulated PSPs' 100,000 entries when they are absent (load tests). */
export async function seedDictOnStart(deps: SandboxDeps, count = deps.config.sandboxDictSeed ?? DICT_SEED_DEFAULT): Promise<void> {
  if (count === 0) return;
  const started = performance.now();
  const r = await seedDict(deps.sql, count, deps.clock.now());
  deps.logger.info({ ...r, ms: Math.round(performance.now() - started) }, 'DICT entries of the simulated PSPs seeded');
}
