// `./fluxiq faults`' pure parts: its flags, which faults a run applies, and how the last line sums them up
// (the command itself needs a running platform and restarts shared dependencies: not part of the suite).
import { describe, expect, test } from 'bun:test';
import { FAULTS, faultTable, parseFaultArgs, RECOVERY_MS_TARGET, SECONDS_DEFAULT, selectFaults, summarize, type FaultRow } from '../../cli/faults.ts';

const row = (over: Partial<FaultRow>): FaultRow => ({ fault: 'kill -9 spi', accepted: 10, errors: 0, lost: 0, duplicated: 0, recoveryMs: 100, byStatus: { SETTLED: 10 }, errorSamples: [], ...over });
const agree = { ledgerOk: true, sandboxOk: true };

describe('faults flags', () => {
  test('defaults: every fault, a few seconds each', () => {
    const a = parseFaultArgs([]);
    expect(a).toEqual({ ok: true, value: { secondsPerFault: SECONDS_DEFAULT, ratePerS: 20, only: [], noDeps: false } });
    if (a.ok) expect(selectFaults(a.value)).toHaveLength(FAULTS.length);
  });

  test('--only picks faults by name or prefix; --no-deps leaves Postgres, NATS and Redis alone', () => {
    const a = parseFaultArgs(['--only', 'kill,pacs.002 lost', '--no-deps', '--seconds', '3', '--rate', '50']);
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    expect(a.value.secondsPerFault).toBe(3);
    expect(a.value.ratePerS).toBe(50);
    expect(selectFaults(a.value).map((f) => f.name)).toEqual(['kill -9 sandbox', 'kill -9 dict', 'kill -9 spi', 'kill -9 settlement', 'pacs.002 lost']);
    const deps = parseFaultArgs(['--no-deps']);
    if (deps.ok) expect(selectFaults(deps.value).some((f) => f.kind === 'restart')).toBe(false);
  });

  test('out-of-bound numbers, unknown faults and unknown flags are refused', () => {
    for (const args of [['--seconds', '0'], ['--seconds', '61'], ['--rate', 'x'], ['--rate'], ['--only', 'nope'], ['--only'], ['--fast']]) {
      const r = parseFaultArgs(args);
      expect(r.ok).toBe(false);
    }
  });

  test('a rolling restart per scaled service (the sandbox is BACEN: one instance, not rolled), picked by `--only rolling`', () => {
    const a = parseFaultArgs(['--only', 'rolling']);
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    expect(selectFaults(a.value)).toEqual([
      { name: 'rolling restart dict', kind: 'rolling', service: 'dict' },
      { name: 'rolling restart spi', kind: 'rolling', service: 'spi' },
      { name: 'rolling restart settlement', kind: 'rolling', service: 'settlement' },
    ]);
  });

  test('the dependency restarts come last: they disturb everything else on the host', () => {
    const kinds = FAULTS.map((f) => f.kind);
    expect(kinds.slice(kinds.indexOf('restart')).every((k) => k === 'restart')).toBe(true);
  });
});

describe('faults summary (the last line)', () => {
  test('sums the payments of every phase and keeps the slowest recovery', () => {
    const s = summarize([row({ recoveryMs: 300 }), row({ fault: 'restart nats', accepted: 5, errors: 2, recoveryMs: 1_200 })], agree);
    expect(s).toMatchObject({ accepted: 15, lost: 0, duplicated: 0, max_recovery_ms: 1_200, faults: 2, errors: 2, skipped: 0, ok: true });
  });

  test('a lost or duplicated payment, a slow recovery or a ledger that disagrees fails the run', () => {
    expect(summarize([row({ lost: 1 })], agree).ok).toBe(false);
    expect(summarize([row({ duplicated: 1 })], agree).ok).toBe(false);
    expect(summarize([row({ recoveryMs: RECOVERY_MS_TARGET })], agree).ok).toBe(false);
    expect(summarize([row({})], { ledgerOk: false, sandboxOk: true }).ok).toBe(false);
    expect(summarize([row({})], { ledgerOk: true, sandboxOk: false }).ok).toBe(false);
  });

  test('a rolling restart that cost any client request fails the run; errors under other faults do not', () => {
    const rolled = row({ fault: 'rolling restart spi', kind: 'rolling', errors: 1, recoveryMs: 20 });
    const s = summarize([row({ errors: 3 }), rolled], agree);
    expect(s).toMatchObject({ errors: 4, rolling_errors: 1, ok: false });
    expect(summarize([row({ errors: 3 }), { ...rolled, errors: 0 }], agree)).toMatchObject({ rolling_errors: 0, ok: true });
    // skipped (one instance only): neither run nor failing
    expect(summarize([row({}), { ...rolled, errors: 0, skipped: 'needs ./fluxiq up --instances 2', recoveryMs: null }], agree)).toMatchObject({ faults: 1, skipped: 1, ok: true });
  });

  test('the table of a rolling restart names each instance it replaced and the zero-error target', () => {
    const text = faultTable(row({ fault: 'rolling restart dict', kind: 'rolling', steps: ['instance pid 1 → 3: exited after 450 ms', 'instance pid 2 → 4: exited after 430 ms'] })).join('\n');
    expect(text).toMatch(/instance 1\s+instance pid 1 → 3/);
    expect(text).toMatch(/instance 2\s+instance pid 2 → 4/);
    expect(text).toContain('client errors      0 (target: 0)');
  });

  test('a service never ready again has no maximum recovery and fails the run', () => {
    const s = summarize([row({}), row({ recoveryMs: null })], agree);
    expect(s.max_recovery_ms).toBeNull();
    expect(s.ok).toBe(false);
  });

  test('a skipped fault is not counted as run, but the payments of its phase are', () => {
    const s = summarize([row({}), row({ fault: 'restart redis', skipped: 'not on loopback', accepted: 4, recoveryMs: null })], agree);
    expect(s).toMatchObject({ faults: 1, skipped: 1, accepted: 14, max_recovery_ms: 100, ok: true });
  });

  test('the table of a fault names its recovery, payments by status, and error samples', () => {
    const lines = faultTable(row({ errors: 3, errorSamples: ['503 Service unavailable ×3'], byStatus: { SETTLED: 9, RELEASED: 1 } }));
    expect(lines[0]).toBe('kill -9 spi');
    expect(lines.join('\n')).toContain('100 ms until every service is /ready');
    expect(lines.join('\n')).toContain('10 (SETTLED 9, RELEASED 1)');
    expect(lines.join('\n')).toContain('503 Service unavailable ×3');
    expect(faultTable(row({ skipped: 'not on loopback' }))).toEqual(['kill -9 spi  (skipped: not on loopback)']);
  });

  test("a dependency restart shows the dependency's own downtime apart from the platform's recovery after it", () => {
    const text = faultTable(row({ fault: 'restart postgres', recoveryMs: 180, dependencyDownMs: 2_600 })).join('\n');
    expect(text).toContain('180 ms until every service is /ready (after the dependency was back)');
    expect(text).toMatch(/dependency down\s+2600 ms/);
    expect(faultTable(row({})).join('\n')).not.toContain('dependency down');
  });
});
