// Each participant's anti-scan category (A–F); BACEN assigns it, the control API sets it here. Unset → A.
import type { Sql } from 'postgres';
import { PARTICIPANT_CATEGORIES, type ParticipantCategory } from '../../../../shared/dict/buckets.ts';

export const DEFAULT_CATEGORY: ParticipantCategory = 'A';

export async function participantCategory(sql: Sql<{ bigint: bigint }>, ispb: string): Promise<ParticipantCategory> {
  const [row] = await sql<{ category: string }[]>`select category from dict_participant_categories where ispb = ${ispb}`;
  return row && (PARTICIPANT_CATEGORIES as readonly string[]).includes(row.category) ? (row.category as ParticipantCategory) : DEFAULT_CATEGORY;
}

export async function setParticipantCategory(sql: Sql<{ bigint: bigint }>, ispb: string, category: ParticipantCategory): Promise<void> {
  await sql`insert into dict_participant_categories (ispb, category) values (${ispb}, ${category})
            on conflict (ispb) do update set category = excluded.category`;
}
