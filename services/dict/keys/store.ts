// SQL for our entries in pix_keys (sql/0001_init.sql). Writes run inside the caller's transaction, with
// the VSync update, the audit row and the outbox event.
import type { Sql, TransactionSql } from 'postgres';
import type { DictEntry } from '../dictapi/types.ts';

type Q = Sql<{ bigint: bigint }> | TransactionSql<{ bigint: bigint }>;

export interface KeyRow {
  key: string;
  key_type: string;
  participant_ispb: string;
  branch: string;
  account_number: string;
  account_type: string;
  account_opened_at: Date;
  owner_type: string;
  owner_tax_id: string;
  owner_name: string;
  owner_trade_name: string | null;
  status: string;
  cid: string;
  request_id: string;
  key_owned_since: Date;
  created_at: Date;
  updated_at: Date;
}

export interface AccountRef {
  participant: string;
  branch: string;
  accountNumber: string;
  accountType: string;
}

export async function findKey(sql: Q, key: string): Promise<KeyRow | undefined> {
  const rows = await sql<KeyRow[]>`select * from pix_keys where key = ${key}`;
  return rows[0];
}

export async function findKeyForUpdate(tx: TransactionSql<{ bigint: bigint }>, key: string): Promise<KeyRow | undefined> {
  const rows = await tx<KeyRow[]>`select * from pix_keys where key = ${key} for update`;
  return rows[0];
}

export async function listAccountKeys(sql: Q, a: AccountRef): Promise<KeyRow[]> {
  return sql<KeyRow[]>`select * from pix_keys where participant_ispb = ${a.participant} and branch = ${a.branch}
    and account_number = ${a.accountNumber} and account_type = ${a.accountType} order by created_at, key`;
}

export async function countAccountKeys(sql: Q, a: AccountRef): Promise<number> {
  const [row] = await sql<{ n: bigint }[]>`select count(*)::bigint as n from pix_keys where participant_ispb = ${a.participant}
    and branch = ${a.branch} and account_number = ${a.accountNumber} and account_type = ${a.accountType}`;
  return Number(row?.n ?? 0n);
}

/** Locks the account's rows so two concurrent registrations cannot both pass the limit check. */
export async function lockAccount(tx: TransactionSql<{ bigint: bigint }>, a: AccountRef): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtext(${`${a.participant}/${a.branch}/${a.accountNumber}/${a.accountType}`}))`;
}

export async function insertKey(tx: TransactionSql<{ bigint: bigint }>, e: DictEntry, cid: string, requestId: string, at: Date): Promise<KeyRow> {
  const [row] = await tx<KeyRow[]>`insert into pix_keys (key, key_type, participant_ispb, branch, account_number, account_type,
      account_opened_at, owner_type, owner_tax_id, owner_name, owner_trade_name, status, cid, request_id, key_owned_since, created_at, updated_at)
    values (${e.key}, ${e.keyType}, ${e.account.participant}, ${e.account.branch}, ${e.account.accountNumber}, ${e.account.accountType},
      ${e.account.openingDate}, ${e.owner.type}, ${e.owner.taxIdNumber}, ${e.owner.name}, ${e.owner.tradeName ?? null}, 'ACTIVE', ${cid},
      ${requestId}, ${e.keyOwnershipDate}, ${e.creationDate}, ${at})
    returning *`;
  return row!;
}

export async function deleteKeyRow(tx: TransactionSql<{ bigint: bigint }>, key: string): Promise<KeyRow | undefined> {
  const rows = await tx<KeyRow[]>`delete from pix_keys where key = ${key} returning *`;
  return rows[0];
}

export async function setKeyStatus(tx: TransactionSql<{ bigint: bigint }>, key: string, status: string, at: Date): Promise<void> {
  await tx`update pix_keys set status = ${status}, updated_at = ${at} where key = ${key}`;
}

export function entryOfRow(r: KeyRow): DictEntry {
  return {
    key: r.key,
    keyType: r.key_type as DictEntry['keyType'],
    account: { participant: r.participant_ispb, branch: r.branch, accountNumber: r.account_number, accountType: r.account_type as DictEntry['account']['accountType'], openingDate: r.account_opened_at },
    owner: { type: r.owner_type as DictEntry['owner']['type'], taxIdNumber: r.owner_tax_id, name: r.owner_name, ...(r.owner_trade_name ? { tradeName: r.owner_trade_name } : {}) },
    creationDate: r.created_at,
    keyOwnershipDate: r.key_owned_since,
  };
}
