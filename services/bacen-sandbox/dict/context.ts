// One DICT context per sandbox deps: the API routes, the control routes and the simulated PSPs' worker
// share its bucket store and rules (the two apps are built separately from the same deps).
import type { SandboxDeps } from '../deps.ts';
import { createBucketStore, type BucketStore } from './buckets.ts';

export interface DictContext {
  deps: SandboxDeps;
  buckets: BucketStore;
}

const contexts = new WeakMap<SandboxDeps, DictContext>();

export function dictContext(deps: SandboxDeps): DictContext {
  let ctx = contexts.get(deps);
  if (!ctx) {
    ctx = { deps, buckets: createBucketStore(deps.sql, deps.clock) };
    contexts.set(deps, ctx);
  }
  return ctx;
}
