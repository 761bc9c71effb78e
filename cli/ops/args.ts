// Argument parsing and output for the operator commands: positionals, `--flag value` options, boolean
// switches, and the one output rule: with --json, stdout carries exactly one JSON document (the result,
// or {error}), so scripts can pipe it; without it, text for a person. Exit codes are the same either way.
import { ok, fail, type Result } from '../../shared/result.ts';

/** 0 done · 1 the operation failed or found a problem (not found, refused, unhealthy) · 2 usage · 3 a service or dependency is unreachable */
export const EXIT = { ok: 0, failed: 1, usage: 2, unavailable: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface Parsed {
  positionals: string[];
  options: Record<string, string>;
  switches: Set<string>;
}

/** `switches` take no value; every other `--name` takes the next argument. Unknown names are refused. */
export function parseArgs(args: readonly string[], spec: { options?: readonly string[]; switches?: readonly string[] }): Result<Parsed> {
  const options: Record<string, string> = {};
  const switches = new Set<string>();
  const positionals: string[] = [];
  const known = new Set(spec.options ?? []);
  const bools = new Set(['json', ...(spec.switches ?? [])]);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const name = a.slice(2);
    if (bools.has(name)) switches.add(name);
    else if (known.has(name)) {
      const value = args[++i];
      if (value === undefined || value.startsWith('--')) return fail('InvalidRequest', `--${name} needs a value`, name, 'required');
      options[name] = value;
    } else return fail('InvalidRequest', `unknown option --${name}`, name, 'unknown');
  }
  return ok({ positionals, options, switches });
}

export interface Out {
  json: boolean;
  /** the result: JSON with --json, else `text(value)` */
  result<T>(value: T, text: (v: T) => string): void;
  /** an error: one line on stderr (and {error} on stdout with --json); returns the exit code */
  error(code: ExitCode, detail: string, extra?: Record<string, unknown>): ExitCode;
  /** progress of long work, on stderr for a person only (never mixed into --json output) */
  progress(line: string): void;
}

export function output(command: string, json: boolean): Out {
  return {
    json,
    result(value, text) {
      console.log(json ? JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2) : text(value));
    },
    error(code, detail, extra = {}) {
      console.error(`fluxiq ${command}: ${detail}`);
      if (json) console.log(JSON.stringify({ error: { exit: code, detail, ...extra } }));
      return code;
    },
    progress(line) {
      if (!json && process.stderr.isTTY) process.stderr.write(`${line}\n`);
    },
  };
}

/** Columns padded to their widest cell. */
export function table(head: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
