// Batched durable pull consumer. Messages arrive on the library's pull loop and are only queued there;
// this loop takes them in batches at its own pace (STYLE.md "Own the pace"), hands a batch to the
// handler once, and acks only after the handler resolved, i.e. after the batch is durable. A failed
// batch is nak'ed with a delay and comes back whole; nothing is ever acked before the write.
import type { JetStreamClient, JsMsg } from 'nats';
import type { Logger } from '../telemetry.ts';
import { ensureDurable } from './durable.ts';
import { traceIdOf } from './trace.ts';

/** Default in-flight bound = this many batches: one in the handler, one filling behind it. */
export const CONSUMER_IN_FLIGHT_BATCHES = 2;
/**
 * Default ack wait. A message unacked this long is redelivered by the server; while a batch is held
 * (queued or in the handler) this helper tells the server it is still working on it every
 * ackWaitMs / CONSUMER_PROGRESS_PER_ACK_WAIT, so only a dead process lets the wait run out.
 */
export const CONSUMER_ACK_WAIT_MS = 30_000;
export const CONSUMER_PROGRESS_PER_ACK_WAIT = 3;
/**
 * Default delivery bound. After this many deliveries the server stops redelivering a message (it stays in
 * the stream, and the server emits a max-deliveries advisory); the helper logs it as poison at error level.
 */
export const CONSUMER_DELIVER_MAX = 10;
/**
 * A message delivered more than this many times is handed to the handler alone: a message that fails
 * every batch it is in (poison) would otherwise use up its neighbours' deliveries too, and the server
 * stops redelivering at deliverMax. Transient failures (a database blip) keep full batches.
 */
export const CONSUMER_ISOLATE_AFTER_DELIVERIES = 3;
/** Largest batch accepted: beyond this one handler call holds too many unacked messages at once. */
export const CONSUMER_BATCH_MESSAGES_LIMIT = 10_000;

export interface Decoded<T = unknown> {
  data: T;
  subject: string;
  /** stream sequence */
  seq: number;
  /** previous deliveries of this message: 0 on the first delivery */
  redeliveryCount: number;
  traceId: string | undefined;
  msgId: string | undefined;
}

export interface BatchConsumerOptions<T> {
  js: JetStreamClient;
  stream: string;
  durable: string;
  filterSubject?: string;
  /** at most this many messages per handler call */
  batchMax: number;
  /** a partial batch is handed over at most this long after its first message arrived */
  batchWaitMsMax: number;
  /** delivered-but-unacked bound, enforced by the server (max_ack_pending): it stops delivering there */
  inFlightMax?: number;
  ackWaitMs?: number;
  deliverMax?: number;
  /** a failed batch is redelivered after this delay */
  nakDelayMs: number;
  handle: (msgs: Decoded<T>[]) => Promise<void>;
  logger: Logger;
}

export interface BatchConsumer {
  /** stops pulling, lets the running batch finish, naks what was queued so it is redelivered at once */
  stop(): Promise<void>;
  /** messages in the stream not yet delivered to this consumer (consumer info num_pending) */
  lag(): Promise<number>;
}

const decoder = new TextDecoder();

export async function startBatchConsumer<T = unknown>(opts: BatchConsumerOptions<T>): Promise<BatchConsumer> {
  const { js, stream, durable, batchMax, batchWaitMsMax, nakDelayMs, handle } = opts;
  const inFlightMax = opts.inFlightMax ?? batchMax * CONSUMER_IN_FLIGHT_BATCHES;
  const ackWaitMs = opts.ackWaitMs ?? CONSUMER_ACK_WAIT_MS;
  const deliverMax = opts.deliverMax ?? CONSUMER_DELIVER_MAX;
  assert(Number.isInteger(batchMax) && batchMax >= 1 && batchMax <= CONSUMER_BATCH_MESSAGES_LIMIT, `batchMax ${batchMax} outside 1..${CONSUMER_BATCH_MESSAGES_LIMIT}`);
  assert(batchWaitMsMax >= 0 && nakDelayMs >= 0, 'batchWaitMsMax and nakDelayMs must be >= 0');
  assert(Number.isInteger(inFlightMax) && inFlightMax >= batchMax, `inFlightMax ${inFlightMax} must be >= batchMax ${batchMax}`);
  assert(ackWaitMs >= 1_000 && deliverMax >= 1, 'ackWaitMs must be >= 1000 and deliverMax >= 1');
  const log = opts.logger.child({ component: 'nats-consumer', stream, durable });

  await ensureDurable(await js.jetstreamManager(), {
    stream, durable, ackWaitMs, deliverMax, inFlightMax,
    ...(opts.filterSubject === undefined ? {} : { filterSubject: opts.filterSubject }),
  });
  const consumer = await js.consumers.get(stream, durable);
  // one pull asks for the whole in-flight allowance; the server never has more than inFlightMax out
  const messages = await consumer.consume({ max_messages: inFlightMax });

  const queue: JsMsg[] = [];
  /** every message delivered and not yet acked/nak'ed: queued or in the handler */
  const held = new Set<JsMsg>();
  let firstQueuedAtMs = 0;
  let stopping = false;
  let wake: (() => void) | undefined;
  const wakeUp = () => { const w = wake; wake = undefined; w?.(); };
  /** resolves on the next queued message, on stop, or after ms */
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = ms === Infinity ? undefined : setTimeout(() => { if (wake === done) wakeUp(); }, ms);
    const done = () => { clearTimeout(timer); resolve(); };
    wake = done;
  });

  const reader = (async () => {
    try {
      for await (const m of messages) {
        if (queue.length === 0) firstQueuedAtMs = performance.now();
        queue.push(m);
        held.add(m);
        wakeUp();
      }
    } catch (err) {
      log.error({ err }, 'consumer stopped pulling');
    }
  })();

  const progress = setInterval(() => {
    try {
      for (const m of held) m.working();
    } catch (err) {
      log.warn({ err }, 'could not extend the ack wait (disconnected?); held messages may be redelivered');
    }
  }, ackWaitMs / CONSUMER_PROGRESS_PER_ACK_WAIT);

  const runBatch = async (batch: JsMsg[]): Promise<void> => {
    const decoded: Decoded<T>[] = [];
    const kept: JsMsg[] = [];
    for (const m of batch) {
      const d = decode<T>(m);
      if (d === undefined) {
        // not JSON: no retry can ever succeed, so it is terminated instead of redelivered
        log.error({ seq: m.seq, subject: m.subject }, 'message is not JSON; terminated');
        m.term();
        held.delete(m);
      } else {
        decoded.push(d);
        kept.push(m);
      }
    }
    if (decoded.length === 0) return;
    try {
      await handle(decoded);
    } catch (err) {
      for (const m of kept) {
        m.nak(nakDelayMs);
        held.delete(m);
        if (m.info.redeliveryCount >= deliverMax) log.error({ seq: m.seq, subject: m.subject, deliveries: m.info.redeliveryCount }, 'poison message: last delivery failed, the server will not redeliver it');
      }
      log.warn({ err, size: kept.length, firstSeq: kept[0]?.seq }, 'batch handler failed; batch nak\'ed for redelivery');
      return;
    }
    // the batch is durable: now, and only now, ack it; an ack lost here means a redelivery (handlers are idempotent)
    const acked = await Promise.allSettled(kept.map((m) => m.ackAck()));
    for (const m of kept) held.delete(m);
    const lost = acked.filter((r) => r.status === 'rejected' || r.value === false).length;
    if (lost > 0) log.warn({ lost, size: kept.length }, 'acks not confirmed; those messages will be redelivered');
  };

  const loop = (async () => {
    while (!stopping) {
      if (queue.length === 0) {
        await sleep(Infinity);
        continue;
      }
      const waitMs = firstQueuedAtMs + batchWaitMsMax - performance.now();
      if (queue.length < batchMax && waitMs > 0) {
        await sleep(waitMs);
        continue;
      }
      // leftover messages keep the old firstQueuedAtMs: they have waited already and go out next
      const batch = takeBatch(queue, batchMax);
      try {
        await runBatch(batch);
      } catch (err) {
        // nak/term failed (connection lost): unacked messages come back after the ack wait
        for (const m of batch) held.delete(m);
        log.error({ err, size: batch.length }, 'could not settle a batch; it will be redelivered after the ack wait');
      }
    }
  })();

  return {
    async stop() {
      if (stopping) return;
      stopping = true;
      wakeUp();
      await messages.close();
      await reader;
      await loop;
      clearInterval(progress);
      // delivered but never handed to the handler: give them back now instead of after the ack wait
      for (const m of queue.splice(0)) m.nak();
      held.clear();
    },
    async lag() {
      return (await consumer.info()).num_pending;
    },
  };
}

const isSuspect = (m: JsMsg) => m.info.redeliveryCount > CONSUMER_ISOLATE_AFTER_DELIVERIES;

/** Up to batchMax messages off the queue; a suspect message at the head goes alone, others skip suspects. */
function takeBatch(queue: JsMsg[], batchMax: number): JsMsg[] {
  if (isSuspect(queue[0]!)) return queue.splice(0, 1);
  const batch: JsMsg[] = [];
  const rest: JsMsg[] = [];
  for (const m of queue) {
    if (batch.length < batchMax && !isSuspect(m)) batch.push(m);
    else rest.push(m);
  }
  queue.splice(0, queue.length, ...rest);
  return batch;
}

function decode<T>(m: JsMsg): Decoded<T> | undefined {
  let data: T;
  try {
    data = JSON.parse(decoder.decode(m.data)) as T;
  } catch {
    return undefined;
  }
  const msgId = m.headers?.get('Nats-Msg-Id');
  return {
    data,
    subject: m.subject,
    seq: m.seq,
    redeliveryCount: m.info.redeliveryCount - 1, // the library counts deliveries, the first being 1
    traceId: traceIdOf(m),
    msgId: msgId === undefined || msgId === '' ? undefined : msgId,
  };
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`startBatchConsumer: ${message}`);
}
