// The JetStream consumer that builds settlement positions from SPI's settled-payment events: a durable
// batch consumer (shared/nats startBatchConsumer) on PIX_PAYMENTS filtered to
// `pix.payments.*.settled` (outbound and inbound), acking a batch only after recordPositionEvents
// committed it. Redeliveries are harmless (the event id is the key). The window step asks
// caughtUp(end of the window + grace) before closing a window, so a lagging consumer delays a close
// instead of netting without its payments; under steady traffic something is always in flight, so the
// question is "was every event stored before that moment counted", not "is nothing pending".
import type { JetStreamClient, JetStreamManager } from 'nats';
import type { Sql } from 'postgres';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../../../shared/clock.ts';
import type { Config } from '../../../shared/config.ts';
import { startBatchConsumer, streamName, subject } from '../../../shared/nats/index.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import { positionEventOf, type PositionEvent, type SpiPaymentEvent } from './event.ts';
import { prunePositionEvents, recordPositionEvents } from './store.ts';

const POSITION_EVENTS_METRIC = 'settlement_position_events_total';
export const POSITIONS_DURABLE = 'settlement-positions';
export const POSITIONS_FILTER_SUBJECT = 'pix.payments.*.settled';
/** Events per transaction: a few hundred rows keep one commit short; 512 matches a busy second of ours. */
export const POSITION_BATCH_MAX = 512;
/** A partial batch waits at most this long: positions are read hourly, a little latency costs nothing. */
export const POSITION_BATCH_WAIT_MS_MAX = 50;
/** A failed batch (database down) comes back after this delay. */
export const POSITION_NAK_DELAY_MS = 1_000;
/** Old event ids are pruned this often. */
export const POSITION_PRUNE_EVERY_MS = 60 * 60 * 1000;

export interface PositionConsumer {
  /**
   * Every settled-payment event the stream stored before `until` is counted (without `until`: every
   * event stored so far). Stream times are the NATS server's clock.
   */
  caughtUp(until?: Date): Promise<boolean>;
  stop(): Promise<void>;
}

export interface PositionConsumerDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  sql: Sql<{ bigint: bigint }>;
  config: Pick<Config, 'natsPrefix'>;
  clock: Clock;
  logger: Logger;
  registry: Registry;
}

export async function startPositionConsumer(deps: PositionConsumerDeps): Promise<PositionConsumer> {
  const { js, jsm, sql, config, clock } = deps;
  const log = deps.logger.child({ component: 'settlement-positions' });
  // one counter per registry: a consumer restarted in the same process keeps counting on it
  const outcomes = (deps.registry.getSingleMetric(POSITION_EVENTS_METRIC) as Counter<'outcome'> | undefined) ?? new Counter({
    name: POSITION_EVENTS_METRIC, help: 'SPI payment events seen by the positions consumer, by outcome (counted, repeated, ignored, malformed, late)',
    labelNames: ['outcome'], registers: [deps.registry],
  });
  const stream = streamName(config, 'payments');
  const filterSubject = subject(config, POSITIONS_FILTER_SUBJECT);

  async function handle(data: SpiPaymentEvent[]): Promise<void> {
    const events: PositionEvent[] = [];
    for (const d of data) {
      const e = positionEventOf(d ?? {});
      if (!e.ok) {
        // no redelivery can repair a malformed event: it is logged and left out (the window close compares with the transactions table)
        log.error({ err: e.error.detail, eventId: d?.eventId }, 'payment event not usable for positions');
        outcomes.inc({ outcome: 'malformed' });
      } else if (e.value === undefined) outcomes.inc({ outcome: 'ignored' });
      else events.push(e.value);
    }
    const r = await recordPositionEvents(sql, events, clock.now());
    outcomes.inc({ outcome: 'counted' }, r.counted);
    outcomes.inc({ outcome: 'repeated' }, r.repeated);
    if (r.lateWindows.length > 0) {
      outcomes.inc({ outcome: 'late' });
      log.error({ windows: r.lateWindows }, 'a settled payment arrived after its window closed; that window\'s netting misses it');
    }
  }

  const consumer = await startBatchConsumer<SpiPaymentEvent>({
    js, stream, durable: POSITIONS_DURABLE, filterSubject,
    batchMax: POSITION_BATCH_MAX, batchWaitMsMax: POSITION_BATCH_WAIT_MS_MAX, nakDelayMs: POSITION_NAK_DELAY_MS, logger: deps.logger,
    handle: (msgs) => handle(msgs.map((m) => m.data)),
  });
  const prune = () => void prunePositionEvents(sql, clock.now()).then(
    (n) => { if (n > 0) log.info({ pruned: n }, 'old position event ids pruned'); },
    (err: unknown) => log.warn({ err }, 'could not prune position events; retried next hour'),
  );
  const pruner = setInterval(prune, POSITION_PRUNE_EVERY_MS);

  return {
    async caughtUp(until) {
      const info = await jsm.consumers.info(stream, POSITIONS_DURABLE);
      if (info.num_pending === 0 && info.num_ack_pending === 0) return true;
      if (until === undefined) return false;
      // the first event not yet counted: everything up to ack_floor is acked, i.e. committed
      try {
        const next = await jsm.streams.getMessage(stream, { seq: info.ack_floor.stream_seq + 1, next_by_subj: filterSubject } as never);
        return next.time.getTime() >= until.getTime();
      } catch (err) {
        log.debug({ err }, 'could not read the first uncounted event; asked again next step');
        return false;
      }
    },
    async stop() {
      clearInterval(pruner);
      await consumer.stop();
    },
  };
}
