// VSync of a participant's set of one key type. The live value is the XOR of the CIDs in dict_entries;
// the value at an instant is the XOR of the CID events up to it (each add and each remove is one XOR),
// which is how ListCidSetEvents reports SyncVerifierStart/End.
import type { Sql } from 'postgres';
import { VSYNC_EMPTY } from '../../../../shared/dict/cid.ts';

const hex = (bits: string | null): string => {
  if (!bits) return VSYNC_EMPTY;
  let out = '';
  for (let i = 0; i < bits.length; i += 4) out += parseInt(bits.slice(i, i + 4), 2).toString(16);
  return out;
};

export async function liveVsync(sql: Sql<{ bigint: bigint }>, participant: string, keyType: string): Promise<string> {
  const [row] = await sql<{ v: string | null }[]>`
    select bit_xor(('x' || cid)::bit(256))::text as v from dict_entries where participant = ${participant} and key_type = ${keyType}`;
  return hex(row?.v ?? null);
}

/** VSync after the events up to and including event id `uptoId` (or time `upto`). */
export async function vsyncAtEvent(sql: Sql<{ bigint: bigint }>, participant: string, keyType: string, upto: { id?: bigint; at?: Date }): Promise<string> {
  const [row] = await sql<{ v: string | null }[]>`
    select bit_xor(('x' || cid)::bit(256))::text as v from dict_cid_events
    where participant = ${participant} and key_type = ${keyType}
      and (${upto.id ?? null}::bigint is null or id <= ${upto.id ?? null})
      and (${upto.at ?? null}::timestamptz is null or at < ${upto.at ?? null})`;
  return hex(row?.v ?? null);
}
