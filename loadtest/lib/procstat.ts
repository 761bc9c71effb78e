// CPU and RSS per process from /proc, sampled while a scenario runs: the platform's services (found by
// their command line, `cli/main.ts serve <name>`), Postgres/NATS/Redis servers and the generator itself.
import { readdirSync, readFileSync } from 'node:fs';

/** Peak RSS is sampled this often. */
export const PROC_SAMPLE_MS = 500;
/** Linux clock ticks per second (USER_HZ, 100 on every Linux this runs on; `getconf CLK_TCK`). */
const TICKS_PER_S = Number(Bun.spawnSync(['getconf', 'CLK_TCK']).stdout.toString().trim()) || 100;

export interface ProcUse {
  name: string;
  pid: number;
  cpuPct: number;
  rssMbPeak: number;
}

const cpuTicks = (pid: number): number | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
  } catch {
    return null;
  }
};
const rssMb = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
};

/** The processes worth watching: FluxiQ services by name, infrastructure servers, and this process. */
export function findProcesses(): { name: string; pid: number }[] {
  const out: { name: string; pid: number }[] = [{ name: 'generator', pid: process.pid }];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    const svc = /cli\/main\.ts serve (dict|spi|settlement|sandbox)\b/.exec(cmd) ?? /^\S*fluxiq\S* serve (dict|spi|settlement|sandbox)\b/.exec(cmd);
    if (svc) out.push({ name: svc[1]!, pid: Number(d) });
    else if (/^postgres: .*(idle|SELECT|INSERT|UPDATE|COPY|COMMIT)|^\/usr\/lib\/postgresql\/.*\/bin\/postgres/.test(cmd)) out.push({ name: 'postgres', pid: Number(d) });
    else if (/^(\S*\/)?nats-server\b/.test(cmd)) out.push({ name: 'nats', pid: Number(d) });
    else if (/^(\S*\/)?redis-server\b/.test(cmd)) out.push({ name: 'redis', pid: Number(d) });
  }
  return out;
}

/** Starts sampling; stop() returns CPU % (of one core) and peak RSS per process name (postgres backends summed). */
export function watchProcesses(procs = findProcesses()): { stop(): ProcUse[] } {
  const t0 = performance.now();
  const start = new Map(procs.map((p) => [p.pid, cpuTicks(p.pid)]));
  const peak = new Map<number, number>();
  const sample = () => { for (const p of procs) peak.set(p.pid, Math.max(peak.get(p.pid) ?? 0, rssMb(p.pid))); };
  sample();
  const timer = setInterval(sample, PROC_SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const s = (performance.now() - t0) / 1000;
      const byName = new Map<string, ProcUse>();
      for (const p of procs) {
        const a = start.get(p.pid);
        const b = cpuTicks(p.pid);
        const cpu = a === null || a === undefined || b === null ? 0 : ((b - a) / TICKS_PER_S / s) * 100;
        const prev = byName.get(p.name);
        // postgres runs a process per connection: sum them; services are one process each
        if (prev) byName.set(p.name, { ...prev, cpuPct: prev.cpuPct + cpu, rssMbPeak: p.name === 'postgres' ? prev.rssMbPeak : Math.max(prev.rssMbPeak, peak.get(p.pid) ?? 0) });
        else byName.set(p.name, { name: p.name, pid: p.pid, cpuPct: cpu, rssMbPeak: peak.get(p.pid) ?? 0 });
      }
      return [...byName.values()].map((u) => ({ ...u, cpuPct: Math.round(u.cpuPct), rssMbPeak: Math.round(u.rssMbPeak) }));
    },
  };
}

export const loadAverage = (): number[] => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
