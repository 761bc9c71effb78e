// The durable pull consumer behind startBatchConsumer: created on first start, updated to the current
// limits on later starts, so a redeploy with a new ack wait or in-flight bound takes effect.
import { AckPolicy, DeliverPolicy, nanos, type ConsumerConfig, type JetStreamManager } from 'nats';
import { isJsApiError } from './streams.ts';

const CONSUMER_NOT_FOUND = 10014;

export interface DurableSpec {
  stream: string;
  durable: string;
  filterSubject?: string;
  ackWaitMs: number;
  deliverMax: number;
  /** server-side bound on delivered-but-unacked messages (max_ack_pending) */
  inFlightMax: number;
}

export async function ensureDurable(jsm: JetStreamManager, spec: DurableSpec): Promise<void> {
  const limits = {
    ack_wait: nanos(spec.ackWaitMs),
    max_deliver: spec.deliverMax,
    max_ack_pending: spec.inFlightMax,
  };
  let existing: ConsumerConfig | undefined;
  try {
    existing = (await jsm.consumers.info(spec.stream, spec.durable)).config;
  } catch (e) {
    if (!isJsApiError(e, CONSUMER_NOT_FOUND)) throw e;
  }
  if (existing === undefined) {
    await jsm.consumers.add(spec.stream, {
      durable_name: spec.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...(spec.filterSubject === undefined ? {} : { filter_subject: spec.filterSubject }),
      ...limits,
    });
    return;
  }
  const filterChanged = (existing.filter_subject ?? '') !== (spec.filterSubject ?? '');
  await jsm.consumers.update(spec.stream, spec.durable, {
    ...limits,
    // changing what a durable reads is refused by older servers: the error surfaces at start-up
    ...(filterChanged ? { filter_subject: spec.filterSubject ?? '' } : {}),
  });
}
