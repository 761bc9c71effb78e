// Logs never hold a full key, tax id or account number: a representative DICT flow (flow.ts) runs at debug
// level in a child process and every line it writes is scanned for the values it handled.
import { expect, test } from 'bun:test';
import { join } from 'node:path';
import { SECRETS } from './secrets.ts';

test('a debug-level DICT run writes no full key, tax id or account number to its logs', async () => {
  const child = Bun.spawn(['bun', join(import.meta.dir, 'flow.ts')], {
    env: { ...process.env, LOG_LEVEL: 'debug' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  const logs = `${out}\n${err}`;
  expect(code).toBe(0);
  const done = JSON.parse(out.split('\n').find((l) => l.includes('"flow":"done"'))!);
  // the flow really created and refused keys: a run that did nothing would pass the scan vacuously
  expect(done.statuses.filter((s: number) => s < 300).length).toBeGreaterThanOrEqual(4);
  expect(done.statuses.some((s: number) => s >= 400)).toBe(true);
  expect(logs.split('\n').filter((l) => l.startsWith('{"level"')).length).toBeGreaterThan(5);

  const leaks = Object.entries(SECRETS).flatMap(([what, value]) =>
    logs.split('\n').filter((l) => l.includes(value) || l.includes(encodeURIComponent(value))).map((l) => `${what}: ${l.slice(0, 300)}`),
  );
  expect(leaks).toEqual([]);
}, 60_000);
