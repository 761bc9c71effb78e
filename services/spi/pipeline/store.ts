// The SPI service's one durable write path: payments, inbound payments, status changes, ledger postings,
// returns and the signed messages, all through one batch writer, each batch in ONE database transaction.
// A status change and the ledger posting it causes (settled → debit the payer) commit together or not
// at all, so the ledger can never disagree with the payment table.
import type { Sql, TransactionSql } from 'postgres';
import type { Logger } from '../../../shared/telemetry.ts';
import { assertBalanced, type Posting } from '../positions/posting.ts';
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
  signed_xml: string | null;
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

export function createSpiStore(sql: Sql<{ bigint: bigint }>, logger: Logger, opts: { opsMax?: number; waitMsMax?: number; queueMax?: number } = {}): SpiStore {
  const log = logger.child({ component: 'spi-store' });
  const inTx = (ops: WriteOp[]) => sql.begin((tx) => flushOps(tx as unknown as Tx, ops)) as Promise<WriteResult[]>;
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

async function flushOps(tx: Tx, ops: WriteOp[]): Promise<WriteResult[]> {
  const results: WriteResult[] = ops.map(() => ({ applied: false, posted: false }));
  const postings: { i: number; posting: Posting }[] = [];
  const messages: MessageRow[] = [];

  // 1. Idempotency keys: the database is the last word on "one key, one payment".
  const idem = ops.flatMap((op, i) => (op.kind === 'insert-tx' && op.idempotency ? [{ i, key: op.idempotency.key, hash: op.idempotency.hash, e2e: op.row.end_to_end_id }] : []));
  const refusedIdem = new Set<number>();
  if (idem.length > 0) {
    const rows = idem.map((r) => ({ idempotency_key: r.key, request_hash: r.hash, end_to_end_id: r.e2e }));
    const inserted = await tx`insert into spi_idempotency ${tx(rows)} on conflict do nothing returning idempotency_key`;
    const fresh = new Set(inserted.map((r) => r.idempotency_key as string));
    const taken = idem.filter((r) => !fresh.has(r.key));
    if (taken.length > 0) {
      const existing = await tx`select idempotency_key, end_to_end_id, request_hash from spi_idempotency where idempotency_key in ${tx(taken.map((t) => t.key))}`;
      const byKey = new Map(existing.map((r) => [r.idempotency_key as string, { e2e: (r.end_to_end_id as string).trim(), hash: (r.request_hash as string).trim() }]));
      for (const t of taken) {
        refusedIdem.add(t.i);
        const bound = byKey.get(t.key)!;
        results[t.i]!.existingEndToEndId = bound.e2e;
        results[t.i]!.existingRequestHash = bound.hash;
      }
    }
  }

  // 2. New transactions (outbound payments, inbound payments); a repeated EndToEndId is a no-op.
  const inserts = ops.flatMap((op, i) => (op.kind === 'insert-tx' && !refusedIdem.has(i) ? [{ i, op }] : []));
  if (inserts.length > 0) {
    const inserted = await tx`insert into transactions ${tx(inserts.map((x) => x.op.row))} on conflict do nothing returning end_to_end_id`;
    const fresh = new Set(inserted.map((r) => (r.end_to_end_id as string).trim()));
    for (const { i, op } of inserts) {
      if (!fresh.has(op.row.end_to_end_id)) continue;
      results[i]!.applied = true;
      if (op.posting) postings.push({ i, posting: op.posting });
      if (op.messages) messages.push(...op.messages);
    }
  }

  // 3. Status transitions, in rounds so one EndToEndId appears once per UPDATE (a batch may carry SENT and SETTLED).
  let pending = ops.flatMap((op, i) => (op.kind === 'update-tx' ? [{ i, op }] : []));
  while (pending.length > 0) {
    const seen = new Set<string>();
    const round = pending.filter((x) => (seen.has(x.op.endToEndId) ? false : (seen.add(x.op.endToEndId), true)));
    pending = pending.filter((x) => !round.includes(x));
    const rows = round.map(({ i, op }) => ({
      i, e2e: op.endToEndId, created_at: op.createdAt.toISOString(), from_status: op.from.join(','), to_status: op.to,
      pacs002: op.pacs002Status ?? null, has_reject: op.rejectReason !== undefined, reject: op.rejectReason ?? null,
      settled_at: op.settledAt?.toISOString() ?? null, at: op.at.toISOString(),
    }));
    // Read by index, never by scanning the month: e2e is char(32) like transactions.end_to_end_id (as text
    // the comparison casts the column and no index applies) and the `= any(array)` gives the planner the
    // real row count (jsonb_to_recordset is estimated at 100 rows: a hash join over a sequential scan).
    // Before: the whole partition read per decision batch, 6.5 M rows per 2,000 payments, growing with it.
    const updated = await tx`
      update transactions t set
        status = v.to_status,
        pacs002_status = coalesce(v.pacs002, t.pacs002_status),
        reject_reason = case when v.has_reject then v.reject else t.reject_reason end,
        settled_at = coalesce(v.settled_at, t.settled_at),
        updated_at = v.at
      from jsonb_to_recordset((${json(rows)}::text)::jsonb) as v(i int, e2e char(32), created_at timestamptz, from_status text, to_status text,
        pacs002 text, has_reject boolean, reject text, settled_at timestamptz, at timestamptz)
      where t.end_to_end_id = any(${round.map((x) => x.op.endToEndId)}::text[]::char(32)[])
        and t.end_to_end_id = v.e2e and t.created_at = v.created_at and t.status = any(string_to_array(v.from_status, ','))
      returning v.i`;
    for (const r of updated) {
      const i = Number(r.i);
      const op = ops[i] as Extract<WriteOp, { kind: 'update-tx' }>;
      results[i]!.applied = true;
      if (op.posting) postings.push({ i, posting: op.posting });
      if (op.messages) messages.push(...op.messages);
    }
    // a transition refused here still keeps its evidence: the message was received
    for (const { i, op } of round) if (!results[i]!.applied && op.messages) messages.push(...op.messages);
  }

  // 4. Returns.
  const retInserts = ops.flatMap((op, i) => (op.kind === 'insert-return' ? [{ i, op }] : []));
  if (retInserts.length > 0) {
    const inserted = await tx`insert into spi_returns ${tx(retInserts.map((x) => x.op.row))} on conflict do nothing returning return_id`;
    const fresh = new Set(inserted.map((r) => r.return_id as string));
    for (const { i, op } of retInserts) {
      if (op.messages) messages.push(...op.messages);
      if (!fresh.has(op.row.return_id)) continue;
      results[i]!.applied = true;
      if (op.posting) postings.push({ i, posting: op.posting });
    }
  }
  for (const [i, op] of ops.entries()) {
    if (op.kind !== 'update-return') continue;
    const reject = op.rejectReason === undefined ? null : op.rejectReason;
    const rows = await tx`
      update spi_returns set status = ${op.to}, reject_reason = coalesce(${reject}, reject_reason), updated_at = ${op.at}
      where return_id = ${op.returnId} and status in ${tx(op.from as string[])} returning return_id`;
    if (op.messages) messages.push(...op.messages);
    if (rows.length === 0) continue;
    results[i]!.applied = true;
    if (op.posting) postings.push({ i, posting: op.posting });
  }

  for (const [i, op] of ops.entries()) {
    if (op.kind === 'posting') postings.push({ i, posting: op.posting });
    if (op.kind === 'messages') {
      messages.push(...op.messages);
      results[i]!.applied = true;
    }
  }

  // 5. Ledger postings: one ledger transaction per movement, written once (the ref is the primary key).
  if (postings.length > 0) {
    for (const p of postings) assertBalanced(p.posting);
    const refs = await tx`insert into ledger_transactions ${tx(postings.map((p) => ({ ref: p.posting.ref, kind: p.posting.kind })))} on conflict do nothing returning ref`;
    const fresh = new Set(refs.map((r) => r.ref as string));
    const written = postings.filter((p) => fresh.has(p.posting.ref));
    for (const p of written) {
      results[p.i]!.posted = true;
      if (ops[p.i]!.kind === 'posting') results[p.i]!.applied = true;
    }
    if (written.length > 0) {
      const entries = written.flatMap((p) => p.posting.entries.map((e) => ({ ref: p.posting.ref, account_id: e.accountId, amount_centavos: e.amountCentavos })));
      await tx`insert into ledger_entries ${tx(entries)}`;
      const delta = new Map<bigint, bigint>();
      for (const e of entries) delta.set(e.account_id, (delta.get(e.account_id) ?? 0n) + e.amount_centavos);
      const rows = [...delta].map(([id, d]) => ({ id, delta: d }));
      await tx`
        update ledger_accounts a set balance_centavos = a.balance_centavos + v.delta, updated_at = now()
        from jsonb_to_recordset((${json(rows)}::text)::jsonb) as v(id bigint, delta bigint) where a.id = v.id`;
    }
  }

  // 6. Every signed message, byte for byte.
  if (messages.length > 0) await tx`insert into spi_messages ${tx(messages)}`;
  return results;
}
