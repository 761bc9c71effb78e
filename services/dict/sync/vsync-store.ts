// VSync per key type kept incrementally (PIX.md § Reconciliation): every CID added to or removed from
// pix_keys is XORed into dict_vsyncs in the same transaction. The row lock serialises writers of one key
// type; registrations are a few per second, far from making it a bottleneck.
import type { Sql, TransactionSql } from 'postgres';
import { xorHex } from '../../../shared/dict/cid.ts';

type Q = Sql<{ bigint: bigint }> | TransactionSql<{ bigint: bigint }>;

export async function applyCid(tx: TransactionSql<{ bigint: bigint }>, keyType: string, cid: string, change: 'add' | 'remove', at: Date): Promise<string> {
  const [row] = await tx<{ vsync: string }[]>`select vsync from dict_vsyncs where key_type = ${keyType} for update`;
  if (!row) throw new Error(`dict_vsyncs has no row for ${keyType}: migration 0002 not applied?`);
  const next = xorHex(row.vsync, cid);
  const delta = change === 'add' ? 1 : -1;
  await tx`update dict_vsyncs set vsync = ${next}, entries = entries + ${delta}, updated_at = ${at} where key_type = ${keyType}`;
  return next;
}

export async function readVsync(sql: Q, keyType: string): Promise<{ vsync: string; entries: bigint }> {
  const [row] = await sql<{ vsync: string; entries: bigint }[]>`select vsync, entries from dict_vsyncs where key_type = ${keyType}`;
  if (!row) throw new Error(`dict_vsyncs has no row for ${keyType}`);
  return row;
}
