// Shared set-up for the NATS tests: a connection, this file's streams (small, so a run reserves little
// server storage) and their removal.
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import type { Config } from '../../shared/config.ts';
import { connectNats, deleteStreams, ensureStreams } from '../../shared/nats/index.ts';
import { createLogger, type Logger } from '../../shared/telemetry.ts';

/** Test streams hold a few messages; 8 MiB is plenty and reserves little on the shared server. */
export const TEST_STREAM_BYTES_MAX = 8 * 1024 * 1024;

export interface NatsFixture {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  logger: Logger;
  close(): Promise<void>;
}

export async function natsFixture(config: Config, name: string): Promise<NatsFixture> {
  const logger = createLogger(`test-${name}`, config.logLevel);
  const nc = await connectNats(config, logger, `test-${name}`);
  const jsm = await nc.jetstreamManager();
  await ensureStreams(jsm, config, { bytesMax: TEST_STREAM_BYTES_MAX });
  return {
    nc,
    js: nc.jetstream(),
    jsm,
    logger,
    async close() {
      await deleteStreams(jsm, config);
      await nc.drain();
    },
  };
}

/** Polls `check` until it returns true; fails after `timeoutMs` with `what` in the message. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await Bun.sleep(10);
  }
}

/** A promise the test opens by hand. */
export function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => { open = resolve; });
  return { wait, open };
}
