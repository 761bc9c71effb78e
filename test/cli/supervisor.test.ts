import { afterAll, describe, expect, test } from 'bun:test';
import { resolve } from 'node:path';
import { afterExit, restartDelayMs, startSupervisor, RESTART_DELAY_MS_MAX, RESTART_DELAY_MS_MIN, RESTART_STABLE_MS } from '../../cli/supervisor.ts';
import { EXIT_RESTART_NOW } from '../../shared/runtime.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { freePorts } from '../support/ports.ts';

const FIXTURE = resolve(import.meta.dir, '../fixtures/tiny-service.ts');
const logger = createLogger('supervisor-test', 'silent');

async function pidAt(port: number): Promise<number | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(200) });
    return ((await res.json()) as { pid: number }).pid;
  } catch {
    return null;
  }
}

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs: number): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== null) return v;
    await Bun.sleep(10);
  }
  return null;
}

const [port, otherPort] = (await freePorts(2)) as [number, number];
const supervisor = startSupervisor([{ name: 'tiny', cmd: [process.execPath, FIXTURE], env: { PORT: String(port) } }], logger);
afterAll(() => supervisor.stop());

describe('the supervisor keeps every service running', () => {
  test('a service killed with SIGKILL answers again within 1 s', async () => {
    const first = await waitFor(() => pidAt(port), 10_000);
    expect(first).not.toBeNull();
    const killedAt = performance.now();
    process.kill(first!, 'SIGKILL');
    const second = await waitFor(async () => {
      const pid = await pidAt(port);
      return pid !== null && pid !== first ? pid : null;
    }, 3_000);
    const recoveryMs = performance.now() - killedAt;
    expect(second).not.toBeNull();
    expect(recoveryMs).toBeLessThan(1_000);
    expect(supervisor.restarts('tiny')).toBe(1);
  });

  test('a service that exits cleanly after SIGTERM (a rolling restart) is started again', async () => {
    const first = await waitFor(() => pidAt(port), 10_000);
    expect(first).not.toBeNull();
    const restartsBefore = supervisor.restarts('tiny');
    process.kill(first!, 'SIGTERM');
    const second = await waitFor(async () => {
      const pid = await pidAt(port);
      return pid !== null && pid !== first ? pid : null;
    }, 5_000);
    expect(second).not.toBeNull();
    expect(supervisor.restarts('tiny')).toBe(restartsBefore + 1);
  });

  test('a service that keeps crashing is restarted with growing backoff, capped', () => {
    expect(restartDelayMs(1)).toBeLessThan(1_000);
    expect(restartDelayMs(2)).toBeGreaterThan(restartDelayMs(1));
    expect(restartDelayMs(50)).toBe(RESTART_DELAY_MS_MAX);
  });

  test('a service that asks to be restarted (exit 75) is started again at once, however often, without backoff', async () => {
    expect(afterExit(6, EXIT_RESTART_NOW, 100)).toEqual({ crashesInRow: 6, delayMs: RESTART_DELAY_MS_MIN });
    expect(afterExit(6, 1, 100)).toEqual({ crashesInRow: 7, delayMs: restartDelayMs(7) });
    expect(afterExit(6, 1, RESTART_STABLE_MS)).toEqual({ crashesInRow: 1, delayMs: restartDelayMs(1) });
    let pid = await waitFor(() => pidAt(port), 10_000);
    for (let i = 0; i < 5; i++) {
      const before = pid!;
      const askedAt = performance.now();
      await fetch(`http://127.0.0.1:${port}/exit/${EXIT_RESTART_NOW}`);
      pid = await waitFor(async () => {
        const p = await pidAt(port);
        return p !== null && p !== before ? p : null;
      }, 3_000);
      expect(pid).not.toBeNull();
      // no growing backoff: the fifth restart is as quick as the first (the child's own start dominates)
      expect(performance.now() - askedAt).toBeLessThan(1_000);
    }
  });

  test('stop ends every child', async () => {
    const other = otherPort;
    const s = startSupervisor([{ name: 'tiny2', cmd: [process.execPath, FIXTURE], env: { PORT: String(other) } }], logger);
    const pid = await waitFor(() => pidAt(other), 10_000);
    expect(pid).not.toBeNull();
    await s.stop();
    expect(await pidAt(other)).toBeNull();
    expect(() => process.kill(pid!, 0)).toThrow();
  });
});
