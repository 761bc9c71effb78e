import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { DiscardPolicy, StorageType, nanos } from 'nats';
import {
  connectNats, deleteStreams, ensureStreams, publish, streamName, subject, STREAMS, STREAM_DUPLICATE_WINDOW_MS,
} from '../../shared/nats/index.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { testConfig } from '../support/env.ts';
import { natsFixture, TEST_STREAM_BYTES_MAX, type NatsFixture } from './fixture.ts';

const config = testConfig('nats-streams');
let f: NatsFixture;

beforeAll(async () => { f = await natsFixture(config, 'streams'); });
afterAll(async () => { await f.close(); });

describe('streams', () => {
  test('the prefix namespaces stream names and subjects; the empty prefix leaves them as the platform uses them', () => {
    expect(streamName({ natsPrefix: 'T1' }, 'payments')).toBe('T1_PIX_PAYMENTS');
    expect(subject({ natsPrefix: 'T1' }, 'pix.payments.created')).toBe('T1.pix.payments.created');
    expect(streamName({ natsPrefix: '' }, 'keys')).toBe('PIX_KEYS');
    expect(subject({ natsPrefix: '' }, 'pix.keys.deleted')).toBe('pix.keys.deleted');
  });

  test('ensureStreams is idempotent: a second run succeeds and leaves the same configuration', async () => {
    const before = await f.jsm.streams.info(streamName(config, 'payments'));
    await ensureStreams(f.jsm, config, { bytesMax: TEST_STREAM_BYTES_MAX });
    const after = await f.jsm.streams.info(streamName(config, 'payments'));
    expect(after.config).toEqual(before.config);
    expect(after.config.subjects).toEqual([`${config.natsPrefix}.pix.payments.>`]);
    expect(after.config.storage).toBe(StorageType.File);
    expect(after.config.discard).toBe(DiscardPolicy.New);
    expect(after.config.duplicate_window).toBe(nanos(STREAM_DUPLICATE_WINDOW_MS));
    expect(after.config.max_bytes).toBe(TEST_STREAM_BYTES_MAX);
    for (const key of ['keys', 'settlement'] as const) {
      expect((await f.jsm.streams.info(streamName(config, key))).config.name).toBe(`${config.natsPrefix}_${STREAMS[key].name}`);
    }
  });

  test('publishing the same Nats-Msg-Id twice stores one message and flags the second as duplicate', async () => {
    const subj = subject(config, 'pix.payments.created');
    const first = await publish(f.js, subj, { id: 'E1', amountCentavos: 100 }, { msgId: 'E1' });
    const second = await publish(f.js, subj, { id: 'E1', amountCentavos: 100 }, { msgId: 'E1' });
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);
    const info = await f.jsm.streams.info(streamName(config, 'payments'));
    expect(info.state.messages).toBe(1);
  });

  test('deleteStreams refuses the empty prefix, which names the platform streams', async () => {
    await expect(deleteStreams(f.jsm, { natsPrefix: '' })).rejects.toThrow(/empty NATS prefix/);
  });

  test('an unreachable NATS fails start-up with one actionable line', async () => {
    const logger = createLogger('test', 'silent');
    const err = await connectNats({ natsUrl: 'nats://127.0.0.1:1' }, logger).then(() => null, (e: Error) => e);
    expect(err?.message).toContain('cannot reach NATS at nats://127.0.0.1:1');
    expect(err?.message).toContain('NATS_URL');
    expect(err?.message.includes('\n')).toBe(false);
  });
});
