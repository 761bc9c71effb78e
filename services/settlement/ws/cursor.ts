// The WebSocket event id is a cursor over the three streams: `p<seq>.k<seq>.s<seq>`, the last stream
// sequence of PIX_PAYMENTS, PIX_KEYS and PIX_SETTLEMENT this connection has passed. A client that
// reconnects with the id of the last event it received resumes each stream at seq + 1: nothing missed
// (JetStream replays from the stream), nothing twice (the sequences it already had are behind the cursor).
import type { StreamKey } from '../../../shared/nats/index.ts';

export const FEED_STREAMS = ['payments', 'keys', 'settlement'] as const satisfies readonly StreamKey[];
export type FeedStream = (typeof FEED_STREAMS)[number];
export type Cursor = Record<FeedStream, number>;

const LETTER: Record<FeedStream, string> = { payments: 'p', keys: 'k', settlement: 's' };
const CURSOR_PATTERN = /^p(\d{1,15})\.k(\d{1,15})\.s(\d{1,15})$/;

export function formatCursor(c: Cursor): string {
  return FEED_STREAMS.map((s) => `${LETTER[s]}${c[s]}`).join('.');
}

export function parseCursor(raw: string): Cursor | undefined {
  const m = CURSOR_PATTERN.exec(raw);
  if (m === null) return undefined;
  return { payments: Number(m[1]), keys: Number(m[2]), settlement: Number(m[3]) };
}
