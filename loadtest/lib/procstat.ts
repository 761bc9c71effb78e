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

/** The DB_SCHEMA a process runs with (services inherit it from `./fluxiq up`); the default when unset. */
const schemaOf = (pid: number | string): string => {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((v) => v.startsWith('DB_SCHEMA='));
    return env ? env.slice('DB_SCHEMA='.length) : 'fluxiq';
  } catch {
    return '';
  }
};

/** The service a process runs, from its command line (`cli/main.ts serve <name>` or the compiled binary), or null. */
export function serviceOfCmdline(cmd: string): string | null {
  const m = /cli\/main\.ts serve (dict|spi|settlement|sandbox)\b/.exec(cmd) ?? /^\S*fluxiq\S* serve (dict|spi|settlement|sandbox)\b/.exec(cmd);
  return m ? m[1]! : null;
}

/** Every process on the box as [pid directory name, command line with spaces]; gone ones are skipped. */
function* processCmdlines(): Generator<[string, string]> {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      yield [d, readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ')];
    } catch {
      // exited between the listing and the read
    }
  }
}

/** pids of the instances of one service running with DB_SCHEMA `schema` (other platforms on the box are left out). */
export function servicePids(service: string, schema: string): number[] {
  const out: number[] = [];
  for (const [d, cmd] of processCmdlines()) {
    if (serviceOfCmdline(cmd) === service && schemaOf(d) === schema) out.push(Number(d));
  }
  return out.sort((a, b) => a - b);
}

/** Local TCP port → owning pid, for the client side of connections to Postgres (`ss -tnp`). */
function postgresClientOwners(): Map<number, number> {
  const out = new Map<number, number>();
  const r = Bun.spawnSync(['ss', '-tnpH', 'dport = :5432']);
  for (const line of r.stdout.toString().split('\n')) {
    const m = /:(\d+)\s+\S+:5432\s+users:\(\("[^"]*",pid=(\d+)/.exec(line);
    if (m) out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

/**
 * The processes worth watching: FluxiQ services by name, infrastructure servers, and this process. Other
 * platforms may share the box (other engineers, other schemas): services are kept only when they run with
 * this process's DB_SCHEMA, and Postgres backends only when their client is one of the kept processes.
 */
export function findProcesses(): { name: string; pid: number }[] {
  const schema = process.env.DB_SCHEMA || 'fluxiq';
  const out: { name: string; pid: number }[] = [{ name: 'generator', pid: process.pid }];
  const backends: { pid: number; port: number }[] = [];
  for (const [d, cmd] of processCmdlines()) {
    const svc = serviceOfCmdline(cmd);
    const backend = /^postgres: .*\((\d+)\) (idle|SELECT|INSERT|UPDATE|COPY|COMMIT)/.exec(cmd);
    if (svc) {
      if (schemaOf(d) === schema) out.push({ name: svc, pid: Number(d) });
    } else if (backend) backends.push({ pid: Number(d), port: Number(backend[1]) });
    else if (/^postgres: |^\/usr\/lib\/postgresql\/.*\/bin\/postgres/.test(cmd)) out.push({ name: 'postgres', pid: Number(d) });
    else if (/^(\S*\/)?nats-server\b/.test(cmd)) out.push({ name: 'nats', pid: Number(d) });
    else if (/^(\S*\/)?redis-server\b/.test(cmd)) out.push({ name: 'redis', pid: Number(d) });
  }
  const ours = new Set(out.map((p) => p.pid));
  const owners = postgresClientOwners();
  for (const b of backends) if (ours.has(owners.get(b.port) ?? -1)) out.push({ name: 'postgres', pid: b.pid });
  return out;
}

/** Starts sampling; stop() returns CPU % (of one core) and peak RSS per process name (postgres backends summed). */
export function watchProcesses(initial = findProcesses()): { stop(): ProcUse[] } {
  const procs = [...initial];
  const t0 = performance.now();
  const start = new Map(procs.map((p) => [p.pid, cpuTicks(p.pid)]));
  const peak = new Map<number, number>();
  const known = new Set(procs.map((p) => p.pid));
  let samples = 0;
  const sample = () => {
    // pools open connections under load: pick up new Postgres backends of our services (every 2 s)
    if (samples++ % 4 === 3) {
      for (const p of findProcesses()) {
        if (known.has(p.pid)) continue;
        known.add(p.pid);
        procs.push(p);
        start.set(p.pid, cpuTicks(p.pid));
      }
    }
    for (const p of procs) peak.set(p.pid, Math.max(peak.get(p.pid) ?? 0, rssMb(p.pid)));
  };
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
