// Batched transaction inserts into the partitioned `transactions` table versus psql `\copy` of the SAME rows
// in the same run (the ceiling): postgres.js `COPY … FROM STDIN` in 5,000-row batches (what a batch writer
// can use), and multi-row INSERT in 1,000-row batches for reference. Rows are transaction-like (a ~300-byte
// signed XML, unique EndToEndIds, the current month's partition with its unique index). Runs in its own
// schema (t_…, dropped afterwards); needs Postgres only, not the platform.
// Prints a table; the LAST line is one JSON object: rows, rows_per_s (COPY batches), copy_rows_per_s (psql
// \copy), ratio (goal ≥ 0.8), insert_rows_per_s, insert_ratio.
// Usage: bun loadtest/insert.ts [--rows 200000]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../shared/clock.ts';
import { createDb, ensureDatabase } from '../shared/db/client.ts';
import { dropSchema, migrate } from '../shared/db/migrate.ts';
import { ensurePartitions } from '../shared/db/partitions.ts';
import { testConfig } from '../test/support/env.ts';
import { numberFlag } from './lib/args.ts';
import { loadAverage } from './lib/procstat.ts';
import { lastLine, table } from './lib/report.ts';

const ROWS = numberFlag('rows', 200_000, 2_000_000);
export const COPY_BATCH_ROWS = 5_000;
export const INSERT_BATCH_ROWS = 1_000;

const COLUMNS = ['end_to_end_id', 'direction', 'status', 'amount_centavos', 'debtor_ispb', 'debtor_branch', 'debtor_account', 'debtor_account_type', 'debtor_tax_id', 'debtor_name',
  'creditor_ispb', 'creditor_branch', 'creditor_account', 'creditor_account_type', 'creditor_tax_id', 'creditor_name', 'initiation_form', 'pacs002_status', 'settled_at', 'signed_xml'] as const;

const now = new Date();
const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 12);
const run = Math.random().toString(36).slice(2, 6).padEnd(4, '0');
function row(i: number): (string | number)[] {
  const e2e = `E12345678${stamp}${run}${String(i).padStart(7, '0')}`;
  const xml = `<Envelope><AppHdr><Fr>12345678</Fr><To>00038166</To><BizMsgIdr>M12345678${stamp}${i}</BizMsgIdr></AppHdr><Document><EndToEndId>${e2e}</EndToEndId><IntrBkSttlmAmt Ccy="BRL">${(i % 9999) + 1}.00</IntrBkSttlmAmt><Cdtr>Loja ${i % 97}</Cdtr></Document></Envelope>`;
  return [e2e, 'OUTBOUND', 'SETTLED', (i % 999_999) + 1, '12345678', '0909', String(100_000 + (i % 50_000)), 'CACC', '52998224725', 'Carga FluxiQ',
    '10000001', '0001', String(200_000 + (i % 70_000)), 'CACC', '11222333000181', 'Loja Carga', 'DICT', 'ACSC', now.toISOString(), xml];
}
const csvField = (v: string | number) => (typeof v === 'number' || /^[\w.:+-]*$/.test(v) ? String(v) : `"${v.replace(/"/g, '""')}"`);
const rows = Array.from({ length: ROWS }, (_, i) => row(i));
const csvLines = rows.map((r) => r.map(csvField).join(',') + '\n');

const config = testConfig('loadtest_insert');
await ensureDatabase(config.databaseUrl);
const { sql, close } = createDb(config);
await migrate(sql, { schema: config.dbSchema });
await ensurePartitions(sql, { clock: systemClock });
const dir = mkdtempSync(join(tmpdir(), 'fluxiq-insert-'));
const file = join(dir, 'rows.csv');
writeFileSync(file, csvLines.join(''));
const reset = () => sql`truncate transactions`;
const count = async () => Number((await sql<{ n: number }[]>`select count(*)::int as n from transactions`)[0]!.n);

async function timed(what: string, f: () => Promise<void>): Promise<number> {
  await reset();
  await sql`checkpoint`.catch(() => {}); // not allowed for every role: then the figures just carry more noise
  const t0 = performance.now();
  await f();
  const s = (performance.now() - t0) / 1000;
  const n = await count();
  if (n !== ROWS) throw new Error(`${what}: ${n} rows stored, expected ${ROWS}`);
  return Math.round(ROWS / s);
}

try {
  const copyPsql = await timed('psql \\copy', async () => {
    const p = Bun.spawnSync(['psql', config.databaseUrl, '-v', 'ON_ERROR_STOP=1', '-q', '-c',
      `\\copy "${config.dbSchema}".transactions (${COLUMNS.join(', ')}) from '${file}' with (format csv)`], { stdout: 'pipe', stderr: 'pipe' });
    if (p.exitCode !== 0) throw new Error(`psql \\copy failed: ${p.stderr.toString()}`);
  });
  const copyBatches = await timed('postgres.js COPY', async () => {
    for (let i = 0; i < ROWS; i += COPY_BATCH_ROWS) {
      const w = await sql`copy transactions (${sql(COLUMNS as unknown as string[])}) from stdin with (format csv)`.writable();
      const done = new Promise<void>((resolve, reject) => { w.on('finish', resolve); w.on('error', reject); });
      w.write(csvLines.slice(i, i + COPY_BATCH_ROWS).join(''));
      w.end();
      await done;
    }
  });
  const inserts = await timed('multi-row INSERT', async () => {
    for (let i = 0; i < ROWS; i += INSERT_BATCH_ROWS) {
      const batch = rows.slice(i, i + INSERT_BATCH_ROWS).map((r) => Object.fromEntries(COLUMNS.map((c, k) => [c, r[k]])));
      await sql`insert into transactions ${sql(batch as never, COLUMNS as unknown as string[])}`;
    }
  });
  const load = loadAverage();
  const ratio = Number((copyBatches / copyPsql).toFixed(2));
  table(`${ROWS} transaction rows into the partitioned table (unique EndToEndId index, ~300-byte XML); load average ${load.join(' ')}`, [
    ['psql \\copy (ceiling)', `${copyPsql} rows/s`],
    [`postgres.js COPY, ${COPY_BATCH_ROWS}-row batches`, `${copyBatches} rows/s (${ratio}× \\copy)`],
    [`multi-row INSERT, ${INSERT_BATCH_ROWS}-row batches`, `${inserts} rows/s (${(inserts / copyPsql).toFixed(2)}× \\copy)`],
  ]);
  lastLine({ rows: ROWS, rows_per_s: copyBatches, copy_rows_per_s: copyPsql, ratio, insert_rows_per_s: inserts, insert_ratio: Number((inserts / copyPsql).toFixed(2)), load_avg: load });
} finally {
  rmSync(dir, { recursive: true, force: true });
  await dropSchema(sql, config.dbSchema);
  await close();
}
process.exit(0);
