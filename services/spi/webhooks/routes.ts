// Webhook subscriptions and their delivery history, plus manual redelivery.
import { randomBytes, randomUUID } from 'node:crypto';
import { Elysia, t } from 'elysia';
import type { Sql } from 'postgres';
import { HttpProblem } from '../../../shared/errors.ts';
import type { WebhookDispatcher } from './dispatcher.ts';

export function webhookRoutes(deps: { sql: Sql<{ bigint: bigint }>; dispatcher: WebhookDispatcher }) {
  const { sql, dispatcher } = deps;
  return new Elysia({ prefix: '/webhooks', detail: { tags: ['webhooks'] } })
    .post('', async ({ body, set }) => {
      const id = randomUUID();
      const secret = body.secret ?? randomBytes(24).toString('base64url');
      await sql`insert into spi_webhook_subscriptions (id, url, secret, events) values (${id}, ${body.url}, ${secret}, ${sql.array(body.events ?? [])})`;
      set.status = 201;
      return { id, url: body.url, secret, events: body.events ?? [] };
    }, {
      body: t.Object({
        url: t.String({ pattern: '^https?://', maxLength: 2048 }),
        // visible ASCII: the receiver types it into its HMAC as we do, and 16 characters are 16 to Postgres's
        // length check too (8 emoji are 16 UTF-16 units to the schema, 8 characters to the table: a 500)
        secret: t.Optional(t.String({ minLength: 16, maxLength: 256, pattern: '^[\\x21-\\x7E]+$' })),
        events: t.Optional(t.Array(t.String({ pattern: '^[a-z.*_]{1,64}$' }), { maxItems: 32 })),
      }),
      detail: { summary: 'Subscribe a URL to payment status events (empty events = all)' },
    })
    .get('/:id/deliveries', async ({ params }) => {
      const deliveries = await sql`select event_id, event_type, status, attempts, next_attempt_at, delivered_at, created_at from spi_webhook_deliveries
                                   where subscription_id = ${params.id} order by created_at desc limit 200`;
      const attempts = await sql`select event_id, attempt, at, status_code, error, duration_ms from spi_webhook_attempts
                                 where subscription_id = ${params.id} order by event_id, attempt`;
      return deliveries.map((d) => ({
        eventId: d.event_id, eventType: d.event_type, status: d.status, attempts: d.attempts, nextAttemptAt: d.next_attempt_at, deliveredAt: d.delivered_at,
        history: attempts.filter((a) => a.event_id === d.event_id).map((a) => ({ attempt: a.attempt, at: a.at, statusCode: a.status_code, error: a.error, durationMs: a.duration_ms })),
      }));
    }, { params: t.Object({ id: t.String({ format: 'uuid' }) }), detail: { summary: 'Deliveries of a subscription with every attempt' } })
    .post('/:id/deliveries/:eventId/redeliver', async ({ params, set }) => {
      if (!(await dispatcher.redeliver(params.id, params.eventId))) throw HttpProblem.of('NotFound', `no delivery ${params.eventId} for subscription ${params.id}`);
      set.status = 202;
      return { eventId: params.eventId, status: 'PENDING' };
    }, {
      // event ids are `<EndToEndId>.<STATUS>` (payments/events.ts): visible ASCII; a control character (a NUL
      // Postgres cannot compare) is refused here
      params: t.Object({ id: t.String({ format: 'uuid' }), eventId: t.String({ minLength: 1, maxLength: 80, pattern: '^[\\x21-\\x7E]+$' }) }),
      detail: { summary: 'Deliver an event again' },
    });
}
