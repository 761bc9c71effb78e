// audit_log rows (sql/0001_init.sql: append-only). Always written inside the transaction of the change
// they record, so a change without its audit row cannot be committed.
import type { TransactionSql } from 'postgres';

export interface AuditRecord {
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  traceId?: string | undefined;
  detail: Record<string, unknown>;
}

export async function writeAudit(tx: TransactionSql<{ bigint: bigint }>, rec: AuditRecord, at: Date): Promise<void> {
  await tx`insert into audit_log (at, actor, action, entity_type, entity_id, trace_id, detail)
    values (${at}, ${rec.actor}, ${rec.action}, ${rec.entityType}, ${rec.entityId}, ${rec.traceId ?? null}, ${tx.json(rec.detail as never)})`;
}
