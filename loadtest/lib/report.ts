// Printing: a readable table, then the one JSON object that is the scenario's last line.
import type { ProcUse } from './procstat.ts';

export function table(title: string, rows: [string, string | number][]): void {
  console.log(title);
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
}

export function processTable(use: ProcUse[]): void {
  console.log('  process      CPU % of a core   peak RSS MB');
  for (const u of use) console.log(`  ${u.name.padEnd(12)} ${String(u.cpuPct).padStart(15)} ${String(u.rssMbPeak).padStart(13)}`);
}

export const processJson = (use: ProcUse[]) => Object.fromEntries(use.map((u) => [u.name, { cpu_pct: u.cpuPct, rss_mb_peak: u.rssMbPeak }]));

/** The last line of every scenario. */
export function lastLine(o: Record<string, unknown>): void {
  console.log(JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
}
