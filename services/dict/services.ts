// The DICT service's feature services and workers, built once from the deps and shared by the HTTP app
// and the background loops (outbox relay, claim poller and timers, sync worker).
import type { ParticipantCategory } from '../../shared/dict/buckets.ts';
import { startLease } from '../../shared/lease.ts';
import type { DictDeps } from './deps.ts';
import { createOutbox, OUTBOX_RELAY_INTERVAL_MS, type Outbox } from './events/outbox.ts';
import { createKeyService, type KeyService } from './keys/service.ts';
import { CLAIM_POLL_INTERVAL_MS, createClaimService, type ClaimService } from './claims/service.ts';
import { createSyncService, SYNC_INTERVAL_MS, type SyncService } from './sync/service.ts';
import { createMedService, type MedService } from './med/service.ts';
import { createLookupService, type LookupService } from './lookup/service.ts';

export interface DictServiceOptions {
  /** our DICT anti-scan category (participants.dict_category; main.ts reads it) */
  category?: ParticipantCategory;
  /** false: no claim/sync/MED loops (tests drive their passes by hand); the outbox relay always runs */
  workers?: boolean;
}

export interface DictServices {
  outbox: Outbox;
  keys: KeyService;
  lookup: LookupService;
  claims: ClaimService;
  sync: SyncService;
  med: MedService;
  /** starts the background loops (main.ts; tests drive the loops one pass at a time instead) */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The lease under which one instance runs the claim poller and timers, the sync check and the MED poller. */
export const DICT_WORKERS_LEASE = 'dict.workers';

/** How often the MED poller reads infraction reports and refunds, and releases expired blocks. */
export const MED_POLL_INTERVAL_MS = 10_000;

/** A periodic pass that never overlaps itself (a slow pass delays the next instead of running beside
 *  it); a failed pass is logged and the next one retries. Returns its stop, which awaits the pass. */
function loop(intervalMs: number, pass: () => Promise<void>, deps: DictDeps): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(pass).catch((err) => deps.logger.error({ err }, 'dict worker pass failed'));
  }, intervalMs);
  return async () => {
    clearInterval(timer);
    await running;
  };
}

export function createDictServices(deps: DictDeps, opts: DictServiceOptions = {}): DictServices {
  const outbox = createOutbox(deps);
  const keys = createKeyService(deps, outbox);
  const lookup = createLookupService(deps, opts.category ?? 'F');
  const claims = createClaimService(deps, keys, outbox);
  const sync = createSyncService(deps, keys);
  const med = createMedService(deps, outbox);
  const stops: (() => void | Promise<void>)[] = [];
  return {
    outbox,
    keys,
    lookup,
    claims,
    sync,
    med,
    async start() {
      stops.push(await lookup.startInvalidation());
      stops.push(loop(OUTBOX_RELAY_INTERVAL_MS, async () => void (await outbox.relayOnce()), deps));
      if (opts.workers !== false) {
        // run once across instances (shared/lease.ts): every one of these asks BACEN's DICT, whose rate
        // limits are per participant, and the claim timers must fire once
        const lease = startLease(deps.config, deps.logger, DICT_WORKERS_LEASE, () => {
          const workers = [
            loop(CLAIM_POLL_INTERVAL_MS, async () => {
              await claims.pollOnce();
              await claims.runDueTimers();
            }, deps),
            loop(SYNC_INTERVAL_MS, async () => void (await sync.verifyAll()), deps),
            loop(MED_POLL_INTERVAL_MS, async () => {
              await med.pollOnce();
              await med.releaseExpiredBlocks();
            }, deps),
          ];
          return async () => {
            for (const w of workers.reverse()) await w();
          };
        }, { registry: deps.metrics.registry });
        stops.push(() => lease.stop());
      }
    },
    async stop() {
      for (const s of stops.splice(0).reverse()) await s();
    },
  };
}
