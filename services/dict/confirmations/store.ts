// SQL for confirmation codes (sql/0002_dict.sql dict_confirmations).
import type { Sql, TransactionSql } from 'postgres';
import type { ConfirmationRow } from './code.ts';

type Q = Sql<{ bigint: bigint }> | TransactionSql<{ bigint: bigint }>;

export interface NewConfirmation {
  id: string;
  keyType: string;
  key: string;
  participant: string;
  branch: string;
  accountNumber: string;
  ownerTaxId: string;
  codeSha256: string;
  expiresAt: Date;
  createdAt: Date;
}

export async function insertConfirmation(sql: Q, c: NewConfirmation): Promise<void> {
  await sql`insert into dict_confirmations (id, key_type, key, participant_ispb, branch, account_number, owner_tax_id, code_sha256, expires_at, created_at)
    values (${c.id}, ${c.keyType}, ${c.key}, ${c.participant}, ${c.branch}, ${c.accountNumber}, ${c.ownerTaxId}, ${c.codeSha256}, ${c.expiresAt}, ${c.createdAt})`;
}

export async function findConfirmation(sql: Q, id: string): Promise<ConfirmationRow | undefined> {
  const rows = await sql<ConfirmationRow[]>`select * from dict_confirmations where id = ${id}`;
  return rows[0];
}

export async function countWrongAttempt(sql: Q, id: string): Promise<void> {
  await sql`update dict_confirmations set attempts = attempts + 1 where id = ${id}`;
}

export async function markConfirmed(sql: Q, id: string, at: Date): Promise<void> {
  await sql`update dict_confirmations set confirmed_at = coalesce(confirmed_at, ${at}) where id = ${id}`;
}

/** Inside the registration transaction: a code proves ownership for exactly one registration. */
export async function consumeConfirmation(sql: Q, id: string, at: Date): Promise<boolean> {
  const rows = await sql`update dict_confirmations set consumed_at = ${at} where id = ${id} and consumed_at is null returning id`;
  return rows.length === 1;
}
