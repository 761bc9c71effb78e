// JetStream streams of the platform. `config.natsPrefix` namespaces stream names and subjects so a test
// run (prefix `T_...`) never shares state with the platform (empty prefix).
import { DiscardPolicy, RetentionPolicy, StorageType, nanos, type JetStreamManager, type StreamConfig } from 'nats';
import type { Config } from '../config.ts';

type PrefixConfig = Pick<Config, 'natsPrefix'>;

const MIB = 1024 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Publishes repeating a Nats-Msg-Id inside this window are stored once (PubAck.duplicate = true).
 * 2 min covers a publisher's retries across a NATS reconnect; a longer window costs server memory.
 */
export const STREAM_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
/** One message is one event (a payment, a key change): 1 MiB is far above any real one. */
export const STREAM_MESSAGE_BYTES_MAX = 1 * MIB;

export interface StreamDefinition {
  /** unprefixed name, e.g. PIX_PAYMENTS */
  name: string;
  /** unprefixed subject root, e.g. pix.payments (the stream takes `<root>.>`) */
  root: string;
  /** events older than this are deleted */
  ageMsMax: number;
  /**
   * At this size the stream refuses new messages (discard: new): the publisher gets an error and
   * answers 503, because silently dropping the oldest unconsumed payment events would lose money movements.
   */
  bytesMax: number;
}

export const STREAMS = {
  /** payment lifecycle events (created, sent, settled, returned); kept for reconciliation */
  payments: { name: 'PIX_PAYMENTS', root: 'pix.payments', ageMsMax: 7 * DAY_MS, bytesMax: 1024 * MIB },
  /** DICT key changes (registered, claimed, deleted); caches invalidate from them */
  keys: { name: 'PIX_KEYS', root: 'pix.keys', ageMsMax: 7 * DAY_MS, bytesMax: 256 * MIB },
  /** settlement windows and position changes */
  settlement: { name: 'PIX_SETTLEMENT', root: 'pix.settlement', ageMsMax: 30 * DAY_MS, bytesMax: 256 * MIB },
} as const satisfies Record<string, StreamDefinition>;

export type StreamKey = keyof typeof STREAMS;

/** `pix.payments.created` → `${prefix}.pix.payments.created` (unchanged when the prefix is empty). */
export function subject(config: PrefixConfig, name: string): string {
  return config.natsPrefix === '' ? name : `${config.natsPrefix}.${name}`;
}

/** `PIX_PAYMENTS` → `${prefix}_PIX_PAYMENTS` (unchanged when the prefix is empty). */
export function streamName(config: PrefixConfig, key: StreamKey): string {
  const { name } = STREAMS[key];
  return config.natsPrefix === '' ? name : `${config.natsPrefix}_${name}`;
}

/** Limits a caller may shrink (tests use small streams so they reserve little storage on the server). */
export interface StreamLimitOverrides {
  bytesMax?: number;
  ageMsMax?: number;
  /** num_replicas: 3 on a three-node cluster (NATS_STREAM_REPLICAS) */
  replicas?: number;
}

export function streamConfig(config: PrefixConfig, key: StreamKey, overrides: StreamLimitOverrides = {}): StreamConfig {
  const def: StreamDefinition = STREAMS[key];
  return {
    name: streamName(config, key),
    subjects: [subject(config, `${def.root}.>`)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_age: nanos(overrides.ageMsMax ?? def.ageMsMax),
    max_bytes: overrides.bytesMax ?? def.bytesMax,
    max_msg_size: STREAM_MESSAGE_BYTES_MAX,
    duplicate_window: nanos(STREAM_DUPLICATE_WINDOW_MS),
    num_replicas: overrides.replicas ?? 1,
  } as StreamConfig;
}

const STREAM_NOT_FOUND = 10059;

/** Creates every stream, or updates it to the current definition; running it twice changes nothing. */
export async function ensureStreams(jsm: JetStreamManager, config: PrefixConfig, overrides: StreamLimitOverrides = {}): Promise<void> {
  for (const key of Object.keys(STREAMS) as StreamKey[]) {
    const cfg = streamConfig(config, key, overrides);
    if (await streamExists(jsm, cfg.name)) await jsm.streams.update(cfg.name, cfg);
    else await jsm.streams.add(cfg);
  }
}

/** Deletes this prefix's streams (test clean-up). Refuses the empty prefix: that is the platform's data. */
export async function deleteStreams(jsm: JetStreamManager, config: PrefixConfig): Promise<void> {
  if (config.natsPrefix === '') throw new Error('deleteStreams refuses the empty NATS prefix: those are the platform streams');
  for (const key of Object.keys(STREAMS) as StreamKey[]) {
    const name = streamName(config, key);
    if (await streamExists(jsm, name)) await jsm.streams.delete(name);
  }
}

async function streamExists(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    await jsm.streams.info(name);
    return true;
  } catch (e) {
    if (isJsApiError(e, STREAM_NOT_FOUND)) return false;
    throw e;
  }
}

export function isJsApiError(e: unknown, errCode: number): boolean {
  const api = (e as { api_error?: { err_code?: number } } | null)?.api_error;
  return api?.err_code === errCode;
}
