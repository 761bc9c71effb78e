// An STR transfer as we record it: the row is written PENDING before BACEN is asked (so reconciliation
// knows of every transfer we requested, even if we crash mid-call), then APPLIED, or FAILED when BACEN
// refuses it. A call that got no answer stays PENDING: BACEN applies a TransferId once, so asking again
// with the same id is safe, and reconciliation shows whether it was booked.
// Each step that changes the row writes its audit row in the same transaction, last (issue 9): str.requested,
// str.applied (with our signed request and BACEN's signed answer, byte for byte) and str.failed. A repeated
// request or answer that changes nothing writes none.
import type { Sql } from 'postgres';
import { appendAudit, type AuditRecord } from '../../../shared/audit.ts';
import type { Clock } from '../../../shared/clock.ts';
import { fail, type Result } from '../../../shared/result.ts';
import type { SettlementBacen, StrDirection, StrTransferResult } from './client.ts';

export type StrOrigin = 'AUTO_TOPUP' | 'MANUAL';

/** audit_log.actor when the caller names nobody: the liquidity monitor's top-up, or the service itself */
const ACTOR_OF_ORIGIN: Record<StrOrigin, string> = { AUTO_TOPUP: 'settlement-liquidity', MANUAL: 'settlement' };

export async function strTransfer(
  deps: { sql: Sql<{ bigint: bigint }>; bacen: SettlementBacen; clock: Clock; actor?: string },
  t: { id: string; direction: StrDirection; amountCentavos: bigint; origin: StrOrigin },
): Promise<Result<StrTransferResult>> {
  const { sql, bacen, clock } = deps;
  const audit = (action: string, detail: Record<string, unknown>): AuditRecord => ({
    actor: deps.actor ?? ACTOR_OF_ORIGIN[t.origin], action, entityType: 'str_transfer', entityId: t.id,
    detail: { direction: t.direction, amountCentavos: t.amountCentavos.toString(), origin: t.origin, ...detail },
  });
  const existing = await sql.begin(async (tx) => {
    const now = clock.now();
    // (xmax = 0): the row was inserted now, not found (a repeated request updates it to itself)
    const [row] = await tx<{ direction: string; amount_centavos: bigint; inserted: boolean }[]>`
      insert into str_transfers (id, direction, amount_centavos, status, origin, requested_at)
      values (${t.id}, ${t.direction}, ${t.amountCentavos}, 'PENDING', ${t.origin}, ${now})
      on conflict (id) do update set id = excluded.id
      returning direction, amount_centavos, (xmax = 0) as inserted`;
    if (row!.inserted) await appendAudit(tx, audit('str.requested', { from: null, to: 'PENDING' }), now);
    return row!;
  });
  if (existing.direction !== t.direction || existing.amount_centavos !== t.amountCentavos) {
    return fail('Conflict', `STR transfer ${t.id} was already requested with other terms`, 'id', 'unique');
  }
  const moved = await bacen.transfer(t);
  if (moved.ok) {
    const m = moved.value;
    await sql.begin(async (tx) => {
      const now = clock.now();
      // from_status: the row before this statement (the subquery runs on the statement's snapshot)
      const [row] = await tx<{ from_status: string }[]>`
        update str_transfers s set status = 'APPLIED', applied_at = coalesce(s.applied_at, ${now}), reason = null
        where s.id = ${t.id} and s.status <> 'APPLIED'
        returning (select o.status from str_transfers o where o.id = s.id) as from_status`;
      if (row === undefined) return; // recorded as applied already
      await appendAudit(tx, audit('str.applied', {
        from: row.from_status, to: 'APPLIED', replayed: m.replayed, piBalanceCentavos: m.piCentavos.toString(), reserveBalanceCentavos: m.reserveCentavos.toString(),
        signedRequest: m.signed.request, signedAnswer: m.signed.answer,
      }), now);
    });
  } else if (moved.error.code === 'Conflict') {
    await sql.begin(async (tx) => {
      const now = clock.now();
      const reason = moved.error.detail.slice(0, 500);
      const [row] = await tx`update str_transfers set status = 'FAILED', reason = ${reason} where id = ${t.id} and status = 'PENDING' returning id`;
      if (row !== undefined) await appendAudit(tx, audit('str.failed', { from: 'PENDING', to: 'FAILED', reason }), now);
    });
  }
  return moved;
}
