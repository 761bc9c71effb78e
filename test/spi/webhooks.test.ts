// Webhooks for payment status changes: signed, retried with backoff until a 2xx, every attempt recorded,
// manual redelivery, one delivery per event id.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { publish, subject } from '../../shared/nats/index.ts';
import { verifyWebhook } from '../../services/spi/webhooks/signature.ts';
import { cpf, startSpi, type SpiHarness } from './support/harness.ts';

let h: SpiHarness;
const received: { eventId: string; signature: string; body: string }[] = [];
let failuresLeft = 2;
let receiver: ReturnType<typeof Bun.serve>;
const SECRET = 'a-webhook-secret-of-some-length';

beforeAll(async () => {
  h = await startSpi('spi-webhooks');
  await h.openAccount('0005', '7001', cpf('204818113'), '50.00');
  await h.registerKey('gil@example.com', 'EMAIL', { taxId: cpf('582103476'), name: 'Gil Recebedor' });
  receiver = Bun.serve({
    port: 0, hostname: '127.0.0.1',
    async fetch(req) {
      const body = await req.text();
      received.push({ eventId: req.headers.get('x-fluxiq-event-id')!, signature: req.headers.get('x-fluxiq-signature')!, body });
      if (failuresLeft > 0) {
        failuresLeft--;
        return new Response('not now', { status: 503 });
      }
      return new Response(null, { status: 204 });
    },
  });
}, 30_000);
afterAll(async () => {
  receiver?.stop(true);
  await h?.stop();
}, 30_000);

describe('webhooks', () => {
  test('a settled payment is delivered, retried until 2xx, signed verifiably, with its attempt history', async () => {
    const sub = await h.http('POST', '/webhooks', { url: `http://127.0.0.1:${receiver.port}/hook`, secret: SECRET, events: ['payment.settled'] });
    expect(sub.status).toBe(201);
    const paid = await h.http('POST', '/payments', { amount: '5.00', debtor: { branch: '0005', number: '7001' }, creditor: { key: 'gil@example.com' } }, { 'idempotency-key': crypto.randomUUID() });
    expect(paid.json.status).toBe('SETTLED');
    const eventId = `${paid.json.endToEndId}.SETTLED`;
    const deliveries = await h.until(async () => {
      const d = (await h.http('GET', `/webhooks/${sub.json.id}/deliveries`)).json;
      return d[0]?.status === 'DELIVERED' ? d : null;
    });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ eventId, eventType: 'payment.settled', attempts: 3 });
    expect(deliveries[0].history.map((a: { statusCode: number }) => a.statusCode)).toEqual([503, 503, 204]);
    expect(received.map((r) => r.eventId)).toEqual([eventId, eventId, eventId]);
    const last = received.at(-1)!;
    expect(verifyWebhook(SECRET, last.signature, last.body, Math.floor(Date.now() / 1000))).toBe(true);
    expect(verifyWebhook('another-secret-entirely!', last.signature, last.body, Math.floor(Date.now() / 1000))).toBe(false);
    expect(JSON.parse(last.body)).toMatchObject({ eventId, type: 'payment.settled', payment: { endToEndId: paid.json.endToEndId, status: 'SETTLED' } });

    // the same event published again (a retry upstream) makes no second delivery
    const event = JSON.parse(last.body);
    await publish(h.base.js, subject(h.config, 'pix.payments.outbound.settled'), event, { msgId: `${eventId}.replay` });
    await Bun.sleep(300);
    expect((await h.http('GET', `/webhooks/${sub.json.id}/deliveries`)).json).toHaveLength(1);

    // manual redelivery sends it once more, continuing the attempt history
    const again = await h.http('POST', `/webhooks/${sub.json.id}/deliveries/${eventId}/redeliver`);
    expect(again.status).toBe(202);
    await h.until(async () => (await h.http('GET', `/webhooks/${sub.json.id}/deliveries`)).json[0].attempts === 4);
    expect(received).toHaveLength(4);
  });

  test('a redelivery names an event id of visible ASCII: a control character or a space is a 400 naming eventId (a NUL was a 500)', async () => {
    const sub = await h.http('POST', '/webhooks', { url: 'http://127.0.0.1:9/', events: ['payment.settled'] });
    for (const eventId of ['%00', 'a%01b', 'a%20b']) {
      const r = await h.http('POST', `/webhooks/${sub.json.id}/deliveries/${eventId}/redeliver`);
      expect(r.status, eventId).toBe(400);
      expect(r.json.violations[0], eventId).toMatchObject({ field: 'eventId' });
    }
  });

  test('a secret is 16 to 256 visible ASCII characters: 8 emoji (16 UTF-16 units) are a 400 naming secret, no subscription (was a 500)', async () => {
    const before = (await h.base.sql`select count(*)::int as n from spi_webhook_subscriptions`)[0]!.n;
    for (const secret of ['\u{1F600}'.repeat(8), 'sixteen chars ok', 'x'.repeat(15)]) {
      const r = await h.http('POST', '/webhooks', { url: 'http://127.0.0.1:9/', secret });
      expect(r.status, secret).toBe(400);
      expect(r.json.violations[0], secret).toMatchObject({ field: 'secret' });
    }
    expect((await h.base.sql`select count(*)::int as n from spi_webhook_subscriptions`)[0]!.n).toBe(before);
  });

  test('a receiver that never answers 2xx is given up after the bounded attempts', async () => {
    const down = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('down', { status: 500 }) });
    try {
      const sub = await h.http('POST', '/webhooks', { url: `http://127.0.0.1:${down.port}/`, secret: SECRET, events: ['payment.settled'] });
      await h.http('POST', '/payments', { amount: '1.00', debtor: { branch: '0005', number: '7001' }, creditor: { key: 'gil@example.com' } }, { 'idempotency-key': crypto.randomUUID() });
      const d = await h.until(async () => {
        const list = (await h.http('GET', `/webhooks/${sub.json.id}/deliveries`)).json;
        return list[0]?.status === 'FAILED' ? list[0] : null;
      }, 4_000);
      expect(d.attempts).toBe(4);
      expect(d.history).toHaveLength(4);
    } finally {
      down.stop(true);
    }
  });
});
