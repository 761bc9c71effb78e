// GET /messages/:e2e — every SPI message of a payment (ours and theirs), signed XML byte for byte.
import { Elysia, t } from 'elysia';
import type { Sql } from 'postgres';
import { timeOfId } from '../../../shared/ids.ts';

export interface StoredMessage {
  msgId: string;
  type: string;
  direction: 'IN' | 'OUT';
  at: string;
  signedXml: string;
}

/** Messages of one EndToEndId, oldest first; reads only the months around its timestamp. */
export async function messagesOf(sql: Sql<{ bigint: bigint }>, e2e: string): Promise<StoredMessage[]> {
  const at = timeOfId(e2e) ?? new Date(0);
  const rows = await sql`select msg_id, msg_type, direction, created_at, signed_xml from spi_messages
    where end_to_end_id = ${e2e} and created_at >= ${new Date(at.getTime() - 86_400_000)} order by created_at, id`;
  return rows.map((r) => ({ msgId: r.msg_id, type: r.msg_type, direction: r.direction, at: (r.created_at as Date).toISOString(), signedXml: r.signed_xml }));
}

export function messageRoutes(sql: Sql<{ bigint: bigint }>) {
  return new Elysia({ detail: { tags: ['messages'] } }).get('/messages/:e2e', ({ params }) => messagesOf(sql, params.e2e), {
    params: t.Object({ e2e: t.String({ pattern: '^E[0-9A-Z]{8}[0-9]{12}[a-zA-Z0-9]{11}$' }) }),
    detail: { summary: 'The signed SPI messages of a payment, both directions' },
  });
}
