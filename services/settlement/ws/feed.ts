// One connection's event feed: an ordered (ephemeral) JetStream consumer per stream, started at the
// cursor + 1, so a resumed connection replays exactly what it has not seen. The cursor moves and the
// event leaves in the same synchronous step (no await between), so an id a client holds never covers an
// event it was not sent. An event that could not be sent (the socket dropped it, or the client is too
// slow) ends the connection instead of being skipped: the client reconnects with its last id.
import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager } from 'nats';
import type { Config } from '../../../shared/config.ts';
import { streamName } from '../../../shared/nats/index.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import { channelsOf, matches } from './channels.ts';
import { FEED_STREAMS, formatCursor, type Cursor, type FeedStream } from './cursor.ts';

export interface FeedEvent {
  type: 'event';
  /** resume cursor: send it back as lastEventId */
  id: string;
  stream: FeedStream;
  seq: number;
  subject: string;
  channels: string[];
  data: unknown;
}

/** What the feed tells its sink: true = sent, false = could not be sent (the feed stops). */
export type Sink = (message: string) => boolean;

export interface Feed {
  /** the cursor the connection starts from (sent to the client first, so even a quiet feed can resume) */
  readonly start: Cursor;
  /** streams whose oldest retained message is past the client's cursor: events were lost to retention */
  readonly gaps: FeedStream[];
  stop(): Promise<void>;
}

const decoder = new TextDecoder();

export async function openFeed(opts: {
  js: JetStreamClient; jsm: JetStreamManager; config: Pick<Config, 'natsPrefix'>;
  from: Cursor | undefined; channels: ReadonlySet<string>; send: Sink; onBroken: (why: string) => void; logger: Logger;
  /** called with the start cursor before any event can be sent */
  onStart: (start: Cursor, gaps: FeedStream[]) => void;
}): Promise<Feed> {
  const { js, jsm, config, from, channels, send, onBroken, logger } = opts;
  const cursor = {} as Cursor;
  const gaps: FeedStream[] = [];
  for (const s of FEED_STREAMS) {
    const state = (await jsm.streams.info(streamName(config, s))).state;
    // a cursor from the future (forged or from another environment) is clamped to the stream's end
    cursor[s] = from === undefined ? state.last_seq : Math.min(from[s], state.last_seq);
    if (from !== undefined && cursor[s] + 1 < state.first_seq && state.messages > 0) gaps.push(s);
  }
  const start = { ...cursor };
  opts.onStart(start, gaps);
  const iterators: ConsumerMessages[] = [];
  let stopped = false;
  const loops: Promise<void>[] = [];

  try {
    for (const s of FEED_STREAMS) {
      const consumer = await js.consumers.get(streamName(config, s), { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: cursor[s] + 1 });
      const messages = await consumer.consume();
      iterators.push(messages);
      loops.push((async () => {
        for await (const m of messages) {
          if (stopped) break;
          let data: unknown;
          try {
            data = JSON.parse(decoder.decode(m.data));
          } catch {
            data = undefined; // not JSON: passes the cursor, goes to nobody
          }
          const eventChannels = channelsOf(data);
          cursor[s] = m.seq;
          if (data === undefined || !matches(channels, eventChannels)) continue;
          const event: FeedEvent = { type: 'event', id: formatCursor(cursor), stream: s, seq: m.seq, subject: m.subject, channels: eventChannels, data };
          if (!send(JSON.stringify(event))) {
            stopped = true;
            onBroken(`event ${s}:${m.seq} could not be delivered`);
            break;
          }
        }
      })().catch((err: unknown) => {
        logger.warn({ err, stream: s }, 'feed consumer ended');
        if (!stopped) onBroken('feed consumer ended');
      }));
    }
  } catch (e) {
    for (const it of iterators) await it.close().catch(() => {});
    throw e;
  }

  return {
    start,
    gaps,
    async stop() {
      stopped = true;
      for (const it of iterators) await it.close().catch(() => {});
      await Promise.allSettled(loops);
    },
  };
}
