// ./fluxiq recon report [--date yyyy-mm-dd]: reconciles that UTC day (today by default, up to now)
// against BACEN's camt.053, stores the run, prints the summary and every unexplained mismatch, and exits
// 1 when any mismatch is unexplained (so a cron job or CI step fails loudly).
import type { Config } from '../shared/config.ts';
import { systemClock } from '../shared/clock.ts';
import { createDb } from '../shared/db/client.ts';
import { createLogger } from '../shared/telemetry.ts';
import { MISMATCH_KINDS } from '../services/settlement/recon/reconcile.ts';
import { dayPeriod, runReconciliation } from '../services/settlement/recon/run.ts';
import { wireSettlementBacen } from '../services/settlement/str/wiring.ts';

const USAGE = 'usage: fluxiq recon report [--date yyyy-mm-dd]';

export async function reconCommand(config: Config, args: string[]): Promise<number> {
  const [action, flag, value] = args;
  const date = flag === undefined ? new Date().toISOString().slice(0, 10) : value;
  if (action !== 'report' || (flag !== undefined && flag !== '--date') || date === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(date)) {
    console.error(USAGE);
    return 2;
  }
  const logger = createLogger('recon', config.logLevel === 'info' ? 'warn' : config.logLevel);
  const { sql, close } = createDb(config, logger);
  const bacen = await wireSettlementBacen({ config, logger });
  try {
    const run = await runReconciliation({ sql, bacen: bacen.bacen, clock: systemClock }, dayPeriod(date));
    if (!run.ok) {
      console.error(`fluxiq recon: ${run.error.detail}`);
      return 1;
    }
    const r = run.value;
    console.log(`reconciliation #${r.id}  ${r.from.toISOString()} → ${r.to.toISOString()}  matched ${r.matched}  mismatches ${r.mismatches.length}  unexplained ${r.unexplained}`);
    for (const k of MISMATCH_KINDS) console.log(`  ${k.padEnd(16)}${String(r.summary[k]).padStart(6)}`);
    for (const m of r.mismatches) console.log(`${m.explained ? 'explained  ' : 'UNEXPLAINED'} ${m.kind.padEnd(15)} ${m.reference}  ${m.detail}`);
    return r.unexplained === 0 ? 0 : 1;
  } finally {
    await bacen.close();
    await close();
  }
}
