// An STR transfer as we record it: the row is written PENDING before BACEN is asked (so reconciliation
// knows of every transfer we requested, even if we crash mid-call), then APPLIED, or FAILED when BACEN
// refuses it. A call that got no answer stays PENDING: BACEN applies a TransferId once, so asking again
// with the same id is safe, and reconciliation shows whether it was booked.
import type { Sql } from 'postgres';
import type { Clock } from '../../../shared/clock.ts';
import { fail, type Result } from '../../../shared/result.ts';
import type { SettlementBacen, StrDirection, StrTransferResult } from './client.ts';

export type StrOrigin = 'AUTO_TOPUP' | 'MANUAL';

export async function strTransfer(
  deps: { sql: Sql<{ bigint: bigint }>; bacen: SettlementBacen; clock: Clock },
  t: { id: string; direction: StrDirection; amountCentavos: bigint; origin: StrOrigin },
): Promise<Result<StrTransferResult>> {
  const { sql, bacen, clock } = deps;
  const [existing] = await sql<{ direction: string; amount_centavos: bigint }[]>`
    insert into str_transfers (id, direction, amount_centavos, status, origin, requested_at)
    values (${t.id}, ${t.direction}, ${t.amountCentavos}, 'PENDING', ${t.origin}, ${clock.now()})
    on conflict (id) do update set id = excluded.id
    returning direction, amount_centavos`;
  if (existing!.direction !== t.direction || existing!.amount_centavos !== t.amountCentavos) {
    return fail('Conflict', `STR transfer ${t.id} was already requested with other terms`, 'id', 'unique');
  }
  const moved = await bacen.transfer(t);
  if (moved.ok) {
    await sql`update str_transfers set status = 'APPLIED', applied_at = coalesce(applied_at, ${clock.now()}), reason = null where id = ${t.id}`;
  } else if (moved.error.code === 'Conflict') {
    await sql`update str_transfers set status = 'FAILED', reason = ${moved.error.detail.slice(0, 500)} where id = ${t.id} and status = 'PENDING'`;
  }
  return moved;
}
