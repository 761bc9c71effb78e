// SQL for MED: infraction reports, refunds and cautionary blocks (sql/0002_dict.sql).
import type { Sql, TransactionSql } from 'postgres';
import { parseAmount } from '../../../shared/money.ts';
import type { InfractionReport, Refund } from '../dictapi/types.ts';

type Q = Sql<{ bigint: bigint }> | TransactionSql<{ bigint: bigint }>;

export interface InfractionRow {
  id: string;
  role: 'REPORTER' | 'REPORTED';
  end_to_end_id: string;
  report_type: string;
  status: string;
  reporter_ispb: string;
  counterparty_ispb: string;
  details: string | null;
  analysis_result: string | null;
  analysis_details: string | null;
  last_modified: Date;
  created_at: Date;
  updated_at: Date;
}

export interface RefundRow {
  id: string;
  role: 'REQUESTER' | 'CONTESTED';
  end_to_end_id: string;
  infraction_report_id: string | null;
  reason: string;
  amount_centavos: bigint;
  refunded_centavos: bigint | null;
  status: string;
  analysis_result: string | null;
  analysis_details: string | null;
  refund_transaction_id: string | null;
  requester_ispb: string;
  contested_ispb: string;
  answer_due_at: Date;
  last_modified: Date;
  created_at: Date;
  updated_at: Date;
}

export async function findInfraction(sql: Q, id: string): Promise<InfractionRow | undefined> {
  return (await sql<InfractionRow[]>`select * from dict_infraction_reports where id = ${id}`)[0];
}

export async function upsertInfraction(tx: Q, r: InfractionReport, role: InfractionRow['role'], reporter: string, counterparty: string, at: Date): Promise<string | undefined> {
  const before = (await tx<{ status: string }[]>`select status from dict_infraction_reports where id = ${r.id} for update`)[0]?.status;
  await tx`insert into dict_infraction_reports (id, role, end_to_end_id, report_type, status, reporter_ispb, counterparty_ispb, details, analysis_result,
      analysis_details, last_modified, created_at, updated_at)
    values (${r.id}, ${role}, ${r.transactionId}, ${r.infractionType}, ${r.status}, ${reporter}, ${counterparty}, ${r.reportDetails}, ${r.analysisResult ?? null},
      ${r.analysisDetails ?? null}, ${new Date(r.lastModified)}, ${new Date(r.creationTime)}, ${at})
    on conflict (id) do update set status = excluded.status, analysis_result = excluded.analysis_result, analysis_details = excluded.analysis_details,
      last_modified = excluded.last_modified, updated_at = excluded.updated_at`;
  return before;
}

export async function findRefund(sql: Q, id: string): Promise<RefundRow | undefined> {
  return (await sql<RefundRow[]>`select * from dict_refunds where id = ${id}`)[0];
}

export async function upsertRefund(tx: Q, r: Refund, role: RefundRow['role'], answerDueAt: Date, infractionReportId: string | null, at: Date): Promise<string | undefined> {
  const before = (await tx<{ status: string }[]>`select status from dict_refunds where id = ${r.id} for update`)[0]?.status;
  const amount = parseAmount(r.refundAmount);
  if (!amount.ok) throw new Error(`DICT refund ${r.id} has an unreadable amount ${r.refundAmount}`);
  await tx`insert into dict_refunds (id, role, end_to_end_id, infraction_report_id, reason, amount_centavos, status, analysis_result, analysis_details,
      refund_transaction_id, requester_ispb, contested_ispb, answer_due_at, last_modified, created_at, updated_at)
    values (${r.id}, ${role}, ${r.transactionId}, ${infractionReportId}, ${r.refundReason}, ${amount.value}, ${r.status}, ${r.refundAnalysisResult ?? null},
      ${r.refundAnalysisDetails ?? null}, ${r.refundTransactionId ?? null}, ${r.requestingParticipant}, ${r.contestedParticipant}, ${answerDueAt},
      ${new Date(r.lastModified)}, ${new Date(r.creationTime)}, ${at})
    on conflict (id) do update set status = excluded.status, analysis_result = excluded.analysis_result, analysis_details = excluded.analysis_details,
      refund_transaction_id = excluded.refund_transaction_id, last_modified = excluded.last_modified, updated_at = excluded.updated_at`;
  return before;
}
