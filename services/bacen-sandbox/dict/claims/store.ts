// SQL for claims, and the mapping between a row, the pure ClaimState (shared/dict/claims.ts) and the
// spec's Claim element.
import type { Sql, TransactionSql } from 'postgres';
import type { ClaimState } from '../../../../shared/dict/claims.ts';
import type { Account, Claim, Owner } from '../../../../shared/dict/messages.ts';
import { compact } from '../http.ts';

type Tx = Sql<{ bigint: bigint }> | TransactionSql<{ bigint: bigint }>;

export interface ClaimRow {
  id: string;
  type: string;
  key: string;
  key_type: string;
  status: string;
  claimer_participant: string;
  donor_participant: string;
  claimer_account: Account;
  claimer: Owner;
  created_at: Date;
  resolution_period_end: Date;
  completion_period_end: Date;
  last_modified: Date;
  confirm_reason: string | null;
  cancel_reason: string | null;
  cancelled_by: string | null;
  key_ownership_date: Date;
}

export function stateOf(r: ClaimRow): ClaimState {
  return compact({
    type: r.type as ClaimState['type'],
    status: r.status as ClaimState['status'],
    claimerParticipant: r.claimer_participant,
    donorParticipant: r.donor_participant,
    createdAtMs: r.created_at.getTime(),
    resolutionPeriodEndMs: r.resolution_period_end.getTime(),
    completionPeriodEndMs: r.completion_period_end.getTime(),
    lastModifiedMs: r.last_modified.getTime(),
    confirmReason: (r.confirm_reason ?? undefined) as ClaimState['confirmReason'],
    cancelReason: (r.cancel_reason ?? undefined) as ClaimState['cancelReason'],
    cancelledBy: (r.cancelled_by ?? undefined) as ClaimState['cancelledBy'],
  });
}

export function claimOf(r: ClaimRow): Claim {
  const s = stateOf(r);
  return compact({
    type: s.type,
    key: r.key,
    keyType: r.key_type as Claim['keyType'],
    claimerAccount: compact(r.claimer_account),
    claimer: compact(r.claimer),
    donorParticipant: s.donorParticipant,
    id: r.id,
    status: s.status,
    resolutionPeriodEnd: new Date(s.resolutionPeriodEndMs).toISOString(),
    completionPeriodEnd: new Date(s.completionPeriodEndMs).toISOString(),
    lastModified: new Date(s.lastModifiedMs).toISOString(),
    confirmReason: s.confirmReason,
    cancelReason: s.cancelReason,
    cancelledBy: s.cancelledBy,
  });
}

export async function findClaim(sql: Tx, id: string, forUpdate = false): Promise<ClaimRow | undefined> {
  const [row] = forUpdate
    ? await sql<ClaimRow[]>`select * from dict_claims where id = ${id} for update`
    : await sql<ClaimRow[]>`select * from dict_claims where id = ${id}`;
  return row;
}

export async function saveState(sql: Tx, id: string, s: ClaimState): Promise<void> {
  await sql`update dict_claims set status = ${s.status}, completion_period_end = ${new Date(s.completionPeriodEndMs)}, last_modified = ${new Date(s.lastModifiedMs)},
              confirm_reason = ${s.confirmReason ?? null}, cancel_reason = ${s.cancelReason ?? null}, cancelled_by = ${s.cancelledBy ?? null}
            where id = ${id}`;
}

export async function insertClaim(
  sql: Tx,
  c: { id: string; key: string; keyType: string; claimerAccount: Account; claimer: Owner; keyOwnershipDate: Date },
  s: ClaimState,
): Promise<void> {
  await sql`
    insert into dict_claims (id, type, key, key_type, status, claimer_participant, donor_participant, claimer_account, claimer, created_at,
                             resolution_period_end, completion_period_end, last_modified, key_ownership_date)
    values (${c.id}, ${s.type}, ${c.key}, ${c.keyType}, ${s.status}, ${s.claimerParticipant}, ${s.donorParticipant}, ${sql.json(c.claimerAccount as never)},
            ${sql.json(c.claimer as never)}, ${new Date(s.createdAtMs)}, ${new Date(s.resolutionPeriodEndMs)}, ${new Date(s.completionPeriodEndMs)},
            ${new Date(s.lastModifiedMs)}, ${c.keyOwnershipDate})`;
}
