// Key lookup for a payment. Order of work (cheapest refusal first): key shape → end user's anti-scan
// bucket → in-process cache → (miss) our own pix_keys (book transfer: one of our keys never leaves the
// process) → DICT over mTLS, guarded by our copy of the participant bucket. Entries are cached with
// their JSON already serialised, so a hit is two Map reads and no serialisation.
import type { Cache } from '../../../shared/cache.ts';
import { createCache, invalidateFromNats } from '../../../shared/cache.ts';
import { ownerTypeOfTaxId, parseKey, checkTaxId } from '../../../shared/dict/keys.ts';
import type { ParticipantCategory } from '../../../shared/dict/buckets.ts';
import { subject } from '../../../shared/nats/index.ts';
import { fail, ok, type DomainError, type Result } from '../../../shared/result.ts';
import type { DictDeps } from '../deps.ts';
import { findKey, entryOfRow } from '../keys/store.ts';
import { viewOfEntry } from '../keys/view.ts';
import { createAntiScan, type Admission, type AntiScan, type PayerType } from './antiscan.ts';

/** Entries held in memory; ~1 KiB each, so ~200 MB at the bound — the hot working set of keys. */
export const LOOKUP_CACHE_ENTRIES_MAX = 200_000;
/** Staleness bound if an invalidation event is lost (NATS down): DICT changes are also rare. */
export const LOOKUP_CACHE_TTL_MS = 5 * 60 * 1000;

export interface CachedEntry {
  /** `{"entry":{...},"bookTransfer":bool}`, served as is */
  json: string;
  bookTransfer: boolean;
  /** the entry's key type: picks the anti-scan policy of a hit without re-parsing the key */
  keyType: string;
}

/** Payer ids remembered as valid (CPF/CNPJ check digits verified once); at the bound the oldest are
 *  forgotten and simply re-validated. ~50 bytes each. */
export const VALID_PAYERS_MAX = 1_000_000;

export interface LookupRequest {
  key: string;
  payerId: string;
  endToEndId?: string | undefined;
}

export type LookupOutcome = Result<CachedEntry, DomainError & { retryAfterS?: number }>;

export interface LookupService {
  /** the outcome when it needs no I/O (refusal or cache hit), else undefined: call `lookup` */
  lookupNow(req: LookupRequest): LookupOutcome | undefined;
  lookup(req: LookupRequest): Promise<LookupOutcome>;
  /** a payment was sent after a lookup: anti-scan tokens back */
  creditPayment(payerId: string, keyType: string): Result<void>;
  readonly antiScan: AntiScan;
  readonly cache: Cache<string, CachedEntry>;
  /** subscribes the cache to pix.keys.> (resolves once live); returns the unsubscribe */
  startInvalidation(): Promise<() => void>;
}

class LoadFailure extends Error {
  constructor(readonly domain: DomainError) {
    super(domain.detail);
  }
}

function payerTypeOf(payerId: string): Result<PayerType> {
  const type = ownerTypeOfTaxId(payerId);
  if (!type) return fail('InvalidRequest', 'PI-PayerId is the payer\'s CPF (11) or CNPJ (14)', 'PI-PayerId', 'format');
  const checked = checkTaxId(type, payerId, 'PI-PayerId');
  return checked.ok ? ok(type) : checked;
}

export function createLookupService(deps: DictDeps, category: ParticipantCategory): LookupService {
  const { sql, config, clock, dict, metrics } = deps;
  const antiScan = createAntiScan(clock, category);
  // the payer whose miss started a load: DICT counts the query against that end user
  const missContext = new Map<string, LookupRequest>();

  const serialise = (entry: Parameters<typeof viewOfEntry>[0], bookTransfer: boolean, status?: string): CachedEntry => ({
    json: JSON.stringify({ entry: viewOfEntry(entry, status), bookTransfer }),
    bookTransfer,
    keyType: entry.keyType,
  });
  const validPayers = new Map<string, PayerType>();
  const payerType = (payerId: string): Result<PayerType> => {
    const known = validPayers.get(payerId);
    if (known !== undefined) return ok(known);
    const checked = payerTypeOf(payerId);
    if (checked.ok) {
      validPayers.set(payerId, checked.value);
      if (validPayers.size > VALID_PAYERS_MAX) validPayers.delete(validPayers.keys().next().value as string);
    }
    return checked;
  };

  const cache = createCache<string, CachedEntry>({
    name: 'dict-entries',
    maxEntries: LOOKUP_CACHE_ENTRIES_MAX,
    ttlMs: LOOKUP_CACHE_TTL_MS,
    clock,
    registry: metrics.registry,
    async load(key) {
      const ours = await findKey(sql, key);
      if (ours) return serialise(entryOfRow(ours), true, ours.status);
      const ctx = missContext.get(key);
      if (!ctx) throw new LoadFailure({ code: 'Internal', detail: 'lookup miss without a payer context' });
      const admitted = antiScan.admitParticipant();
      if (!admitted.allowed) throw new LoadFailure({ code: 'RateLimited', detail: `our ${admitted.policy.name} bucket is empty; retry in ${admitted.retryAfterS}s` });
      const got = await dict.getEntry(key, { payerId: ctx.payerId, endToEndId: ctx.endToEndId });
      antiScan.chargeParticipant(got.ok ? 200 : got.error.code === 'EntryNotFound' ? 404 : 500);
      if (!got.ok) {
        if (got.error.code === 'EntryNotFound') return undefined;
        throw new LoadFailure(got.error);
      }
      return serialise(got.value, got.value.account.participant === config.ispb);
    },
  });

  /** Everything decidable without I/O: refusals, and a cache hit (the common case, served synchronously). */
  function lookupNow(req: LookupRequest): LookupOutcome | undefined {
    const payer = payerType(req.payerId);
    if (!payer.ok) return payer;
    // hot path: a cached key was validated when it was loaded; its entry names the key type
    const cached = cache.peek(req.key);
    if (cached !== undefined) {
      const taken = antiScan.takeUser(req.payerId, payer.value, cached.keyType, 200);
      if (!taken.allowed) return rateLimited(taken);
      return ok(cached);
    }
    const parsed = parseKey(req.key);
    if (!parsed.ok) return parsed;
    const admitted = antiScan.admitUser(req.payerId, payer.value, parsed.value.keyType);
    return admitted.allowed ? undefined : rateLimited(admitted);
  }
  const rateLimited = (a: Admission): LookupOutcome => ({ ok: false, error: { code: 'RateLimited', detail: `the payer's ${a.policy.name} bucket is empty`, retryAfterS: a.retryAfterS } });

  return {
    antiScan,
    cache,
    lookupNow,
    async lookup(req) {
      const now = lookupNow(req);
      if (now) return now;
      // a miss: the checks above passed; load (our pix_keys, else DICT) and charge the end user's bucket
      const keyType = parseKey(req.key);
      const payer = payerType(req.payerId);
      if (!keyType.ok || !payer.ok) throw new Error('lookupNow passed a request it should have refused');
      if (!missContext.has(req.key)) missContext.set(req.key, req);
      let found: CachedEntry | undefined;
      try {
        found = await cache.get(req.key);
      } catch (e) {
        if (e instanceof LoadFailure) return { ok: false, error: e.domain };
        throw e;
      } finally {
        if (missContext.get(req.key) === req) missContext.delete(req.key);
      }
      antiScan.chargeUser(req.payerId, payer.value, keyType.value.keyType, found ? 200 : 404);
      return found ? ok(found) : fail('EntryNotFound', 'no entry for this key');
    },
    creditPayment(payerId, keyType) {
      const payer = payerTypeOf(payerId);
      if (!payer.ok) return payer;
      antiScan.creditPayment(payerId, payer.value, keyType);
      return ok(undefined);
    },
    startInvalidation() {
      return invalidateFromNats(cache, deps.nc, subject(config, 'pix.keys.>'), (data) => {
        const key = (data as { key?: unknown }).key;
        return typeof key === 'string' ? key : 'all';
      });
    },
  };
}
