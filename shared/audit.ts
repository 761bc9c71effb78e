// The audit trail: append a row (inside the transaction of the change it records) and verify the hash
// chain the database builds over the rows (sql/0005_audit_chain.sql). Rows are chained in chain_seq order:
// hash = SHA-256(prev_hash || UTF-8(audit_log_canonical(row))), the first prev_hash is 32 zero bytes.
import type { Sql, TransactionSql } from 'postgres';

/** Rows read per round trip while verifying: large enough to amortise the query, small enough to stream. */
export const AUDIT_VERIFY_BATCH_ROWS = 5_000;
/** A long walk reports progress at most this often. */
export const AUDIT_VERIFY_PROGRESS_MS = 1_000;
export const AUDIT_GENESIS_HASH = new Uint8Array(32);

export interface AuditRecord {
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  traceId?: string | undefined;
  detail: Record<string, unknown>;
}

/**
 * Rows per audit insert: each row binds 7 parameters and Postgres takes at most 65,535 in one statement.
 * A batch writer stays far below it (the SPI store: 500 ops of at most a few rows each); more is a bug.
 */
export const AUDIT_ROWS_PER_INSERT_MAX = 9_000;

/** Inserts one audit row; the database chains it. Write it last in the transaction (the chain head is locked until commit). */
export async function appendAudit(tx: TransactionSql<any> | Sql<any>, rec: AuditRecord, at: Date): Promise<void> {
  await appendAuditRows(tx, [rec], at);
}

/**
 * Inserts the rows in ONE statement, chained in the order given (a batch writer's whole batch: one round
 * trip, one wait for the chain head). Write it last in the transaction: from this statement until commit
 * the chain head is locked and every other audit writer waits. `detail` must be JSON-ready (no bigint:
 * amounts go as strings of centavos).
 */
export async function appendAuditRows(tx: TransactionSql<any> | Sql<any>, recs: readonly AuditRecord[], at: Date): Promise<void> {
  await sendAuditRows(tx, recs, at);
}

/**
 * appendAuditRows for a caller that pipelines: the insert is handed to the connection before this returns,
 * so a statement issued after the call (a pipelined COMMIT) is sent after it. (Through appendAuditRows'
 * `await` the SPI store's pipelined COMMIT went out first and the audit rows landed in a transaction of
 * their own: test/spi/audit.test.ts failed every time.)
 */
export function sendAuditRows(tx: TransactionSql<any> | Sql<any>, recs: readonly AuditRecord[], at: Date): PromiseLike<unknown> {
  if (recs.length === 0) return Promise.resolve();
  if (recs.length > AUDIT_ROWS_PER_INSERT_MAX) return Promise.reject(new Error(`audit insert of ${recs.length} rows exceeds AUDIT_ROWS_PER_INSERT_MAX (${AUDIT_ROWS_PER_INSERT_MAX})`));
  const rows = recs.map((r) => ({
    at, actor: r.actor, action: r.action, entity_type: r.entityType, entity_id: r.entityId, trace_id: r.traceId ?? null, detail: tx.json(r.detail as never),
  }));
  return tx`insert into audit_log ${tx(rows, 'at', 'actor', 'action', 'entity_type', 'entity_id', 'trace_id', 'detail')}`.execute();
}

export type ChainBreak =
  /** the row's content (or its prev_hash) no longer hashes to its stored hash: the row was edited */
  | 'content'
  /** the row's prev_hash is not the hash of the row before it: a row before it was replaced */
  | 'link'
  /** chain_seq skips or repeats: a row was removed or inserted */
  | 'sequence'
  /** the last row is not the recorded chain head: the tail was removed */
  | 'head';

export interface BrokenRow {
  reason: ChainBreak;
  /** the position at which the chain breaks (for 'sequence', the position expected there) */
  chainSeq: bigint;
  /** the row found there, when there is one */
  id: bigint | null;
  at: Date | null;
  detail: string;
}

export interface ChainReport {
  /** rows checked */
  rows: number;
  firstSeq: bigint | null;
  lastSeq: bigint | null;
  /** hash of the last row checked (hex): record it outside the database to detect a whole-chain rewrite */
  lastHash: string | null;
  broken: BrokenRow | null;
}

export interface VerifyOptions {
  /** first UTC instant whose rows are checked (inclusive) */
  from?: Date;
  /** end of the range (exclusive) */
  to?: Date;
  batchRows?: number;
  onProgress?: (checked: number, total: number) => void;
  progressMs?: number;
}

interface ChainRow {
  chain_seq: bigint;
  id: bigint;
  at: Date;
  prev_hash: Uint8Array;
  hash: Uint8Array;
  canonical: string;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

function hashOf(prev: Uint8Array, canonical: string): Uint8Array {
  const h = new Bun.CryptoHasher('sha256');
  h.update(prev);
  h.update(canonical);
  return h.digest() as Uint8Array;
}

/** The chain_seq range covering the rows whose `at` lies in [from, to); null when none does. */
async function seqRange(sql: Sql<any>, opts: VerifyOptions): Promise<{ first: bigint; last: bigint } | null> {
  const from = opts.from ?? null;
  const to = opts.to ?? null;
  const [r] = await sql<{ first: bigint | null; last: bigint | null }[]>`
    select min(chain_seq) as first, max(chain_seq) as last from audit_log
     where (${from}::timestamptz is null or at >= ${from}) and (${to}::timestamptz is null or at < ${to})`;
  if (r?.first == null || r.last == null) return null;
  return { first: BigInt(r.first), last: BigInt(r.last) };
}

/**
 * Walks the chain in chain_seq order, in batches, and stops at the first broken row. With a date range,
 * it checks every row between the first and the last row of the range, anchored on the row just before.
 * Without one, it also checks that the last row is the recorded head (a removed tail).
 */
export async function verifyAuditChain(sql: Sql<any>, opts: VerifyOptions = {}): Promise<ChainReport> {
  const batchRows = opts.batchRows ?? AUDIT_VERIFY_BATCH_ROWS;
  const report: ChainReport = { rows: 0, firstSeq: null, lastSeq: null, lastHash: null, broken: null };
  const range = await seqRange(sql, opts);
  const whole = opts.from === undefined && opts.to === undefined;
  const [tip] = await sql<{ seq: bigint; hash: Uint8Array }[]>`select seq, hash from audit_chain_head`;
  if (tip === undefined) throw new Error('audit_chain_head is empty: migration 0005 was not applied');
  if (range === null) {
    if (whole && BigInt(tip.seq) !== 0n) {
      report.broken = { reason: 'head', chainSeq: BigInt(tip.seq), id: null, at: null, detail: `the head records ${tip.seq} rows but audit_log holds none` };
    }
    return report;
  }
  report.firstSeq = range.first;
  const total = Number(range.last - range.first + 1n);

  let prev: Uint8Array = AUDIT_GENESIS_HASH;
  if (range.first > 1n) {
    const [anchor] = await sql<{ hash: Uint8Array }[]>`select hash from audit_log where chain_seq = ${range.first - 1n}`;
    if (anchor === undefined) {
      report.broken = { reason: 'sequence', chainSeq: range.first - 1n, id: null, at: null, detail: `row ${range.first - 1n} before the range is missing` };
      return report;
    }
    prev = anchor.hash;
  }

  let expected = range.first;
  let lastProgress = performance.now();
  const progressMs = opts.progressMs ?? AUDIT_VERIFY_PROGRESS_MS;
  while (expected <= range.last) {
    const rows = await sql<ChainRow[]>`
      select chain_seq, id, at, prev_hash, hash,
             audit_log_canonical(chain_seq, id, at, actor, action, entity_type, entity_id, trace_id, detail) as canonical
        from audit_log where chain_seq >= ${expected} and chain_seq <= ${range.last}
       order by chain_seq, id limit ${batchRows}`;
    if (rows.length === 0) {
      report.broken = { reason: 'sequence', chainSeq: expected, id: null, at: null, detail: `row ${expected} is missing` };
      return report;
    }
    for (const row of rows) {
      const broken = checkRow(row, expected, prev);
      if (broken !== null) {
        report.broken = broken;
        return report;
      }
      prev = row.hash;
      report.rows++;
      report.lastSeq = expected;
      report.lastHash = hex(row.hash);
      expected++;
    }
    if (opts.onProgress && performance.now() - lastProgress >= progressMs) {
      opts.onProgress(report.rows, total);
      lastProgress = performance.now();
    }
  }
  if (whole && (BigInt(tip.seq) !== range.last || !sameBytes(tip.hash, prev))) {
    report.broken = {
      reason: 'head', chainSeq: BigInt(tip.seq), id: null, at: null,
      detail: `the head records row ${tip.seq} (${hex(tip.hash).slice(0, 16)}…) but the chain ends at row ${range.last}`,
    };
  }
  return report;
}

function checkRow(row: ChainRow, expected: bigint, prev: Uint8Array): BrokenRow | null {
  const seq = BigInt(row.chain_seq);
  const where = { id: BigInt(row.id), at: row.at };
  if (seq !== expected) {
    const detail = seq > expected ? `row ${expected} is missing (next is ${seq})` : `row ${seq} appears twice`;
    return { reason: 'sequence', chainSeq: expected, ...where, detail };
  }
  if (!sameBytes(row.prev_hash, prev)) {
    return { reason: 'link', chainSeq: seq, ...where, detail: `prev_hash ${hex(row.prev_hash).slice(0, 16)}… is not the hash of row ${seq - 1n} (${hex(prev).slice(0, 16)}…)` };
  }
  if (!sameBytes(hashOf(row.prev_hash, row.canonical), row.hash)) {
    return { reason: 'content', chainSeq: seq, ...where, detail: `content does not match its hash ${hex(row.hash).slice(0, 16)}…` };
  }
  return null;
}
