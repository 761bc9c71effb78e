// Several pollers read our inbox concurrently, each at its own pace: pull a bounded batch, handle its
// messages (concurrently: their writes share the store's batches), and only then pull again, which
// acknowledges the batch. An empty inbox or an error backs off, boundedly.
import type { Logger } from '../../../shared/telemetry.ts';
import type { InboxMessage, SpiLink } from '../messages/link.ts';
import type { DispatchOutcome } from './dispatch.ts';

/** Messages per pull: one pull's work stays well inside SPI's 10 s answer deadline. */
export const INBOUND_PULL_MESSAGES_MAX = 256;
/** An empty inbox is asked again after this long (per poller); latency of an inbound payment's start. */
export const INBOUND_IDLE_MS = 20;
export const INBOUND_ERROR_BACKOFF_MS_MAX = 2_000;

export interface Pollers {
  stop(): Promise<void>;
  readonly stats: { pulls: number; messages: number; errors: number; outcomes: Record<DispatchOutcome, number> };
}

export function startPollers(opts: { link: SpiLink; count: number; dispatch: (m: InboxMessage) => Promise<DispatchOutcome>; logger: Logger; pullMax?: number; idleMs?: number }): Pollers {
  const log = opts.logger.child({ component: 'pollers' });
  const stats = { pulls: 0, messages: 0, errors: 0, outcomes: { handled: 0, malformed: 0, 'bad-signature': 0, ignored: 0 } as Record<DispatchOutcome, number> };
  const abort = new AbortController();
  let stopping = false;
  const idleMs = opts.idleMs ?? INBOUND_IDLE_MS;

  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    abort.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });

  async function loop(id: number): Promise<void> {
    const cursor = opts.link.cursor();
    let failures = 0;
    while (!stopping) {
      // not aborted on stop: a long poll cut on our side stays parked at SPI and would lease the next
      // messages to a pull nobody reads (redelivered only when the lease runs out); stop() waits for it
      // instead (at most the long-poll wait) and what it brings is still handled
      const r = await cursor.pull(opts.pullMax ?? INBOUND_PULL_MESSAGES_MAX);
      stats.pulls++;
      if (stopping && !(r.ok && r.messages.length > 0)) break;
      if (!r.ok) {
        stats.errors++;
        failures++;
        if (failures === 1 || failures % 50 === 0) log.warn({ poller: id, detail: r.detail, failures }, 'inbox pull failed');
        await sleep(Math.min(INBOUND_ERROR_BACKOFF_MS_MAX, idleMs * 2 ** Math.min(failures, 10)));
        continue;
      }
      failures = 0;
      if (r.messages.length === 0) {
        await sleep(idleMs);
        continue;
      }
      stats.messages += r.messages.length;
      const outcomes = await Promise.all(r.messages.map((m) => opts.dispatch(m).catch((err) => {
        // a handler failure (database down) must not ack the batch: stop this cursor and start over,
        // the lease runs out and SPI delivers the batch again
        log.error({ err, poller: id, msgId: m.msgId }, 'inbox message handling failed');
        throw err;
      }))).catch(() => null);
      if (outcomes === null) {
        stats.errors++;
        await sleep(INBOUND_ERROR_BACKOFF_MS_MAX);
        return loop(id);
      }
      for (const o of outcomes) stats.outcomes[o]++;
      if (stopping) break;
    }
  }

  const loops = Array.from({ length: opts.count }, (_, i) => loop(i).catch((err) => log.error({ err, poller: i }, 'poller stopped')));
  return {
    stats,
    async stop() {
      stopping = true;
      abort.abort();
      await Promise.all(loops);
    },
  };
}
