import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { publish, streamName, subject } from '../../shared/nats/index.ts';
import { grossPositions } from '../../services/settlement/netting/netting.ts';
import { POSITIONS_DURABLE, startPositionConsumer, type PositionConsumer } from '../../services/settlement/positions/consumer.ts';
import { eventPositions } from '../../services/settlement/positions/store.ts';
import { advanceWindows, settledPayments as tablePayments } from '../../services/settlement/windows/store.ts';
import { windowAt, WINDOW_GRACE_MS } from '../../services/settlement/windows/window.ts';
import { eventIdOf } from '../../services/spi/payments/events.ts';
import { startGateway, type GatewayHarness } from '../gateway/support.ts';
import { OURS, settledPayments, until } from './support/settled.ts';

const A = '10000001';
const B = '10000002';
const C = '10000003';
let gw: GatewayHarness;
let consumer: PositionConsumer;
let spi: ReturnType<typeof settledPayments>;

const start = () => startPositionConsumer({ js: gw.deps.js, jsm: gw.deps.jsm, sql: gw.deps.sql, config: gw.config, clock: gw.clock, logger: gw.deps.logger, registry: gw.deps.metrics.registry });
const counted = async () => Number((await gw.deps.sql<{ n: bigint }[]>`select count(*)::bigint as n from settlement_position_events`)[0]!.n);
const caughtUp = async (events: number) => {
  await spi.events.drain();
  await until(`${events} events counted`, async () => (await counted()) === events && (await consumer.caughtUp()));
};

beforeAll(async () => {
  gw = await startGateway('positions');
  spi = settledPayments({ ...gw.deps, config: gw.config });
  consumer = await start();
});
afterAll(async () => {
  await consumer.stop();
  await gw.stop();
});

describe('positions from SPI settled-payment events', () => {
  const w = windowAt(new Date(Date.UTC(2026, 10, 25, 13, 0, 0)));
  const at = (min: number) => new Date(w.startsAt.getTime() + min * 60_000);

  test('the consumer\'s positions equal the ones derived from the transactions table, a redelivered event counted once', async () => {
    const paid = [
      await spi.settle(OURS, A, 10_000n, at(1)),
      await spi.settle(OURS, B, 2_500n, at(5)),
      await spi.settle(A, OURS, 4_000n, at(17)),
      await spi.settle(C, OURS, 1n, at(59)),
      await spi.settle(OURS, C, 123_456_78n, at(30)),
    ];
    await spi.settle(OURS, A, 99_999n, w.endsAt); // the next window's
    await caughtUp(6);
    // the same event published again after the stream's duplicate window (another Nats-Msg-Id): JetStream
    // stores and delivers it a second time, and only the event id can tell
    const again = paid[0]!;
    await publish(gw.deps.js, subject(gw.config, `pix.payments.${again.direction.toLowerCase()}.settled`),
      { eventId: eventIdOf(again.endToEndId, 'SETTLED'), type: 'payment.settled', at: at(1).toISOString(), payment: again.view }, { msgId: `${again.endToEndId}.republished` });
    await caughtUp(6);
    const outcomes = await gw.deps.metrics.registry.getSingleMetric('settlement_position_events_total')!.get();
    expect(outcomes.values.find((v) => v.labels.outcome === 'repeated')?.value).toBe(1);

    const fromTable = grossPositions(await tablePayments(gw.deps.sql, w));
    expect(fromTable.ok).toBe(true);
    const fromEvents = await eventPositions(gw.deps.sql, w.id);
    expect(fromEvents).toEqual(fromTable.ok ? fromTable.value : []);
    expect(fromEvents.find((p) => p.ispb === OURS)).toEqual({ ispb: OURS, grossDebitCentavos: 12_358_178n, grossCreditCentavos: 4_001n, payments: 5 });
    expect(fromEvents.find((p) => p.ispb === A)).toEqual({ ispb: A, grossDebitCentavos: 4_000n, grossCreditCentavos: 10_000n, payments: 2 });
  });

  test('a durable recreated from scratch gets every event again and the positions do not move', async () => {
    const before = await eventPositions(gw.deps.sql, w.id);
    await consumer.stop();
    await gw.deps.jsm.consumers.delete(streamName(gw.config, 'payments'), POSITIONS_DURABLE);
    consumer = await start(); // DeliverPolicy.All: the whole stream is redelivered
    await until('the stream redelivered', () => consumer.caughtUp());
    expect(await eventPositions(gw.deps.sql, w.id)).toEqual(before);
    expect(await counted()).toBe(6);
  });

  test('a window closes on the event positions: net sums to zero and matches the table, no difference reported', async () => {
    await advanceWindows(gw.deps.sql, w.endsAt, { positionsCaughtUp: (until) => consumer.caughtUp(until) });
    const moves = await advanceWindows(gw.deps.sql, new Date(w.endsAt.getTime() + WINDOW_GRACE_MS), { positionsCaughtUp: (until) => consumer.caughtUp(until) });
    expect(moves).toContainEqual({ id: w.id, to: 'CLOSED' });
    const rows = await gw.deps.sql<{ participant_ispb: string; net_centavos: bigint }[]>`select participant_ispb, net_centavos from settlements where window_id = ${w.id} order by participant_ispb`;
    expect(rows.map((r) => [r.participant_ispb, r.net_centavos])).toEqual([[A, 6_000n], [B, 2_500n], [C, 12_345_677n], [OURS, -12_354_177n]]);
  });

  test('a window does not close while the consumer has events left to count', async () => {
    const next = windowAt(w.endsAt);
    await advanceWindows(gw.deps.sql, next.endsAt);
    const moves = await advanceWindows(gw.deps.sql, new Date(next.endsAt.getTime() + WINDOW_GRACE_MS), { positionsCaughtUp: async () => false });
    expect(moves).not.toContainEqual(expect.objectContaining({ id: next.id, to: 'CLOSED' }));
    const [row] = await gw.deps.sql<{ state: string }[]>`select state from settlement_windows where id = ${next.id}`;
    expect(row!.state).toBe('CLOSING');
  });

  test('a settled payment whose event never came is reported when its window closes', async () => {
    const later = windowAt(new Date(Date.UTC(2026, 10, 25, 16, 0, 0)));
    await spi.settle(OURS, A, 700n, new Date(later.startsAt.getTime() + 60_000));
    await spi.settle(OURS, B, 300n, new Date(later.startsAt.getTime() + 120_000), { event: false });
    await caughtUp(7);
    await advanceWindows(gw.deps.sql, later.endsAt);
    const moves = await advanceWindows(gw.deps.sql, new Date(later.endsAt.getTime() + WINDOW_GRACE_MS), { positionsCaughtUp: (until) => consumer.caughtUp(until) });
    expect(moves).toContainEqual({ id: later.id, to: 'CLOSED', positionsDiffer: [B, OURS] });
  });

  test('under steady traffic a window still closes: only events stored before its grace ended must be counted', async () => {
    await consumer.stop(); // an event now waits in the stream, uncounted, as one always does under load
    await spi.settle(OURS, B, 5_00n, new Date(Date.UTC(2026, 10, 25, 17, 1, 0)));
    await spi.events.drain();
    const stored = Date.now();
    expect(await consumer.caughtUp(new Date(stored - 60_000))).toBe(true); // stored after that moment: not needed
    expect(await consumer.caughtUp(new Date(stored + 60_000))).toBe(false); // stored before: must be counted first
    expect(await consumer.caughtUp()).toBe(false);
    consumer = await start();
    await caughtUp(8);
    expect(await consumer.caughtUp(new Date(stored + 60_000))).toBe(true);
  });
});
