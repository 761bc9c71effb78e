// Runs the window step on a timer: windows close within WINDOW_TICK_MS of their due time.
import type { Sql } from 'postgres';
import type { Clock } from '../../../shared/clock.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import { advanceWindows, type AdvanceOptions } from './store.ts';

/** How often windows are checked: closing a few seconds late is harmless, polling more often is waste. */
export const WINDOW_TICK_MS = 5_000;

export function startWindowTicker(opts: { sql: Sql<{ bigint: bigint }>; clock: Clock; logger: Logger } & AdvanceOptions): () => Promise<void> {
  const { sql, clock, logger } = opts;
  const advance: AdvanceOptions = opts.positionsCaughtUp === undefined ? {} : { positionsCaughtUp: opts.positionsCaughtUp };
  let running: Promise<void> | undefined;
  // a step still running when the timer fires is not doubled: the next tick picks up what is left
  const tick = () => {
    if (running !== undefined) return;
    running = advanceWindows(sql, clock.now(), advance).then(
      (moves) => {
        for (const m of moves) {
          if (m.positionsDiffer === undefined) logger.info(m, 'settlement window moved');
          else logger.error(m, 'settlement window closed, but its event positions differ from the transactions table (an SPI event missing or malformed?)');
        }
      },
      (err: unknown) => logger.error({ err }, 'settlement window step failed; retried next tick'),
    ).finally(() => { running = undefined; });
  };
  tick();
  const timer = setInterval(tick, WINDOW_TICK_MS);
  return async () => {
    clearInterval(timer);
    await running;
  };
}
