// Key lookup for a payment. Order of work (cheapest refusal first): key shape → end user's anti-scan
// bucket → in-process cache → (miss) our own pix_keys (book transfer: one of our keys never leaves the
// process) → DICT over mTLS, guarded by our copy of the participant bucket. Entries are cached with
// their JSON already serialised and encoded, so a hit is two Map reads (the payer's state, the entry),
// in-place bucket arithmetic and no serialisation or allocation.
import type { Counter } from 'prom-client';
import type { Cache } from '../../../shared/cache.ts';
import { createCache, invalidateFromNats } from '../../../shared/cache.ts';
import { ownerTypeOfTaxId, parseKey, checkTaxId } from '../../../shared/dict/keys.ts';
import type { BucketPolicy, ParticipantCategory } from '../../../shared/dict/buckets.ts';
import { subject } from '../../../shared/nats/index.ts';
import { fail, ok, type DomainError, type Result } from '../../../shared/result.ts';
import type { DictDeps } from '../deps.ts';
import { findKey, entryOfRow } from '../keys/store.ts';
import { viewOfEntry } from '../keys/view.ts';
import { createAntiScan, type AntiScan, type PayerState, type PayerType } from './antiscan.ts';

/** Entries held in memory; ~1 KiB each, so ~200 MB at the bound — the hot working set of keys. */
export const LOOKUP_CACHE_ENTRIES_MAX = 200_000;
/** Staleness bound if an invalidation event is lost (NATS down): DICT changes are also rare. */
export const LOOKUP_CACHE_TTL_MS = 5 * 60 * 1000;
/** How long a hit is served from the front Map before the shared cache is read again (its TTL and LRU
 *  order are honoured to within this; invalidations drop the front's copy at once). */
export const LOOKUP_FRONT_RECHECK_MS = 1_000;

interface FrontEntry {
  entry: CachedEntry;
  recheckAtMs: number;
}

export interface CachedEntry {
  /** `{"entry":{...},"bookTransfer":bool}` as an immutable Blob of its UTF-8 bytes, served as is (no
   *  per-response encoding; measured here ~10-20 % faster to answer with than a string or Uint8Array body) */
  body: Blob;
  bookTransfer: boolean;
  /** the entry's key type: picks the anti-scan policy of a hit without re-parsing the key */
  keyType: string;
}

export interface LookupRequest {
  key: string;
  payerId: string;
  endToEndId?: string | undefined;
}

export type LookupFailure = { ok: false; error: DomainError & { retryAfterS?: number } };
export type LookupOutcome = Result<CachedEntry, DomainError & { retryAfterS?: number }>;

export interface LookupService {
  /**
   * Everything decidable without I/O, allocating nothing on a hit: the cached entry (the payer's bucket
   * charged), a refusal, or undefined when the key must be loaded (call `lookup`).
   */
  lookupNow(key: string, payerId: string): CachedEntry | LookupFailure | undefined;
  lookup(req: LookupRequest): Promise<LookupOutcome>;
  /** a payment was sent after a lookup: anti-scan tokens back */
  creditPayment(payerId: string, keyType: string): Result<void>;
  /** whether creditPayment would take this payer id (a batch of credits is checked whole first) */
  checkCredit(payerId: string): Result<void>;
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
    body: new Blob([JSON.stringify({ entry: viewOfEntry(entry, status), bookTransfer })]),
    bookTransfer,
    keyType: entry.keyType,
  });
  /** the payer's anti-scan state; a payer id is validated (check digits) once, when first seen */
  const payerState = (payerId: string): PayerState | LookupFailure => {
    const known = antiScan.payer(payerId);
    if (known !== undefined) return known;
    const checked = payerTypeOf(payerId);
    return checked.ok ? antiScan.addPayer(payerId, checked.value) : checked;
  };

  const entries = createCache<string, CachedEntry>({
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

  // The front: a hit re-reads the shared cache (its TTL, LRU order and hit counter) at most once per
  // LOOKUP_FRONT_RECHECK_MS per key; in between it is one Map read. Every set/delete/clear (NATS
  // invalidation included) goes through `cache` below, which drops the front's copy first.
  const front = new Map<string, FrontEntry>();
  const hits = metrics.registry.getSingleMetric('cache_hits_total') as Counter<'cache'> | undefined;
  let frontHits = 0;
  const cached = (key: string, now: number): CachedEntry | undefined => {
    const f = front.get(key);
    if (f !== undefined && f.recheckAtMs > now) {
      frontHits++;
      return f.entry;
    }
    if (frontHits > 0 && hits !== undefined) {
      hits.inc({ cache: entries.name }, frontHits);
      frontHits = 0;
    }
    const entry = entries.peek(key);
    if (entry === undefined) {
      if (f !== undefined) front.delete(key);
      return undefined;
    }
    if (f !== undefined) {
      f.entry = entry;
      f.recheckAtMs = now + LOOKUP_FRONT_RECHECK_MS;
    } else {
      front.set(key, { entry, recheckAtMs: now + LOOKUP_FRONT_RECHECK_MS });
      if (front.size > LOOKUP_CACHE_ENTRIES_MAX) front.delete(front.keys().next().value as string);
    }
    return entry;
  };
  const cache: Cache<string, CachedEntry> = {
    name: entries.name,
    get size() {
      return entries.size;
    },
    get: (key) => entries.get(key),
    peek: (key) => entries.peek(key),
    set(key, value) {
      front.delete(key);
      entries.set(key, value);
    },
    delete(key) {
      front.delete(key);
      entries.delete(key);
    },
    clear() {
      front.clear();
      entries.clear();
    },
  };

  function lookupNow(key: string, payerId: string): CachedEntry | LookupFailure | undefined {
    const payer = payerState(payerId);
    if ('ok' in payer) return payer;
    // hot path: a cached key was validated when it was loaded; its entry names the key type
    const now = clock.nowMs();
    const hit = cached(key, now);
    if (hit !== undefined) {
      const retryAfterS = antiScan.take(payer, hit.keyType, 200, now);
      return retryAfterS === 0 ? hit : rateLimited(antiScan.policyOf(payer, hit.keyType), retryAfterS);
    }
    const parsed = parseKey(key);
    if (!parsed.ok) return parsed;
    const admitted = antiScan.admitUser(payerId, payer.type, parsed.value.keyType);
    return admitted.allowed ? undefined : rateLimited(admitted.policy, admitted.retryAfterS);
  }
  const rateLimited = (policy: BucketPolicy, retryAfterS: number): LookupFailure => ({ ok: false, error: { code: 'RateLimited', detail: `the payer's ${policy.name} bucket is empty`, retryAfterS } });

  return {
    antiScan,
    cache,
    lookupNow,
    async lookup(req) {
      const now = lookupNow(req.key, req.payerId);
      if (now !== undefined) return 'ok' in now ? now : ok(now);
      // a miss: the checks above passed; load (our pix_keys, else DICT) and charge the end user's bucket
      const keyType = parseKey(req.key);
      const payer = payerState(req.payerId);
      if (!keyType.ok || 'ok' in payer) throw new Error('lookupNow passed a request it should have refused');
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
      antiScan.chargeUser(req.payerId, payer.type, keyType.value.keyType, found ? 200 : 404);
      return found ? ok(found) : fail('EntryNotFound', 'no entry for this key');
    },
    checkCredit(payerId) {
      const payer = payerTypeOf(payerId);
      return payer.ok ? ok(undefined) : payer;
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
