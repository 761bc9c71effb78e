// `./fluxiq test`: prepare as `up` does, run `bun test` with a run id (each test file derives its own
// schema, Redis prefix and NATS prefix from it: test/support/env.ts), remove whatever the run left
// behind, and end with the plain line CI reads: `N passed, N failed`.
import type { Config } from '../shared/config.ts';
import { ensureProgram } from './infra.ts';
import { prepare, removeTestLeftovers } from './prepare.ts';

/** The whole suite must finish well inside CI's 90 minutes; a hung run is killed here. */
export const TEST_RUN_MS_MAX = 30 * 60_000;
/** Per-test bound: generous for a loaded 2-core CI machine, still catches a hung test. */
export const TEST_TIMEOUT_MS = 30_000;

/** Debian packages the tests need beyond the platform's own dependencies. */
export const TEST_PROGRAMS: [bin: string, pkg: string][] = [['xmlsec1', 'xmlsec1'], ['chromium', 'chromium']];

interface Counts {
  passed: number;
  failed: number;
}

/** bun test's summary lines: " 27 pass", " 2 fail" (the last occurrence wins). */
export function countsOf(output: string): Counts {
  const last = (re: RegExp) => {
    const all = [...output.matchAll(re)];
    return all.length > 0 ? Number(all.at(-1)![1]) : 0;
  };
  return { passed: last(/^\s*(\d+) pass\s*$/gm), failed: last(/^\s*(\d+) fail\s*$/gm) };
}

async function pump(stream: ReadableStream<Uint8Array>, out: NodeJS.WriteStream, sink: string[]): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    sink.push(text);
    out.write(text);
  }
}

export async function runTests(config: Config, args: string[]): Promise<number> {
  const log = (m: string) => console.error(`fluxiq: ${m}`);
  await prepare(config, log);
  // programs the suite drives as a person or a peer would: the reference XMLDSig verifier and a
  // real browser for the dashboard
  for (const [bin, pkg] of TEST_PROGRAMS) ensureProgram(bin, pkg, log);
  const runId = Date.now().toString(36).slice(-8);
  const timeout = args.some((a) => a.startsWith('--timeout')) ? [] : [`--timeout=${TEST_TIMEOUT_MS}`];
  const proc = Bun.spawn(['bun', 'test', ...timeout, ...args], {
    env: { ...process.env, FLUXIQ_TEST_RUN: runId, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' },
    stdout: 'pipe',
    stderr: 'pipe',
    stdin: 'ignore',
  });
  const timer = setTimeout(() => {
    console.error(`fluxiq: the test run passed ${TEST_RUN_MS_MAX / 60_000} minutes and was stopped`);
    proc.kill('SIGKILL');
  }, TEST_RUN_MS_MAX);
  const captured: string[] = [];
  await Promise.all([pump(proc.stdout, process.stdout, captured), pump(proc.stderr, process.stderr, captured)]);
  const exitCode = await proc.exited;
  clearTimeout(timer);
  await removeTestLeftovers(config, runId).catch((e) => console.error(`fluxiq: cleanup of test run ${runId} incomplete: ${e}`));
  const { passed, failed } = countsOf(captured.join(''));
  // bun exits non-zero on a failure it counted and also on errors outside tests (an unhandled
  // rejection, a file that did not load): both are failures even when the counts look clean.
  const failedTotal = failed + (exitCode !== 0 && failed === 0 ? 1 : 0);
  console.log(`${passed} passed, ${failedTotal} failed`);
  if (passed === 0) console.error('fluxiq: no test ran');
  return failedTotal === 0 && passed > 0 ? 0 : 1;
}
