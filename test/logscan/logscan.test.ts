// Logs never hold a full key, tax id or account number, nor any private key: a representative DICT flow
// (flow.ts) runs at debug level in a child process and every line it writes is scanned for the values
// it handled and for the PEM and base64 of the private keys it used.
import { expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEY_MARKERS, keyFragments, SECRETS } from './secrets.ts';

test('a debug-level DICT run writes no full key, tax id, account number or private key to its logs', async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'fluxiq-logscan-'));
  const keysFile = join(scratch, 'keys.json');
  const child = Bun.spawn(['bun', join(import.meta.dir, 'flow.ts')], {
    env: { ...process.env, LOG_LEVEL: 'debug', LOGSCAN_KEYS_FILE: keysFile },
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

  // the flow broke the client's key file once: the refusal was logged (so the scan below saw that path)
  expect(logs).toContain('is not a PEM private key');
  const pems: string[] = JSON.parse(readFileSync(keysFile, 'utf8'));
  rmSync(scratch, { recursive: true, force: true });
  expect(pems.length).toBe(3);
  const fragments = pems.flatMap(keyFragments);
  expect(fragments.length).toBeGreaterThan(3 * 20); // 2048-bit keys: ~25 full lines each
  const keyLeaks = logs
    .split('\n')
    .filter((l) => KEY_MARKERS.some((m) => l.includes(m)) || fragments.some((f) => l.includes(f)))
    .map((l) => l.slice(0, 120));
  expect(keyLeaks).toEqual([]);
}, 60_000);
