// Every JetStream publish carries a Nats-Msg-Id (the stream stores a repeated id once within its
// duplicate window, so a retried publish cannot create a second payment event) and a trace id.
import type { JetStreamClient, PubAck } from 'nats';
import { traceHeaders } from './trace.ts';

/** Longest Nats-Msg-Id we send; ids are our own (payment ids, end-to-end ids), never free text. */
export const MSG_ID_LENGTH_MAX = 128;

export interface PublishOptions {
  /** de-duplication id: the same id published twice within the window is stored once */
  msgId: string;
  /** propagated trace id; a fresh one is generated when absent */
  traceId?: string;
}

const encoder = new TextEncoder();

/** Publishes `payload` as JSON; the PubAck says whether the stream had already stored this msgId. */
export async function publish(js: JetStreamClient, subject: string, payload: unknown, opts: PublishOptions): Promise<PubAck> {
  if (opts.msgId.length === 0 || opts.msgId.length > MSG_ID_LENGTH_MAX) {
    throw new Error(`msgId must be 1..${MSG_ID_LENGTH_MAX} characters (got ${opts.msgId.length})`);
  }
  return js.publish(subject, encoder.encode(JSON.stringify(payload)), {
    msgID: opts.msgId,
    headers: traceHeaders(opts.traceId),
  });
}
