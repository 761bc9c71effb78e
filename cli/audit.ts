// ./fluxiq audit verify [--from yyyy-mm-dd] [--to yyyy-mm-dd]: walks audit_log's hash chain (all of it, or
// the rows of those UTC days, both inclusive), prints progress on stderr while it works, and exits 1
// naming the first broken row. On success it prints the last row's hash: keep it outside the database.
import type { Config } from '../shared/config.ts';
import { verifyAuditChain, type VerifyOptions } from '../shared/audit.ts';
import { createDb } from '../shared/db/client.ts';
import { createLogger } from '../shared/telemetry.ts';

const USAGE = 'usage: fluxiq audit verify [--from yyyy-mm-dd] [--to yyyy-mm-dd]';
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

export function parseAuditArgs(args: string[]): VerifyOptions | null {
  const [action, ...flags] = args;
  if (action !== 'verify' || flags.length % 2 !== 0) return null;
  const opts: VerifyOptions = {};
  for (let i = 0; i < flags.length; i += 2) {
    const [flag, value] = [flags[i], flags[i + 1] ?? ''];
    const day = DAY.test(value) ? new Date(`${value}T00:00:00Z`) : null;
    if (day === null || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) return null;
    if (flag === '--from') opts.from = day;
    else if (flag === '--to') opts.to = new Date(day.getTime() + DAY_MS);
    else return null;
  }
  if (opts.from && opts.to && opts.from >= opts.to) return null;
  return opts;
}

export async function auditCommand(config: Config, args: string[]): Promise<number> {
  const opts = parseAuditArgs(args);
  if (opts === null) {
    console.error(USAGE);
    return 2;
  }
  const logger = createLogger('audit', config.logLevel === 'info' ? 'warn' : config.logLevel);
  const { sql, close } = createDb(config, logger);
  try {
    const started = performance.now();
    const report = await verifyAuditChain(sql, {
      ...opts,
      onProgress: (checked, total) => console.error(`audit verify: ${checked} of ${total} rows checked…`),
    });
    const ms = Math.round(performance.now() - started);
    if (report.broken !== null) {
      const b = report.broken;
      const row = b.id === null ? `chain_seq ${b.chainSeq}` : `chain_seq ${b.chainSeq} (id ${b.id}, at ${b.at?.toISOString()})`;
      console.error(`audit verify: BROKEN at ${row}: ${b.reason}: ${b.detail} (${report.rows} rows verified before it)`);
      return 1;
    }
    if (report.rows === 0) {
      console.log('audit verify: no audit rows in that range');
      return 0;
    }
    console.log(`audit verify: ok, rows ${report.firstSeq}..${report.lastSeq} (${report.rows}) in ${ms} ms; last hash ${report.lastHash}`);
    return 0;
  } finally {
    await close();
  }
}
