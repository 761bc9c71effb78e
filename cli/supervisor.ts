// One supervisor runs every service as a child process (the OTP supervision tree of the original
// design, one_for_one): a crashed child is restarted at once, then with growing backoff if it keeps
// crashing; SIGTERM/SIGINT stop every child cleanly.
import type { Subprocess } from 'bun';
import { EXIT_RESTART_NOW } from '../shared/runtime.ts';
import type { Logger } from '../shared/telemetry.ts';

/** First restart waits this long: well inside the 1 s recovery promise. */
export const RESTART_DELAY_MS_MIN = 50;
/** A child crashing in a loop is retried at most this often. */
export const RESTART_DELAY_MS_MAX = 10_000;
/** A child that stayed up this long is considered healthy again: its backoff resets. */
export const RESTART_STABLE_MS = 10_000;
/** Children get this long to exit after SIGTERM before SIGKILL. */
export const STOP_GRACE_MS = 5_000;

export interface ChildSpec {
  name: string;
  cmd: string[];
  env?: Record<string, string>;
}

interface ChildState {
  spec: ChildSpec;
  proc: Subprocess | null;
  startedAtMs: number;
  crashesInRow: number;
  restarts: number;
  timer: ReturnType<typeof setTimeout> | null;
}

export interface Supervisor {
  /** pid of a running child, for operators and the restart test */
  pid(name: string): number | null;
  restarts(name: string): number;
  stop(): Promise<void>;
}

/** Delay before the n-th consecutive restart (n ≥ 1): 50 ms, 100 ms, 200 ms ... capped. */
export function restartDelayMs(crashesInRow: number): number {
  return Math.min(RESTART_DELAY_MS_MAX, RESTART_DELAY_MS_MIN * 2 ** Math.max(0, crashesInRow - 1));
}

/**
 * What an exit means for the next start: a child that asked to be restarted at once (EXIT_RESTART_NOW) gets the
 * shortest delay and keeps its crash count; any other exit is a crash, counted unless the child had been up
 * for RESTART_STABLE_MS.
 */
export function afterExit(crashesInRow: number, exitCode: number | null, upMs: number): { crashesInRow: number; delayMs: number } {
  if (exitCode === EXIT_RESTART_NOW) return { crashesInRow, delayMs: RESTART_DELAY_MS_MIN };
  const n = upMs >= RESTART_STABLE_MS ? 1 : crashesInRow + 1;
  return { crashesInRow: n, delayMs: restartDelayMs(n) };
}

export function startSupervisor(specs: ChildSpec[], logger: Logger): Supervisor {
  let stopping = false;
  const children = new Map<string, ChildState>();

  const spawn = (state: ChildState): void => {
    state.timer = null;
    if (stopping) return;
    state.startedAtMs = Date.now();
    const proc: Subprocess = Bun.spawn(state.spec.cmd, {
      env: { ...process.env, ...state.spec.env },
      stdout: 'inherit',
      stderr: 'inherit',
      stdin: 'ignore',
      onExit: (_p, exitCode, signalCode) => onExit(state, proc, exitCode, signalCode),
    });
    state.proc = proc;
    logger.info({ child: state.spec.name, childPid: proc.pid, restarts: state.restarts }, 'child started');
  };

  const onExit = (state: ChildState, proc: Subprocess, exitCode: number | null, signal: number | string | null | undefined): void => {
    if (state.proc !== proc) return;
    state.proc = null;
    if (stopping) return;
    const upMs = Date.now() - state.startedAtMs;
    const next = afterExit(state.crashesInRow, exitCode, upMs);
    state.crashesInRow = next.crashesInRow;
    const delay = next.delayMs;
    state.restarts++;
    if (exitCode === EXIT_RESTART_NOW) logger.warn({ child: state.spec.name, upMs, restartInMs: delay }, 'child asked to be restarted; restarting');
    else logger.error({ child: state.spec.name, exitCode, signal, upMs, restartInMs: delay }, 'child exited; restarting');
    state.timer = setTimeout(() => spawn(state), delay);
  };

  for (const spec of specs) {
    const state: ChildState = { spec, proc: null, startedAtMs: 0, crashesInRow: 0, restarts: 0, timer: null };
    children.set(spec.name, state);
    spawn(state);
  }

  return {
    pid: (name) => children.get(name)?.proc?.pid ?? null,
    restarts: (name) => children.get(name)?.restarts ?? 0,
    async stop() {
      stopping = true;
      const running = [...children.values()].flatMap((c) => {
        if (c.timer) clearTimeout(c.timer);
        return c.proc ? [c.proc] : [];
      });
      for (const p of running) p.kill('SIGTERM');
      const graceful = await Promise.race([
        Promise.all(running.map((p) => p.exited)).then(() => true),
        Bun.sleep(STOP_GRACE_MS).then(() => false),
      ]);
      if (!graceful) {
        for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
        await Promise.all(running.map((p) => p.exited));
      }
      logger.info({ children: running.length, graceful }, 'all children stopped');
    },
  };
}
