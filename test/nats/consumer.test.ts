import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { publish, startBatchConsumer, streamName, subject, type BatchConsumer, type Decoded } from '../../shared/nats/index.ts';
import { testConfig } from '../support/env.ts';
import { eventually, gate, natsFixture, type NatsFixture } from './fixture.ts';

const config = testConfig('nats-consumer');
const stream = streamName(config, 'payments');
let f: NatsFixture;
const running: BatchConsumer[] = [];

beforeAll(async () => { f = await natsFixture(config, 'consumer'); });
afterAll(async () => {
  await Promise.all(running.map((c) => c.stop()));
  await f.close();
});

/** Each test reads its own subject through its own durable, so tests do not see each other's messages. */
async function publishN(topic: string, n: number, traceId?: string): Promise<void> {
  for (let i = 1; i <= n; i++) {
    await publish(f.js, subject(config, `pix.payments.${topic}`), { n: i }, { msgId: `${topic}-${i}`, ...(traceId ? { traceId } : {}) });
  }
}

async function start(topic: string, handle: (msgs: Decoded<{ n: number }>[]) => Promise<void>, extra: { batchMax?: number; inFlightMax?: number } = {}) {
  const c = await startBatchConsumer<{ n: number }>({
    js: f.js,
    stream,
    durable: `test_${topic}`,
    filterSubject: subject(config, `pix.payments.${topic}`),
    batchMax: extra.batchMax ?? 10,
    batchWaitMsMax: 20,
    ...(extra.inFlightMax === undefined ? {} : { inFlightMax: extra.inFlightMax }),
    nakDelayMs: 50,
    handle,
    logger: f.logger,
  });
  running.push(c);
  return c;
}

const consumerInfo = (topic: string) => f.jsm.consumers.info(stream, `test_${topic}`);

describe('batch consumer', () => {
  test('a batch whose handler failed is redelivered and handled again; it is acked only after the handler succeeds', async () => {
    await publishN('retry', 5);
    const attempts: { ns: number[]; redeliveries: number[]; failed: boolean }[] = [];
    let calls = 0;
    await start('retry', async (msgs) => {
      const failed = calls++ === 0;
      attempts.push({ ns: msgs.map((m) => m.data.n), redeliveries: msgs.map((m) => m.redeliveryCount), failed });
      if (failed) throw new Error('database unavailable');
    });
    await eventually('every message handled successfully', () => new Set(attempts.filter((a) => !a.failed).flatMap((a) => a.ns)).size === 5);
    const failedNs = attempts[0]!.ns;
    expect(attempts[0]!.failed).toBe(true);
    expect(failedNs.length).toBeGreaterThan(0);
    const succeeded = attempts.filter((a) => !a.failed);
    // every message of the failed batch came back, marked as a redelivery
    for (const n of failedNs) {
      const i = succeeded.findIndex((a) => a.ns.includes(n));
      expect(i).toBeGreaterThanOrEqual(0);
      expect(succeeded[i]!.redeliveries[succeeded[i]!.ns.indexOf(n)]).toBe(1);
    }
    await eventually('acks recorded', async () => (await consumerInfo('retry')).num_ack_pending === 0);
    const info = await consumerInfo('retry');
    expect(info.num_pending).toBe(0);
    expect(info.ack_floor.consumer_seq).toBe(info.delivered.consumer_seq);
  });

  test('messages stay unacked while the handler is still writing them', async () => {
    await publishN('gated', 3);
    const write = gate();
    let handled: number[] = [];
    let entered = false;
    await start('gated', async (msgs) => {
      entered = true;
      await write.wait;
      handled = msgs.map((m) => m.data.n);
    });
    await eventually('handler entered', () => entered);
    const during = await consumerInfo('gated');
    expect(during.num_ack_pending).toBe(3);
    expect(during.ack_floor.stream_seq).toBe(0);
    write.open();
    await eventually('acked after the write', async () => (await consumerInfo('gated')).num_ack_pending === 0);
    expect(handled).toEqual([1, 2, 3]);
  });

  test('batches never exceed batchMax and the server holds back deliveries beyond inFlightMax (lag shows the rest)', async () => {
    await publishN('bounded', 7);
    const write = gate();
    const sizes: number[] = [];
    const c = await start('bounded', async (msgs) => {
      sizes.push(msgs.length);
      await write.wait;
    }, { batchMax: 2, inFlightMax: 2 });
    await eventually('first batch in the handler', () => sizes.length === 1);
    expect((await consumerInfo('bounded')).num_ack_pending).toBe(2);
    expect(await c.lag()).toBe(5);
    write.open();
    await eventually('all handled', async () => sizes.reduce((a, b) => a + b, 0) === 7);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2);
    await eventually('lag drained', async () => (await c.lag()) === 0);
  });

  test('a message that fails every batch is isolated after repeated failures, so its neighbours are handled', async () => {
    await publishN('poison', 3);
    const handled = new Set<number>();
    const tried: number[][] = [];
    await start('poison', async (msgs) => {
      tried.push(msgs.map((m) => m.data.n));
      if (msgs.some((m) => m.data.n === 2)) throw new Error('n=2 can never be written');
      for (const m of msgs) handled.add(m.data.n);
    });
    await eventually('neighbours handled', () => handled.has(1) && handled.has(3));
    expect(handled.has(2)).toBe(false);
    expect(tried.some((b) => b.length === 1 && b[0] === 2)).toBe(true);
  });

  test('the trace id travels in a header; a publish without one gets a fresh id', async () => {
    await publishN('traced', 1, 'trace-abc-123');
    await publishN('untraced', 1);
    const seen: (string | undefined)[] = [];
    await start('traced', async (msgs) => { seen.push(...msgs.map((m) => m.traceId)); });
    await start('untraced', async (msgs) => { seen.push(...msgs.map((m) => m.traceId)); });
    await eventually('both delivered', () => seen.length === 2);
    expect(seen).toContain('trace-abc-123');
    expect(seen.some((t) => t !== undefined && /^[0-9a-f]{32}$/.test(t))).toBe(true);
  });

  test('stop lets the running batch finish and ack before it returns', async () => {
    await publishN('stopping', 2);
    const write = gate();
    let entered = false;
    const c = await start('stopping', async () => { entered = true; await write.wait; });
    await eventually('handler entered', () => entered);
    const stopped = c.stop();
    setTimeout(write.open, 20);
    await stopped;
    expect((await consumerInfo('stopping')).num_ack_pending).toBe(0);
  });
});
