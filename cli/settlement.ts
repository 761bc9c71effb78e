// ./fluxiq settlement report [--window ID]: the net position per participant of one window (the latest
// closed one by default), with its gross totals; exits 1 when the positions do not sum to zero.
import type { Config } from '../shared/config.ts';
import { createDb } from '../shared/db/client.ts';
import { formatAmount } from '../shared/money.ts';
import { signedAmount } from '../services/settlement/windows/routes.ts';
import { windowReport } from '../services/settlement/windows/store.ts';

const USAGE = 'usage: fluxiq settlement report [--window W<yyyyMMddHH>]';

export async function settlementCommand(config: Config, args: string[]): Promise<number> {
  const [action, flag, value] = args;
  if (action !== 'report' || (flag !== undefined && (flag !== '--window' || !/^W[0-9]{10}$/.test(value ?? '')))) {
    console.error(USAGE);
    return 2;
  }
  const { sql, close } = createDb(config);
  try {
    let id = value;
    if (id === undefined) {
      const [latest] = await sql<{ id: string }[]>`select id from settlement_windows where state in ('CLOSED', 'SETTLED', 'RECONCILIATION_FAILED') order by starts_at desc limit 1`;
      if (latest === undefined) {
        console.log('no closed settlement window yet');
        return 0;
      }
      id = latest.id;
    }
    const report = await windowReport(sql, id);
    if (report === undefined) {
      console.error(`fluxiq settlement: no window ${id}`);
      return 1;
    }
    const w = report.window;
    console.log(`window ${w.id}  ${w.startsAt.toISOString()} → ${w.endsAt.toISOString()}  ${w.state}  ${w.payments} payments  gross ${formatAmount(w.grossCentavos)}`);
    console.log(`${'participant'.padEnd(12)}${'gross debit'.padStart(18)}${'gross credit'.padStart(18)}${'net'.padStart(18)}`);
    for (const p of report.positions) {
      console.log(`${p.ispb.padEnd(12)}${formatAmount(p.grossDebitCentavos).padStart(18)}${formatAmount(p.grossCreditCentavos).padStart(18)}${signedAmount(p.netCentavos).padStart(18)}`);
    }
    console.log(`${'Σ net'.padEnd(12)}${signedAmount(report.netSumCentavos).padStart(54)}`);
    return report.netSumCentavos === 0n ? 0 : 1;
  } finally {
    await close();
  }
}
