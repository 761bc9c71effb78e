// Infraction report operations, for the API routes and the simulated PSPs alike.
import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import { applyInfractionAction, reporterRole, type InfractionAction, type InfractionState } from '../../../../shared/dict/infractions.ts';
import type { InfractionReport, InfractionReportBody } from '../../../../shared/dict/messages.ts';
import { fail, ok, type Result } from '../../../../shared/result.ts';
import { compact } from '../http.ts';
import { findSettledPayment } from './transactions.ts';

type Db = Sql<{ bigint: bigint }>;

export interface InfractionRow {
  id: string;
  transaction_id: string;
  infraction_type: string;
  reported_by: string;
  report_details: string;
  status: string;
  debited_participant: string;
  credited_participant: string;
  creation_time: Date;
  last_modified: Date;
  analysis_result: string | null;
  analysis_details: string | null;
}

export function reportOf(r: InfractionRow): InfractionReport {
  return compact({
    transactionId: r.transaction_id,
    infractionType: r.infraction_type as InfractionReport['infractionType'],
    reportedBy: r.reported_by as InfractionReport['reportedBy'],
    reportDetails: r.report_details,
    id: r.id,
    status: r.status as InfractionReport['status'],
    debitedParticipant: r.debited_participant,
    creditedParticipant: r.credited_participant,
    creationTime: r.creation_time.toISOString(),
    lastModified: r.last_modified.toISOString(),
    analysisResult: (r.analysis_result ?? undefined) as InfractionReport['analysisResult'],
    analysisDetails: r.analysis_details ?? undefined,
  });
}

const stateOf = (r: InfractionRow): InfractionState =>
  compact({
    status: r.status as InfractionState['status'],
    reportedBy: r.reported_by as InfractionState['reportedBy'],
    debitedParticipant: r.debited_participant,
    creditedParticipant: r.credited_participant,
    lastModifiedMs: r.last_modified.getTime(),
    analysisResult: (r.analysis_result ?? undefined) as InfractionState['analysisResult'],
    analysisDetails: r.analysis_details ?? undefined,
  });

/** Report details are free text; DICT bounds them. */
export const REPORT_DETAILS_LENGTH_MAX = 2_000;

export async function createInfractionReport(sql: Db, caller: string, body: InfractionReportBody, now: Date): Promise<Result<InfractionRow>> {
  if (body.reportDetails.length > REPORT_DETAILS_LENGTH_MAX) return fail('InfractionReportInvalid', 'report details too long', 'InfractionReport.ReportDetails', 'max-length');
  const payment = await findSettledPayment(sql, body.transactionId);
  if (!payment) return fail('InfractionReportInvalid', `no settled transaction ${body.transactionId}`, 'InfractionReport.TransactionId', 'not-found');
  const role = reporterRole(caller, payment.debited, payment.credited);
  if (!role.ok) return role;
  const id = randomUUID();
  try {
    const [row] = await sql<InfractionRow[]>`
      insert into dict_infraction_reports (id, transaction_id, infraction_type, reported_by, report_details, status, debited_participant, credited_participant, creation_time, last_modified)
      values (${id}, ${body.transactionId}, ${body.infractionType}, ${role.value}, ${body.reportDetails}, 'OPEN', ${payment.debited}, ${payment.credited}, ${now}, ${now})
      returning *`;
    return ok(row!);
  } catch (e) {
    if ((e as { code?: string }).code === '23505') return fail('InfractionReportAlreadyBeingProcessedForTransaction', `transaction ${body.transactionId} already has an open report`);
    throw e;
  }
}

export async function actOnInfractionReport(sql: Db, id: string, action: InfractionAction, caller: string, now: Date): Promise<Result<InfractionRow>> {
  return (await sql.begin(async (tx) => {
    const [row] = await tx<InfractionRow[]>`select * from dict_infraction_reports where id = ${id} for update`;
    if (!row || (row.debited_participant !== caller && row.credited_participant !== caller)) return fail('InfractionReportNotFound', `no infraction report ${id} of yours`);
    const applied = applyInfractionAction(stateOf(row), action, caller, now.getTime());
    if (!applied.ok) return applied;
    if (!applied.value.changed) return ok(row);
    const s = applied.value.report;
    const [next] = await tx<InfractionRow[]>`
      update dict_infraction_reports set status = ${s.status}, last_modified = ${new Date(s.lastModifiedMs)},
        analysis_result = ${s.analysisResult ?? null}, analysis_details = ${s.analysisDetails ?? null}
      where id = ${id} returning *`;
    return ok(next!);
  })) as Result<InfractionRow>;
}
