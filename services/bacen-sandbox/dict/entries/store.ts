// SQL for entries. Every insert and delete writes its CID event in the same transaction, so the event log
// always XORs to the live set (reconciliation/vsync.ts relies on it).
import type { Sql, TransactionSql } from 'postgres';
import { computeCid, type CidEntry } from '../../../../shared/dict/cid.ts';
import type { Entry } from '../../../../shared/dict/messages.ts';
import { compact, iso } from '../http.ts';

type Tx = Sql<{ bigint: bigint }> | TransactionSql<{ bigint: bigint }>;

export interface EntryRow {
  key: string;
  key_type: string;
  participant: string;
  branch: string | null;
  account_number: string;
  account_type: string;
  opening_date: Date;
  owner_type: string;
  owner_tax_id: string;
  owner_name: string;
  owner_trade_name: string | null;
  request_id: string;
  cid: string;
  created_at: Date;
  key_ownership_date: Date;
  updated_at: Date;
}

export function entryOf(row: EntryRow, openClaimCreationDate?: Date | null): Entry {
  return compact({
    key: row.key,
    keyType: row.key_type as Entry['keyType'],
    account: compact({
      participant: row.participant,
      branch: row.branch ?? undefined,
      accountNumber: row.account_number,
      accountType: row.account_type as Entry['account']['accountType'],
      openingDate: iso(row.opening_date)!,
    }),
    owner: compact({ type: row.owner_type as Entry['owner']['type'], taxIdNumber: row.owner_tax_id, name: row.owner_name, tradeName: row.owner_trade_name ?? undefined }),
    creationDate: iso(row.created_at),
    keyOwnershipDate: iso(row.key_ownership_date),
    openClaimCreationDate: iso(openClaimCreationDate),
  });
}

export function cidEntryOf(e: Pick<Entry, 'key' | 'keyType' | 'account' | 'owner'>): CidEntry {
  return {
    keyType: e.keyType,
    key: e.key,
    ownerTaxIdNumber: e.owner.taxIdNumber,
    ownerName: e.owner.name,
    ownerTradeName: e.owner.tradeName ?? null,
    participant: e.account.participant,
    branch: e.account.branch ?? null,
    accountNumber: e.account.accountNumber,
    accountType: e.account.accountType,
  };
}

export async function findEntry(sql: Tx, key: string, forUpdate = false): Promise<EntryRow | undefined> {
  const [row] = forUpdate
    ? await sql<EntryRow[]>`select * from dict_entries where key = ${key} for update`
    : await sql<EntryRow[]>`select * from dict_entries where key = ${key}`;
  return row;
}

export async function openClaimCreatedAt(sql: Tx, key: string): Promise<Date | null> {
  const [row] = await sql<{ created_at: Date }[]>`select created_at from dict_claims where key = ${key} and status not in ('COMPLETED', 'CANCELLED')`;
  return row?.created_at ?? null;
}

export async function countAccountEntries(sql: Tx, account: Entry['account']): Promise<number> {
  const [row] = await sql<{ n: bigint }[]>`
    select count(*) as n from dict_entries
    where participant = ${account.participant} and branch is not distinct from ${account.branch ?? null} and account_number = ${account.accountNumber}`;
  return Number(row!.n);
}

async function cidEvent(sql: Tx, participant: string, keyType: string, type: 'ADDED' | 'REMOVED', cid: string, at: Date): Promise<void> {
  await sql`insert into dict_cid_events (participant, key_type, type, cid, at) values (${participant}, ${keyType}, ${type}, ${cid}, ${at})`;
}

/** Inserts an entry created by `requestId`; returns its CID. */
export async function insertEntry(sql: Tx, e: Entry, requestId: string, at: Date, keyOwnershipDate: Date): Promise<string> {
  const cid = computeCid(requestId, cidEntryOf(e));
  await sql`
    insert into dict_entries (key, key_type, participant, branch, account_number, account_type, opening_date, owner_type, owner_tax_id,
                              owner_name, owner_trade_name, request_id, cid, created_at, key_ownership_date, updated_at)
    values (${e.key}, ${e.keyType}, ${e.account.participant}, ${e.account.branch ?? null}, ${e.account.accountNumber}, ${e.account.accountType},
            ${new Date(e.account.openingDate)}, ${e.owner.type}, ${e.owner.taxIdNumber}, ${e.owner.name}, ${e.owner.tradeName ?? null},
            ${requestId}, ${cid}, ${at}, ${keyOwnershipDate}, ${at})`;
  await cidEvent(sql, e.account.participant, e.keyType, 'ADDED', cid, at);
  return cid;
}

export async function deleteEntry(sql: Tx, row: EntryRow, at: Date): Promise<void> {
  await sql`delete from dict_entries where key = ${row.key}`;
  await cidEvent(sql, row.participant, row.key_type, 'REMOVED', row.cid, at);
}

/** Replaces account/owner data: the CID changes (same RequestId), logged as remove + add. */
export async function updateEntry(sql: Tx, row: EntryRow, e: Entry, at: Date): Promise<string> {
  const cid = computeCid(row.request_id, cidEntryOf(e));
  await sql`
    update dict_entries set branch = ${e.account.branch ?? null}, account_number = ${e.account.accountNumber}, account_type = ${e.account.accountType},
      opening_date = ${new Date(e.account.openingDate)}, owner_name = ${e.owner.name}, owner_trade_name = ${e.owner.tradeName ?? null},
      cid = ${cid}, updated_at = ${at}
    where key = ${row.key}`;
  await cidEvent(sql, row.participant, row.key_type, 'REMOVED', row.cid, at);
  await cidEvent(sql, row.participant, row.key_type, 'ADDED', cid, at);
  return cid;
}
