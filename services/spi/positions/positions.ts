// Positions of the built-in ledger's accounts, in memory for the hot path (a Map lookup per payment):
// balance (the ledger's record) and reserved (amounts held for payments awaiting their pacs.002).
// available = balance − reserved + overdraft, and a reservation is refused when it would go below zero:
// "never negative unless a configured overdraft". The Postgres ledger is the record: balances change in
// memory only after their posting committed (applyPosting), reservations are rebuilt at start from the
// payments still open (recovery). Redis holds a cached copy for readers outside this process.
import type { Redis } from 'ioredis';
import type { Sql } from 'postgres';
import type { Logger } from '../../../shared/telemetry.ts';
import type { Posting } from './posting.ts';

/** Balance cache writes are coalesced and flushed at most this often (one Redis pipeline per flush). */
export const BALANCE_CACHE_FLUSH_MS = 50;
/** Accounts flushed per pipeline; the rest wait for the next tick. */
export const BALANCE_CACHE_FLUSH_ACCOUNTS_MAX = 5_000;
/** Cached balances expire if this process stops refreshing them (readers then ask the API). */
export const BALANCE_CACHE_TTL_S = 3_600;

export type AccountStatus = 'ACTIVE' | 'BLOCKED' | 'CLOSED';

export interface Position {
  id: bigint;
  kind: 'CUSTOMER' | 'SYSTEM';
  code: string | null;
  branch: string | null;
  number: string | null;
  accountType: string | null;
  holderTaxId: string | null;
  holderName: string | null;
  status: AccountStatus;
  overdraftCentavos: bigint;
  balanceCentavos: bigint;
  reservedCentavos: bigint;
}

/** Why a debit or credit is refused, as the pacs.002 reason code SPI uses (PIX.md § SPI messages). */
export type Refusal = { reason: RefusalReason; detail: string };
/** AC03 unknown account, AC06 blocked account, AM04 insufficient funds, AB09 our side could not decide (core banking down) */
export type RefusalReason = 'AC03' | 'AC06' | 'AM04' | 'AB09';

export const accountKey = (branch: string, number: string) => `${branch}/${number}`;
export const availableOf = (p: Position) => p.balanceCentavos - p.reservedCentavos + p.overdraftCentavos;

export interface Positions {
  load(): Promise<void>;
  get(branch: string, number: string): Position | undefined;
  byId(id: bigint): Position | undefined;
  system(code: 'SPI_CLEARING' | 'FUNDING'): Position;
  /** debtor checks and hold; synchronous, so two payments can never both take the last centavo */
  reserve(ref: string, branch: string, number: string, amountCentavos: bigint, opts?: { force?: boolean }): { ok: true; value: Position } | { ok: false; error: Refusal };
  release(ref: string): void;
  /** the hold behind `ref`, if any */
  hold(ref: string): { accountId: bigint; amountCentavos: bigint } | undefined;
  /** a committed posting changes balances; a hold with the posting's ref is consumed */
  applyPosting(posting: Posting, holdRef?: string): void;
  /** an account created or changed in the database (accounts API) */
  upsert(p: Omit<Position, 'reservedCentavos'>): Position;
  close(): Promise<void>;
}

interface Row {
  id: bigint; kind: 'CUSTOMER' | 'SYSTEM'; code: string | null; branch: string | null; number: string | null; account_type: string | null;
  holder_tax_id: string | null; holder_name: string | null; status: AccountStatus; overdraft_centavos: bigint; balance_centavos: bigint;
}

export function positionOfRow(r: Row): Omit<Position, 'reservedCentavos'> {
  return {
    id: r.id, kind: r.kind, code: r.code, branch: r.branch, number: r.number?.trim() ?? null, accountType: r.account_type,
    holderTaxId: r.holder_tax_id, holderName: r.holder_name, status: r.status, overdraftCentavos: r.overdraft_centavos, balanceCentavos: r.balance_centavos,
  };
}

export function createPositions(deps: { sql: Sql<{ bigint: bigint }>; redis: Redis; redisPrefix: string; logger: Logger }): Positions {
  const byKey = new Map<string, Position>();
  const byId = new Map<bigint, Position>();
  const holds = new Map<string, { accountId: bigint; amountCentavos: bigint }>();
  const dirty = new Set<bigint>();
  const log = deps.logger.child({ component: 'positions' });

  const cacheKey = (p: Position) => `${deps.redisPrefix}:spi:balance:${p.branch}:${p.number}`;
  const flush = async () => {
    if (dirty.size === 0) return;
    const ids = [...dirty].slice(0, BALANCE_CACHE_FLUSH_ACCOUNTS_MAX);
    const pipe = deps.redis.pipeline();
    for (const id of ids) {
      dirty.delete(id);
      const p = byId.get(id);
      if (!p || p.kind !== 'CUSTOMER') continue;
      pipe.hset(cacheKey(p), 'balance', p.balanceCentavos.toString(), 'reserved', p.reservedCentavos.toString(), 'available', availableOf(p).toString(), 'status', p.status);
      pipe.expire(cacheKey(p), BALANCE_CACHE_TTL_S);
    }
    await pipe.exec().catch((err) => log.warn({ err }, 'balance cache write failed; the ledger stays the record'));
  };
  const timer = setInterval(() => void flush(), BALANCE_CACHE_FLUSH_MS);
  timer.unref?.();

  const put = (p: Omit<Position, 'reservedCentavos'>): Position => {
    const existing = byId.get(p.id);
    const pos: Position = { ...p, reservedCentavos: existing?.reservedCentavos ?? 0n };
    if (existing) Object.assign(existing, pos);
    const target = existing ?? pos;
    byId.set(p.id, target);
    if (p.branch && p.number) byKey.set(accountKey(p.branch, p.number), target);
    if (p.code) byKey.set(`SYSTEM/${p.code}`, target);
    dirty.add(p.id);
    return target;
  };

  return {
    async load() {
      const rows = await deps.sql<Row[]>`select id, kind, code, branch, number, account_type, holder_tax_id, holder_name, status, overdraft_centavos, balance_centavos from ledger_accounts`;
      for (const r of rows) put(positionOfRow(r));
    },
    get: (branch, number) => byKey.get(accountKey(branch, number)),
    byId: (id) => byId.get(id),
    system(code) {
      const p = byKey.get(`SYSTEM/${code}`);
      if (!p) throw new Error(`system account ${code} is missing: was sql/0003_spi.sql applied?`);
      return p;
    },
    reserve(ref, branch, number, amountCentavos, opts = {}) {
      if (amountCentavos <= 0n) throw new Error(`reserve ${ref}: amount must be > 0`);
      const existing = holds.get(ref);
      const p = byKey.get(accountKey(branch, number));
      if (existing) return p ? { ok: true, value: p } : { ok: false, error: { reason: 'AC03', detail: 'unknown account' } };
      if (!p || p.kind !== 'CUSTOMER' || p.status === 'CLOSED') return { ok: false, error: { reason: 'AC03', detail: `account ${branch}/${number} does not exist` } };
      if (!opts.force) {
        if (p.status === 'BLOCKED') return { ok: false, error: { reason: 'AC06', detail: `account ${branch}/${number} is blocked` } };
        if (availableOf(p) < amountCentavos) return { ok: false, error: { reason: 'AM04', detail: 'insufficient funds' } };
      }
      p.reservedCentavos += amountCentavos;
      holds.set(ref, { accountId: p.id, amountCentavos });
      dirty.add(p.id);
      return { ok: true, value: p };
    },
    release(ref) {
      const h = holds.get(ref);
      if (!h) return;
      holds.delete(ref);
      const p = byId.get(h.accountId)!;
      p.reservedCentavos -= h.amountCentavos;
      if (p.reservedCentavos < 0n) throw new Error(`account ${p.id}: reserved went negative`);
      dirty.add(p.id);
    },
    hold: (ref) => holds.get(ref),
    applyPosting(posting, holdRef) {
      if (holdRef) this.release(holdRef);
      for (const e of posting.entries) {
        const p = byId.get(e.accountId);
        if (!p) throw new Error(`posting ${posting.ref}: account ${e.accountId} is not loaded`);
        p.balanceCentavos += e.amountCentavos;
        dirty.add(p.id);
      }
    },
    upsert: put,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
