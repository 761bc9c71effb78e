import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { Registry } from 'prom-client';
import { ManualClock } from '../../shared/clock.ts';
import { publish, subject, type BatchConsumer } from '../../shared/nats/index.ts';
import { LIQUIDITY_SUBJECT } from '../../services/settlement/liquidity/monitor.ts';
import { startLiquidityWebhook, webhookTargetOf } from '../../services/settlement/liquidity/webhook.ts';
import { verifyWebhook } from '../../services/spi/webhooks/signature.ts';
import { eventually, natsFixture, type NatsFixture } from '../nats/fixture.ts';
import { testConfig } from '../support/env.ts';

const SECRET = 'treasury-webhook-secret-0123456789abcdef';
const ATTEMPTS_MAX = 3;
const config = testConfig('liq-webhook');
const clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0));
let nats: NatsFixture;
let consumer: BatchConsumer;
let server: ReturnType<typeof Bun.serve>;

/** What the receiver saw: every attempt, with whether its signature verified. */
interface Received { eventId: string; verified: boolean; body: { kind: string; level?: string } }
let received: Received[] = [];
/** answers for the next requests (503 = fail); 200 once the list is used up */
let failures: number[] = [];

const alert = (episode: string, level: string) => publish(nats.js, subject(config, LIQUIDITY_SUBJECT),
  { channel: 'liquidity', kind: 'alert', account: { ispb: '12345678', accountNumber: 'PI' }, level, episode, balance: '150.00', forecasted: false, at: clock.now().toISOString() },
  { msgId: `${episode}:${level}` });

beforeAll(async () => {
  nats = await natsFixture(config, 'liq-webhook');
  server = Bun.serve({
    port: 0, hostname: '127.0.0.1',
    async fetch(req) {
      const body = await req.text();
      received.push({
        eventId: req.headers.get('x-fluxiq-event-id') ?? '',
        verified: verifyWebhook(SECRET, req.headers.get('x-fluxiq-signature') ?? '', body, Math.floor(clock.nowMs() / 1000)),
        body: JSON.parse(body),
      });
      const status = failures.shift() ?? 200;
      return new Response(null, { status });
    },
  });
  const target = webhookTargetOf({ liquidityWebhookUrl: `http://127.0.0.1:${server.port}/treasury/pix`, liquidityWebhookSecret: SECRET });
  consumer = await startLiquidityWebhook({ js: nats.js, config, clock, logger: nats.logger, registry: new Registry() }, target!, { attemptsMax: ATTEMPTS_MAX, backoffMsBase: 5, backoffMsMax: 20 });
});
afterAll(async () => {
  await consumer.stop();
  server.stop(true);
  await nats.close();
});
beforeEach(() => { received = []; failures = []; });

describe('liquidity alerts to the webhook', () => {
  test('an alert arrives signed with the shared secret (SPI webhook scheme) and its event id', async () => {
    await alert('EP-1', 'CRITICAL');
    await eventually('the alert delivered', () => received.length === 1);
    expect(received[0]).toEqual({ eventId: 'EP-1:CRITICAL', verified: true, body: expect.objectContaining({ kind: 'alert', level: 'CRITICAL', channel: 'liquidity' }) });
  });

  test('a receiver failing twice gets the same event a third time and no more', async () => {
    failures = [503, 500];
    await alert('EP-2', 'WARNING');
    await eventually('the third attempt', () => received.length === 3);
    await Bun.sleep(50);
    expect(received.map((r) => [r.eventId, r.verified])).toEqual([['EP-2:WARNING', true], ['EP-2:WARNING', true], ['EP-2:WARNING', true]]);
  });

  test(`retries are bounded: after ${ATTEMPTS_MAX} failed attempts the event is given up and the next one still goes out`, async () => {
    failures = Array(ATTEMPTS_MAX).fill(503);
    await alert('EP-3', 'CRITICAL');
    await alert('EP-3', 'OK');
    await eventually('the next event delivered', () => received.some((r) => r.eventId === 'EP-3:OK'));
    expect(received.map((r) => r.eventId)).toEqual([...Array(ATTEMPTS_MAX).fill('EP-3:CRITICAL'), 'EP-3:OK']);
  });

  test('a short secret or a non-HTTP URL is refused at start; no URL means no webhook', () => {
    expect(() => webhookTargetOf({ liquidityWebhookUrl: 'http://127.0.0.1:1/x', liquidityWebhookSecret: 'short' })).toThrow(/at least 32/);
    expect(() => webhookTargetOf({ liquidityWebhookUrl: 'ftp://127.0.0.1/x', liquidityWebhookSecret: SECRET })).toThrow(/http/);
    expect(webhookTargetOf({ liquidityWebhookUrl: '', liquidityWebhookSecret: '' })).toBeUndefined();
  });
});
