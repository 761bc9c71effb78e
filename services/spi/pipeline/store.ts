// The SPI service's one durable write path: payments, inbound payments, status changes, ledger postings,
// returns and the signed messages, all through one batch writer, each batch in ONE database transaction.
// A status change and the ledger posting it causes (settled → debit the payer) commit together or not
// at all, so the ledger can never disagree with the payment table. The batch's audit rows (audit.ts: every
// message stored, every money change applied) are written in the same transaction, last, in one insert.
import type { Sql, TransactionSql } from 'postgres';
import { sendAuditRows, type AuditRecord } from '../../../shared/audit.ts';
import type { Clock } from '../../../shared/clock.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import { assertBalanced, type Posting } from '../positions/posting.ts';
import { AUDITED_PAYMENT_STATES, AUDITED_RETURN_STATES, messageAudit, paymentAudit, postingAudit, returnAudit, type PaymentChange, type ReturnChange } from './audit.ts';
import { createBatchWriter, type BatchWriter } from './batch-writer.ts';

export interface TransactionRow {
  end_to_end_id: string;
  direction: 'OUTBOUND' | 'INBOUND';
  status: string;
  amount_centavos: bigint;
  debtor_ispb: string;
  debtor_branch: string | null;
  debtor_account: string;
  debtor_account_type: string | null;
  debtor_tax_id: string;
  debtor_name: string;
  creditor_ispb: string;
  creditor_branch: string | null;
  creditor_account: string;
  creditor_account_type: string | null;
  creditor_tax_id: string;
  creditor_name: string;
  pix_key: string | null;
  idempotency_key: string | null;
  txid: string | null;
  initiation_form: string;
  reject_reason: string | null;
  pacs002_status: string | null;
  settled_at: Date | null;
  // no signed_xml: the signed pacs.008 is kept in spi_messages (and audit_log); the column is only read
  // for payments written before that (engine.ts recordOfRow)
  trace_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface MessageRow {
  msg_id: string;
  msg_type: string;
  direction: 'IN' | 'OUT';
  end_to_end_id: string | null;
  signed_xml: string;
  created_at: Date;
}

export interface ReturnRow {
  return_id: string;
  end_to_end_id: string;
  direction: 'OUTBOUND' | 'INBOUND';
  amount_centavos: bigint;
  reason: string;
  status: string;
  reject_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export type WriteOp =
  | { kind: 'insert-tx'; row: TransactionRow; idempotency?: { key: string; hash: string }; posting?: Posting; messages?: MessageRow[] }
  | {
      kind: 'update-tx';
      endToEndId: string;
      createdAt: Date;
      /** the row must be in one of these states (the state machine decided; the database double-checks) */
      from: readonly string[];
      to: string;
      pacs002Status?: string;
      rejectReason?: string | null;
      settledAt?: Date;
      at: Date;
      posting?: Posting;
      messages?: MessageRow[];
    }
  | { kind: 'insert-return'; row: ReturnRow; posting?: Posting; messages?: MessageRow[] }
  | { kind: 'update-return'; returnId: string; from: readonly string[]; to: string; rejectReason?: string | null; at: Date; posting?: Posting; messages?: MessageRow[] }
  | { kind: 'posting'; posting: Posting }
  | { kind: 'messages'; messages: MessageRow[] };

export interface WriteResult {
  /** the row was inserted / the transition applied / the posting written (false: it was there already) */
  applied: boolean;
  /** insert-tx with an Idempotency-Key already bound to another payment: that payment's EndToEndId */
  existingEndToEndId?: string;
  /** ... and the request hash it was bound with (a different hash: the key was reused for another body) */
  existingRequestHash?: string;
  /** the posting was written by this op (false when it was already in the ledger) */
  posted: boolean;
}

export type SpiStore = BatchWriter<WriteOp, WriteResult>;

type Tx = TransactionSql<{ bigint: bigint }>;

const json = (rows: unknown[]) => JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

export function createSpiStore(sql: Sql<{ bigint: bigint }>, logger: Logger, clock: Clock, opts: { opsMax?: number; waitMsMax?: number; queueMax?: number } = {}): SpiStore {
  const log = logger.child({ component: 'spi-store' });
  const inTx = async (ops: WriteOp[]): Promise<WriteResult[]> => {
    // Not sql.begin: it awaits its BEGIN and its COMMIT, one round trip each. On a reserved connection
    // the BEGIN goes out with the batch's first statements and the COMMIT with its last (flushOps).
    const tx = (await sql.reserve()) as unknown as Tx & { release(): void };
    let ended = false;
    try {
      return await flushOps(tx, ops, clock.now(), {
        begin: () => tx`begin`.execute(),
        commit: () => ((ended = true), tx`commit`.execute()),
      });
    } catch (err) {
      // A failed statement left the transaction aborted: roll it back. Once the COMMIT was sent after it,
      // Postgres already answered it with ROLLBACK (a COMMIT in an aborted transaction rolls back).
      if (!ended) await tx`rollback`.catch(() => {});
      throw err;
    } finally {
      tx.release();
    }
  };
  return createBatchWriter<WriteOp, WriteResult>({
    name: 'spi-store',
    ...opts,
    async flush(ops) {
      try {
        return await inTx(ops);
      } catch (err) {
        // One bad row must not fail its neighbours: a data error (class 22/23) splits the batch so only
        // the offending op fails. Anything else (connection lost) fails the batch; callers see the error.
        const code = String((err as { code?: string }).code ?? '');
        if (ops.length === 1 || !(code.startsWith('22') || code.startsWith('23'))) throw err;
        log.warn({ err, size: ops.length }, 'batch refused by the database; writing its ops one by one');
        const out: WriteResult[] = [];
        for (const op of ops) {
          try {
            out.push((await inTx([op]))[0]!);
          } catch (e) {
            out.push({ applied: false, posted: false, error: e } as WriteResult & { error: unknown });
          }
        }
        return out;
      }
    },
    onError: (err, size) => log.error({ err, size }, 'batch write failed'),
  });
}

/** Unwraps a per-op failure produced by the split path of a refused batch. */
export async function writeOrThrow(store: SpiStore, op: WriteOp): Promise<WriteResult> {
  const r = (await store.write(op)) as WriteResult & { error?: unknown };
  if (r.error !== undefined) throw r.error;
  return r;
}

/** A money change applied in this batch, audited once the batch knows whether its posting was written. */
type Change = { i: number; payment: PaymentChange } | { i: number; ret: ReturnChange };

/**
 * Awaits statements issued together on the transaction's connection. postgres.js pipelines them (sent
 * back to back, one round trip for all) and Postgres runs them in send order, so a later one sees the
 * earlier ones' effects. Every one is awaited, and the error thrown is the FIRST failure in send order:
 * the ones after it fail only with 'current transaction is aborted' (25P02), which would hide the data
 * error (22/23) the batch writer splits a batch on.
 */
async function pipelined<T extends readonly unknown[]>(queries: { [K in keyof T]: PromiseLike<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(queries as readonly PromiseLike<unknown>[]);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

type Rows = Record<string, unknown>[];
const none: PromiseLike<Rows> = Promise.resolve([]);

// Round trips per batch: BEGIN and the statements whose parameters come from the ops alone go out
// together (1), then those that need their answers (2: messages, ledger transactions; with no posting the
// audit and COMMIT too), then the ledger rows with the audit and COMMIT last (3). A batch of new payments
// is two round trips (was six with BEGIN and COMMIT), a batch of decisions with postings three (was
// eight). Each round trip costs ≈ 44 µs of Bun CPU (mostly the socket write) and a Postgres wake-up.
// Nothing is acknowledged before the COMMIT's answer: pipelined() awaits every statement sent with it.
/** The batch's transaction: BEGIN is sent first with round trip 1, COMMIT last with the final one. */
interface Bracket {
  begin(): PromiseLike<unknown>;
  commit(): PromiseLike<unknown>;
}

async function flushOps(tx: Tx, ops: WriteOp[], at: Date, bracket: Bracket): Promise<WriteResult[]> {
  const begun = bracket.begin();
  const results: WriteResult[] = ops.map(() => ({ applied: false, posted: false }));
  const postings: { i: number; posting: Posting }[] = [];
  const messages: MessageRow[] = [];
  const messageTrail: { i: number; rec: AuditRecord }[] = [];
  const changes: Change[] = [];
  /** the op's messages go to spi_messages, and each to the audit trail with its bytes */
  const keep = (i: number, rows: MessageRow[] | undefined) => {
    if (!rows) return;
    messages.push(...rows);
    for (const m of rows) messageTrail.push({ i, rec: messageAudit(m) });
  };

  // ---- Round trip 1: every statement whose parameters come from the ops alone, in the order below.
  // 1. Idempotency keys: the database is the last word on "one key, one payment".
  const idem = ops.flatMap((op, i) => (op.kind === 'insert-tx' && op.idempotency ? [{ i, key: op.idempotency.key, hash: op.idempotency.hash, e2e: op.row.end_to_end_id }] : []));
  const idemQ = idem.length === 0 ? none
    : tx`insert into spi_idempotency ${tx(idem.map((r) => ({ idempotency_key: r.key, request_hash: r.hash, end_to_end_id: r.e2e })))} on conflict do nothing returning idempotency_key`.execute();
  // 2. New transactions (outbound payments, inbound payments); a repeated EndToEndId is a no-op. Sent with
  // the keys, before knowing whether each key was free: a payment whose key turns out bound to another
  // one has its row deleted again below, in this transaction, so no one ever sees it (rare: a retry that
  // Redis did not answer).
  const inserts = ops.flatMap((op, i) => (op.kind === 'insert-tx' ? [{ i, op }] : []));
  const insertQ = inserts.length === 0 ? none
    : tx`insert into transactions ${tx(inserts.map((x) => x.op.row))} on conflict do nothing returning end_to_end_id, created_at`.execute();
  // 3. Status transitions, in rounds so one EndToEndId appears once per UPDATE (a batch may carry SENT and SETTLED).
  type UpdateOp = { i: number; op: Extract<WriteOp, { kind: 'update-tx' }> };
  const rounds: UpdateOp[][] = [];
  let pending: UpdateOp[] = ops.flatMap((op, i) => (op.kind === 'update-tx' ? [{ i, op }] : []));
  while (pending.length > 0) {
    const seen = new Set<string>();
    const round = pending.filter((x) => (seen.has(x.op.endToEndId) ? false : (seen.add(x.op.endToEndId), true)));
    pending = pending.filter((x) => !round.includes(x));
    rounds.push(round);
  }
  const roundQs = rounds.map((round) => {
    const rows = round.map(({ i, op }) => ({
      i, e2e: op.endToEndId, created_at: op.createdAt.toISOString(), from_status: op.from.join(','), to_status: op.to,
      pacs002: op.pacs002Status ?? null, has_reject: op.rejectReason !== undefined, reject: op.rejectReason ?? null,
      settled_at: op.settledAt?.toISOString() ?? null, at: op.at.toISOString(),
    }));
    const e2es = round.map((x) => x.op.endToEndId);
    // Read by index, never by scanning the month: e2e is char(32) like transactions.end_to_end_id (as text
    // the comparison casts the column and no index applies) and the `= any(array)` gives the planner the
    // real row count (jsonb_to_recordset is estimated at 100 rows: a hash join over a sequential scan).
    // Before: the whole partition read per decision batch, 6.5 M rows per 2,000 payments, growing with it.
    // The state the row left (the audit row's `from`) is read in RETURNING by a subquery: it runs on the
    // statement's snapshot, which does not see this statement's own change, so it reads the row as it was.
    // (Measured on 500 rows: no cost; a `FOR UPDATE` CTE for it tripled the statement, 30 → 90 ms.) A status
    // committed by another transaction after this snapshot would be missed; statuses are written only here.
    // Rounds run one after the other (pipelined statements run in send order): round 2 sees round 1.
    return tx`
      update transactions t set
        status = v.to_status,
        pacs002_status = coalesce(v.pacs002, t.pacs002_status),
        reject_reason = case when v.has_reject then v.reject else t.reject_reason end,
        settled_at = coalesce(v.settled_at, t.settled_at),
        updated_at = v.at
      from jsonb_to_recordset((${json(rows)}::text)::jsonb) as v(i int, e2e char(32), created_at timestamptz, from_status text, to_status text,
        pacs002 text, has_reject boolean, reject text, settled_at timestamptz, at timestamptz)
      where t.end_to_end_id = any(${e2es}::text[]::char(32)[])
        and t.end_to_end_id = v.e2e and t.created_at = v.created_at and t.status = any(string_to_array(v.from_status, ','))
      returning v.i, t.direction, t.amount_centavos, t.reject_reason, t.trace_id,
        (select o.status from transactions o where o.end_to_end_id = t.end_to_end_id and o.created_at = t.created_at) as from_status`.execute() as PromiseLike<Rows>;
  });
  // 4. Returns.
  const retInserts = ops.flatMap((op, i) => (op.kind === 'insert-return' ? [{ i, op }] : []));
  const retInsertQ = retInserts.length === 0 ? none
    : tx`insert into spi_returns ${tx(retInserts.map((x) => x.op.row))} on conflict do nothing returning return_id`.execute();
  const retUpdates = ops.flatMap((op, i) => (op.kind === 'update-return' ? [{ i, op }] : []));
  const retUpdateQs = retUpdates.map(({ op }) => {
    const reject = op.rejectReason === undefined ? null : op.rejectReason;
    // `from_status`: the row before this statement, as for payments above
    return tx`
      update spi_returns r set status = ${op.to}, reject_reason = coalesce(${reject}, r.reject_reason), updated_at = ${op.at}
      where r.return_id = ${op.returnId} and r.status in ${tx(op.from as string[])}
      returning r.end_to_end_id, r.direction, r.amount_centavos, r.reason, r.reject_reason,
        (select o.status from spi_returns o where o.return_id = r.return_id) as from_status`.execute() as PromiseLike<Rows>;
  });
  const [, idemRows, insertedRows, retInsertedRows, ...rest] = await pipelined<Rows[]>([begun, idemQ, insertQ, retInsertQ, ...roundQs, ...retUpdateQs] as PromiseLike<Rows>[]);
  const roundRows = rest.slice(0, roundQs.length);
  const retUpdateRows = rest.slice(roundQs.length);

  // Keys bound to another payment (rare: its own round trip): report the binding, undo the row sent with it.
  const refusedIdem = new Set<number>();
  const freshIdem = new Set(idemRows!.map((r) => r.idempotency_key as string));
  const taken = idem.filter((r) => !freshIdem.has(r.key));
  let inserted = insertedRows!;
  if (taken.length > 0) {
    const takenOps = new Set(taken.map((t) => t.i));
    const freshE2e = new Set(inserted.map((r) => (r.end_to_end_id as string).trim()));
    const undo = inserts.filter(({ i, op }) => takenOps.has(i) && freshE2e.has(op.row.end_to_end_id)).map(({ op }) => op.row);
    const [existing] = await pipelined<Rows[]>([
      tx`select idempotency_key, end_to_end_id, request_hash from spi_idempotency where idempotency_key in ${tx(taken.map((t) => t.key))}`.execute(),
      undo.length === 0 ? none
        : tx`delete from transactions where end_to_end_id = any(${undo.map((r) => r.end_to_end_id)}::text[]::char(32)[])
               and (end_to_end_id, created_at) in (select * from unnest(${undo.map((r) => r.end_to_end_id)}::text[]::char(32)[], ${undo.map((r) => r.created_at.toISOString())}::timestamptz[]))`.execute(),
    ] as PromiseLike<Rows>[]);
    const byKey = new Map(existing!.map((r) => [r.idempotency_key as string, { e2e: (r.end_to_end_id as string).trim(), hash: (r.request_hash as string).trim() }]));
    for (const t of taken) {
      refusedIdem.add(t.i);
      const bound = byKey.get(t.key)!;
      results[t.i]!.existingEndToEndId = bound.e2e;
      results[t.i]!.existingRequestHash = bound.hash;
    }
    const undone = new Set(undo.map((r) => r.end_to_end_id));
    inserted = inserted.filter((r) => !undone.has((r.end_to_end_id as string).trim()));
  }

  // 2. New transactions' results.
  const fresh = new Set(inserted.map((r) => (r.end_to_end_id as string).trim()));
  for (const { i, op } of inserts) {
    if (refusedIdem.has(i) || !fresh.has(op.row.end_to_end_id)) continue;
    results[i]!.applied = true;
    if (op.posting) postings.push({ i, posting: op.posting });
    keep(i, op.messages);
    const r = op.row;
    // born decided: a book transfer (SETTLED/RELEASED), an inbound payment we refused (REJECTED)
    if (AUDITED_PAYMENT_STATES.has(r.status)) {
      changes.push({ i, payment: { endToEndId: r.end_to_end_id, direction: r.direction, amountCentavos: r.amount_centavos, from: null, to: r.status, rejectReason: r.reject_reason, traceId: r.trace_id } });
    }
  }

  // 3. Status transitions' results, round by round.
  for (const [k, round] of rounds.entries()) {
    for (const r of roundRows[k]!) {
      const i = Number(r.i);
      const op = ops[i] as Extract<WriteOp, { kind: 'update-tx' }>;
      results[i]!.applied = true;
      if (op.posting) postings.push({ i, posting: op.posting });
      keep(i, op.messages);
      if (AUDITED_PAYMENT_STATES.has(op.to)) {
        changes.push({ i, payment: {
          endToEndId: op.endToEndId, direction: r.direction as string, amountCentavos: r.amount_centavos as bigint, from: r.from_status as string, to: op.to,
          rejectReason: (r.reject_reason as string | null) ?? null, traceId: (r.trace_id as string | null) ?? null,
        } });
      }
    }
    // a transition refused here still keeps its evidence: the message was received
    for (const { i, op } of round) if (!results[i]!.applied) keep(i, op.messages);
  }

  // 4. Returns' results.
  const freshReturns = new Set(retInsertedRows!.map((r) => r.return_id as string));
  for (const { i, op } of retInserts) {
    keep(i, op.messages);
    if (!freshReturns.has(op.row.return_id)) continue;
    results[i]!.applied = true;
    if (op.posting) postings.push({ i, posting: op.posting });
    const r = op.row;
    if (AUDITED_RETURN_STATES.has(r.status)) {
      changes.push({ i, ret: { returnId: r.return_id, endToEndId: r.end_to_end_id, direction: r.direction, amountCentavos: r.amount_centavos, reason: r.reason, from: null, to: r.status, rejectReason: r.reject_reason } });
    }
  }
  for (const [k, { i, op }] of retUpdates.entries()) {
    keep(i, op.messages);
    const r = retUpdateRows[k]![0];
    if (r === undefined) continue;
    results[i]!.applied = true;
    if (op.posting) postings.push({ i, posting: op.posting });
    if (AUDITED_RETURN_STATES.has(op.to)) {
      changes.push({ i, ret: {
        returnId: op.returnId, endToEndId: String(r.end_to_end_id).trim(), direction: r.direction as string, amountCentavos: r.amount_centavos as bigint,
        reason: r.reason as string, from: r.from_status as string, to: op.to, rejectReason: (r.reject_reason as string | null) ?? null,
      } });
    }
  }

  for (const [i, op] of ops.entries()) {
    if (op.kind === 'posting') postings.push({ i, posting: op.posting });
    if (op.kind === 'messages') {
      keep(i, op.messages);
      results[i]!.applied = true;
    }
  }

  // ---- Round trip 2: 6. every signed message, byte for byte, and 5. the ledger transactions (one per
  // movement, written once: the ref is the primary key). With no posting the audit goes with them (7).
  for (const p of postings) assertBalanced(p.posting);
  const messagesQ = messages.length === 0 ? none : tx`insert into spi_messages ${tx(messages)}`.execute() as PromiseLike<Rows>;
  if (postings.length === 0) {
    const audited = sendAuditRows(tx, auditTrail(ops, results, messageTrail, changes), at);
    await pipelined<unknown[]>([messagesQ, audited, bracket.commit()]);
    return results;
  }
  const [, refs] = await pipelined<Rows[]>([
    messagesQ,
    tx`insert into ledger_transactions ${tx(postings.map((p) => ({ ref: p.posting.ref, kind: p.posting.kind })))} on conflict do nothing returning ref`.execute(),
  ] as PromiseLike<Rows>[]);
  const freshRefs = new Set(refs!.map((r) => r.ref as string));
  const written = postings.filter((p) => freshRefs.has(p.posting.ref));
  for (const p of written) {
    results[p.i]!.posted = true;
    if (ops[p.i]!.kind === 'posting') results[p.i]!.applied = true;
  }

  // ---- Round trip 3: the ledger entries and balances of the postings written, then 7. the audit trail,
  // LAST and in ONE insert: from it until commit this batch holds the chain head and every other audit
  // writer (dict, settlement, the other SPI instances) waits (sql/0005_audit_chain.sql).
  const ledgerQs: PromiseLike<unknown>[] = [];
  if (written.length > 0) {
    const entries = written.flatMap((p) => p.posting.entries.map((e) => ({ ref: p.posting.ref, account_id: e.accountId, amount_centavos: e.amountCentavos })));
    const delta = new Map<bigint, bigint>();
    for (const e of entries) delta.set(e.account_id, (delta.get(e.account_id) ?? 0n) + e.amount_centavos);
    const rows = [...delta].map(([id, d]) => ({ id, delta: d }));
    ledgerQs.push(
      tx`insert into ledger_entries ${tx(entries)}`.execute(),
      tx`
        update ledger_accounts a set balance_centavos = a.balance_centavos + v.delta, updated_at = now()
        from jsonb_to_recordset((${json(rows)}::text)::jsonb) as v(id bigint, delta bigint) where a.id = v.id`.execute(),
    );
  }
  const audited = sendAuditRows(tx, auditTrail(ops, results, messageTrail, changes), at);
  await pipelined<unknown[]>([...ledgerQs, audited, bracket.commit()]);
  return results;
}

/** The batch's audit rows in op order, each op's messages before its change. */
function auditTrail(ops: WriteOp[], results: WriteResult[], messageTrail: { i: number; rec: AuditRecord }[], changes: Change[]): AuditRecord[] {
  const postingOf = (i: number): Posting | null => {
    const op = ops[i]!;
    return results[i]!.posted && 'posting' in op && op.posting ? op.posting : null;
  };
  const changed = new Set(changes.map((c) => c.i));
  const trail = [
    ...messageTrail,
    ...changes.map((c) => ({ i: c.i, rec: 'payment' in c ? paymentAudit(c.payment, postingOf(c.i)) : returnAudit(c.ret, postingOf(c.i)) })),
    // a posting written without an audited change of its own: deposits, and any future posting-only op
    ...ops.flatMap((_op, i) => {
      const posting = changed.has(i) ? null : postingOf(i);
      return posting ? [{ i, rec: postingAudit(posting) }] : [];
    }),
  ];
  // stable: an op's messages (listed first) stay before its change
  return trail.sort((a, b) => a.i - b.i).map((x) => x.rec);
}
