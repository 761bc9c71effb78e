// SQL for claims (sql/0002_dict.sql dict_claims): one row per claim we take part in, with its timer.
import type { Sql, TransactionSql } from 'postgres';
import type { ClaimRole } from '../../../shared/dict/claims.ts';
import type { DictClaim } from '../dictapi/types.ts';
import type { Timer } from './claim.ts';

type Q = Sql<{ bigint: bigint }> | TransactionSql<{ bigint: bigint }>;

/** Due timers taken per worker pass; the rest wait for the next pass. */
export const CLAIM_TIMERS_BATCH_MAX = 100;

export interface ClaimRow {
  id: string;
  role: ClaimRole;
  claim_type: string;
  key: string;
  key_type: string;
  status: string;
  claimer_ispb: string;
  donor_ispb: string;
  claimer_branch: string;
  claimer_account_number: string;
  claimer_account_type: string;
  claimer_opened_at: Date;
  claimer_owner_type: string;
  claimer_tax_id: string;
  claimer_name: string;
  claimer_trade_name: string | null;
  resolution_period_end: Date;
  completion_period_end: Date;
  last_modified: Date;
  confirm_reason: string | null;
  cancel_reason: string | null;
  cancelled_by: string | null;
  complete_request_id: string | null;
  next_action: string | null;
  next_action_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export async function findClaim(sql: Q, id: string): Promise<ClaimRow | undefined> {
  return (await sql<ClaimRow[]>`select * from dict_claims where id = ${id}`)[0];
}

export async function findClaimForUpdate(tx: TransactionSql<{ bigint: bigint }>, id: string): Promise<ClaimRow | undefined> {
  return (await tx<ClaimRow[]>`select * from dict_claims where id = ${id} for update`)[0];
}

export async function listClaimRows(sql: Q, f: { role?: ClaimRole | undefined; status?: string | undefined; limit: number }): Promise<ClaimRow[]> {
  return sql<ClaimRow[]>`select * from dict_claims where true
    ${f.role ? sql`and role = ${f.role}` : sql``} ${f.status ? sql`and status = ${f.status}` : sql``}
    order by last_modified desc limit ${f.limit}`;
}

/** Inserts or refreshes the row from DICT's view of the claim, and sets its timer. */
export async function upsertClaim(tx: TransactionSql<{ bigint: bigint }>, c: DictClaim, role: ClaimRole, timer: Timer | null, at: Date): Promise<void> {
  const a = c.claimerAccount;
  await tx`insert into dict_claims (id, role, claim_type, key, key_type, status, claimer_ispb, donor_ispb, claimer_branch, claimer_account_number,
      claimer_account_type, claimer_opened_at, claimer_owner_type, claimer_tax_id, claimer_name, claimer_trade_name, resolution_period_end,
      completion_period_end, last_modified, confirm_reason, cancel_reason, cancelled_by, next_action, next_action_at, created_at, updated_at)
    values (${c.id}, ${role}, ${c.type}, ${c.key}, ${c.keyType}, ${c.status}, ${a.participant}, ${c.donorParticipant}, ${a.branch}, ${a.accountNumber},
      ${a.accountType}, ${a.openingDate}, ${c.claimer.type}, ${c.claimer.taxIdNumber}, ${c.claimer.name}, ${c.claimer.tradeName ?? null},
      ${c.resolutionPeriodEnd}, ${c.completionPeriodEnd}, ${c.lastModified}, ${c.confirmReason ?? null}, ${c.cancelReason ?? null},
      ${c.cancelledBy ?? null}, ${timer?.action ?? null}, ${timer ? new Date(timer.atMs) : null}, ${at}, ${at})
    on conflict (id) do update set status = excluded.status, resolution_period_end = excluded.resolution_period_end,
      completion_period_end = excluded.completion_period_end, last_modified = excluded.last_modified,
      confirm_reason = excluded.confirm_reason, cancel_reason = excluded.cancel_reason, cancelled_by = excluded.cancelled_by,
      next_action = excluded.next_action, next_action_at = excluded.next_action_at, updated_at = excluded.updated_at`;
}

export async function dueClaims(sql: Q, now: Date): Promise<ClaimRow[]> {
  return sql<ClaimRow[]>`select * from dict_claims where next_action_at <= ${now} order by next_action_at limit ${CLAIM_TIMERS_BATCH_MAX}`;
}

export async function readCursor(sql: Q, name: string): Promise<Date | undefined> {
  return (await sql<{ cursor_at: Date }[]>`select cursor_at from dict_sync_cursors where name = ${name}`)[0]?.cursor_at;
}

export async function writeCursor(sql: Q, name: string, at: Date, now: Date): Promise<void> {
  await sql`insert into dict_sync_cursors (name, cursor_at, updated_at) values (${name}, ${at}, ${now})
    on conflict (name) do update set cursor_at = greatest(dict_sync_cursors.cursor_at, excluded.cursor_at), updated_at = excluded.updated_at`;
}
