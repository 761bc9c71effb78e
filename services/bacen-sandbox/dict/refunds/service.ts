// Refund (MED) operations, for the API routes and the simulated PSPs alike: the payer's PSP asks, the
// payee's PSP closes (with the pacs.004 ReturnId when it gives money back) or the requester cancels.
import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import { formatAmount, parseAmount } from '../../../../shared/money.ts';
import type { Refund, RefundBody } from '../../../../shared/dict/messages.ts';
import { applyRefundAction, checkRefundRequest, type RefundAction, type RefundState } from '../../../../shared/dict/refunds.ts';
import { fail, ok, type Result } from '../../../../shared/result.ts';
import { compact } from '../http.ts';
import { findSettledPayment } from '../infractions/transactions.ts';

type Db = Sql<{ bigint: bigint }>;

export interface RefundRow {
  id: string;
  transaction_id: string;
  refund_reason: string;
  amount_centavos: bigint;
  refund_details: string | null;
  status: string;
  requesting_participant: string;
  contested_participant: string;
  creation_time: Date;
  last_modified: Date;
  analysis_result: string | null;
  analysis_details: string | null;
  refund_transaction_id: string | null;
}

export function refundOf(r: RefundRow): Refund {
  return compact({
    transactionId: r.transaction_id,
    refundReason: r.refund_reason as Refund['refundReason'],
    refundAmount: formatAmount(r.amount_centavos),
    refundDetails: r.refund_details ?? undefined,
    id: r.id,
    status: r.status as Refund['status'],
    contestedParticipant: r.contested_participant,
    requestingParticipant: r.requesting_participant,
    creationTime: r.creation_time.toISOString(),
    lastModified: r.last_modified.toISOString(),
    refundAnalysisResult: (r.analysis_result ?? undefined) as Refund['refundAnalysisResult'],
    refundAnalysisDetails: r.analysis_details ?? undefined,
    refundTransactionId: r.refund_transaction_id ?? undefined,
  });
}

const stateOf = (r: RefundRow): RefundState =>
  compact({
    status: r.status as RefundState['status'],
    requestingParticipant: r.requesting_participant,
    contestedParticipant: r.contested_participant,
    amountCentavos: r.amount_centavos,
    lastModifiedMs: r.last_modified.getTime(),
    analysisResult: (r.analysis_result ?? undefined) as RefundState['analysisResult'],
    analysisDetails: r.analysis_details ?? undefined,
    refundTransactionId: r.refund_transaction_id ?? undefined,
  });

export async function createRefund(sql: Db, caller: string, body: RefundBody, now: Date): Promise<Result<RefundRow>> {
  const amount = parseAmount(body.refundAmount, 'Refund.RefundAmount');
  if (!amount.ok) return fail('RefundInvalid', amount.error.detail, 'Refund.RefundAmount', amount.error.rule ?? 'format');
  const payment = await findSettledPayment(sql, body.transactionId);
  if (!payment) return fail('RefundInvalid', `no settled transaction ${body.transactionId}`, 'Refund.TransactionId', 'not-found');
  // only the payer's PSP asks for its customer's money back
  if (payment.debited !== caller) return fail('Forbidden', 'only the debited participant of the transaction requests a refund');
  const checked = checkRefundRequest(payment.settledAt.getTime(), payment.amountCentavos, amount.value, now.getTime());
  if (!checked.ok) return checked;
  try {
    const [row] = await sql<RefundRow[]>`
      insert into dict_refunds (id, transaction_id, refund_reason, amount_centavos, refund_details, status, requesting_participant, contested_participant, creation_time, last_modified)
      values (${randomUUID()}, ${body.transactionId}, ${body.refundReason}, ${amount.value}, ${body.refundDetails ?? null}, 'OPEN', ${caller}, ${payment.credited}, ${now}, ${now})
      returning *`;
    return ok(row!);
  } catch (e) {
    if ((e as { code?: string }).code === '23505') return fail('RefundAlreadyExistsForTransaction', `transaction ${body.transactionId} already has an open refund`);
    throw e;
  }
}

export async function actOnRefund(sql: Db, id: string, action: RefundAction, caller: string, now: Date): Promise<Result<RefundRow>> {
  return (await sql.begin(async (tx) => {
    const [row] = await tx<RefundRow[]>`select * from dict_refunds where id = ${id} for update`;
    if (!row || (row.requesting_participant !== caller && row.contested_participant !== caller)) return fail('RefundNotFound', `no refund ${id} of yours`);
    const applied = applyRefundAction(stateOf(row), action, caller, now.getTime());
    if (!applied.ok) return applied;
    if (!applied.value.changed) return ok(row);
    const s = applied.value.refund;
    const [next] = await tx<RefundRow[]>`
      update dict_refunds set status = ${s.status}, last_modified = ${new Date(s.lastModifiedMs)}, analysis_result = ${s.analysisResult ?? null},
        analysis_details = ${s.analysisDetails ?? null}, refund_transaction_id = ${s.refundTransactionId ?? null}
      where id = ${id} returning *`;
    return ok(next!);
  })) as Result<RefundRow>;
}
