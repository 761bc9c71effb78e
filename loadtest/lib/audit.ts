// The loss audit after a run: every payment the platform accepted (201/202 with an EndToEndId) is in
// Postgres exactly once with a final status, and the money agrees: what settled leaves the payer's
// ledger account and our PI account at the sandbox, to the centavo.
import type { Sql } from 'postgres';

export const FINAL_STATUSES = ['SETTLED', 'REJECTED', 'RELEASED'];
/** Undecided payments are waited for this long after the run before they count as lost. */
export const AUDIT_DRAIN_MS_MAX = 30_000;
const IDS_PER_QUERY = 5_000;

export interface Audit {
  accepted: number;
  found: number;
  settled: number;
  rejected: number;
  /** accepted but not in Postgres with a final status after the drain */
  lost: number;
  /** EndToEndIds stored more than once */
  duplicated: number;
  settledCentavos: bigint;
  byStatus: Record<string, number>;
}

export async function auditPayments(sql: Sql<any>, accepted: string[]): Promise<Audit> {
  const until = performance.now() + AUDIT_DRAIN_MS_MAX;
  let rows: { end_to_end_id: string; status: string; amount_centavos: bigint; n: number }[] = [];
  for (;;) {
    rows = [];
    for (let i = 0; i < accepted.length; i += IDS_PER_QUERY) {
      rows.push(...(await sql<typeof rows>`
        select end_to_end_id, min(status) as status, sum(amount_centavos) as amount_centavos, count(*)::int as n
        from transactions where end_to_end_id in ${sql(accepted.slice(i, i + IDS_PER_QUERY))} and direction = 'OUTBOUND'
        group by end_to_end_id`));
    }
    const open = rows.filter((r) => !FINAL_STATUSES.includes(r.status)).length;
    if ((open === 0 && rows.length === accepted.length) || performance.now() > until) break;
    await Bun.sleep(250);
  }
  const byStatus: Record<string, number> = {};
  let settledCentavos = 0n;
  for (const r of rows) {
    byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    if (r.status === 'SETTLED' && r.n === 1) settledCentavos += BigInt(r.amount_centavos);
  }
  const final = rows.filter((r) => FINAL_STATUSES.includes(r.status)).length;
  return {
    accepted: accepted.length, found: rows.length, settled: byStatus.SETTLED ?? 0, rejected: (byStatus.REJECTED ?? 0) + (byStatus.RELEASED ?? 0),
    lost: accepted.length - final, duplicated: rows.filter((r) => r.n > 1).length, settledCentavos, byStatus,
  };
}
