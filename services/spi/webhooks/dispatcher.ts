// Webhook delivery. Payment events arrive from JetStream (PIX_PAYMENTS) in batches and become one
// delivery row per matching subscription (event id + subscription is the primary key: a redelivered
// event never makes a second delivery). A loop at its own pace takes due deliveries (SKIP LOCKED, so
// several processes could share the work), POSTs the signed body, records every attempt, and on failure
// schedules the next with exponential backoff until WEBHOOK_ATTEMPTS_MAX, then marks it FAILED.
// Manual redelivery puts a delivery back to PENDING (its attempt history continues).
import type { JetStreamClient } from 'nats';
import type { Sql } from 'postgres';
import type { Clock } from '../../../shared/clock.ts';
import type { Config } from '../../../shared/config.ts';
import { startBatchConsumer, streamName, subject, type BatchConsumer } from '../../../shared/nats/index.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import type { PaymentEvent } from '../payments/events.ts';
import { backoffMs, signWebhook } from './signature.ts';

export const WEBHOOK_ATTEMPTS_MAX = 8;
export const WEBHOOK_BACKOFF_MS_BASE = 1_000;
export const WEBHOOK_BACKOFF_MS_MAX = 60 * 60 * 1000;
/** A receiver gets this long to answer one delivery. */
export const WEBHOOK_TIMEOUT_MS = 5_000;
/** Deliveries taken per loop turn, all sent concurrently. */
export const WEBHOOK_BATCH_MAX = 64;
export const WEBHOOK_POLL_MS = 100;
/** A taken delivery is leased this long; a process dying mid-delivery frees it after the lease. */
export const WEBHOOK_LEASE_MS = WEBHOOK_TIMEOUT_MS * 2;
/** Response bodies are not stored; errors are cut to this length in the attempt history. */
export const WEBHOOK_ERROR_LENGTH_MAX = 500;

export interface WebhookOptions {
  backoffMsBase?: number;
  backoffMsMax?: number;
  attemptsMax?: number;
  timeoutMs?: number;
  pollMs?: number;
}

export interface WebhookDispatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** runs one delivery turn now (tests); resolves with the number of deliveries attempted */
  tick(): Promise<number>;
  redeliver(subscriptionId: string, eventId: string): Promise<boolean>;
}

export function createWebhookDispatcher(deps: { sql: Sql<{ bigint: bigint }>; js: JetStreamClient; config: Config; clock: Clock; logger: Logger }, opts: WebhookOptions = {}): WebhookDispatcher {
  const { sql, clock } = deps;
  const log = deps.logger.child({ component: 'webhooks' });
  const attemptsMax = opts.attemptsMax ?? WEBHOOK_ATTEMPTS_MAX;
  const base = opts.backoffMsBase ?? WEBHOOK_BACKOFF_MS_BASE;
  const cap = opts.backoffMsMax ?? WEBHOOK_BACKOFF_MS_MAX;
  const timeoutMs = opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  let consumer: BatchConsumer | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let turn: Promise<number> | null = null;

  async function fanOut(events: PaymentEvent[]): Promise<void> {
    const subs = await sql`select id, events from spi_webhook_subscriptions where active`;
    const now = clock.now();
    const rows = events.flatMap((ev) =>
      subs.filter((s) => (s.events as string[]).length === 0 || (s.events as string[]).includes(ev.type) || (s.events as string[]).includes('*')).map((s) => ({
        subscription_id: s.id as string, event_id: ev.eventId, event_type: ev.type, body: JSON.stringify(ev), status: 'PENDING', attempts: 0, next_attempt_at: now, created_at: now,
      })));
    if (rows.length > 0) await sql`insert into spi_webhook_deliveries ${sql(rows)} on conflict do nothing`;
  }

  async function deliver(d: Record<string, any>): Promise<void> {
    const attempt = Number(d.attempts) + 1;
    const ts = Math.floor(clock.nowMs() / 1000);
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        body: d.body,
        headers: { 'content-type': 'application/json', 'x-fluxiq-event-id': d.event_id, 'x-fluxiq-signature': signWebhook(d.secret, ts, d.body) },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      statusCode = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch (e) {
      error = String((e as Error).message ?? e).slice(0, WEBHOOK_ERROR_LENGTH_MAX);
    }
    const durationMs = Math.round(performance.now() - started);
    const delivered = statusCode !== null && statusCode >= 200 && statusCode < 300;
    const now = clock.now();
    const status = delivered ? 'DELIVERED' : attempt >= attemptsMax ? 'FAILED' : 'PENDING';
    const next = new Date(now.getTime() + (delivered ? 0 : backoffMs(attempt, base, cap)));
    await sql.begin(async (tx) => {
      await tx`insert into spi_webhook_attempts ${tx({ subscription_id: d.subscription_id, event_id: d.event_id, attempt, at: now, status_code: statusCode, error: error ?? (delivered ? null : `HTTP ${statusCode}`), duration_ms: durationMs })}`;
      await tx`update spi_webhook_deliveries set attempts = ${attempt}, status = ${status}, next_attempt_at = ${next}, delivered_at = ${delivered ? now : null}
               where subscription_id = ${d.subscription_id} and event_id = ${d.event_id}`;
    });
    if (status === 'FAILED') log.warn({ subscription: d.subscription_id, eventId: d.event_id, attempts: attempt }, 'webhook delivery gave up');
  }

  async function tickOnce(): Promise<number> {
    const now = clock.now();
    const due = await sql`
      update spi_webhook_deliveries d set next_attempt_at = ${new Date(now.getTime() + WEBHOOK_LEASE_MS)}
      from spi_webhook_subscriptions s
      where s.id = d.subscription_id and (d.subscription_id, d.event_id) in (
        select subscription_id, event_id from spi_webhook_deliveries
        where status = 'PENDING' and next_attempt_at <= ${now}
        order by next_attempt_at limit ${WEBHOOK_BATCH_MAX} for update skip locked)
      returning d.subscription_id, d.event_id, d.body, d.attempts, s.url, s.secret`;
    await Promise.all(due.map((d) => deliver(d).catch((err) => log.error({ err, eventId: d.event_id }, 'could not record a webhook attempt'))));
    return due.length;
  }

  const tick = () => {
    turn ??= tickOnce().finally(() => (turn = null));
    return turn;
  };

  return {
    async start() {
      consumer = await startBatchConsumer<PaymentEvent>({
        js: deps.js, stream: streamName(deps.config, 'payments'), durable: 'spi-webhooks', filterSubject: subject(deps.config, 'pix.payments.>'),
        batchMax: 256, batchWaitMsMax: 20, nakDelayMs: 1_000, logger: deps.logger,
        handle: (msgs) => fanOut(msgs.map((m) => m.data).filter((e) => typeof e?.eventId === 'string')),
      });
      timer = setInterval(() => void tick().catch((err) => log.error({ err }, 'webhook turn failed')), opts.pollMs ?? WEBHOOK_POLL_MS);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await consumer?.stop();
      if (turn) await turn.catch(() => 0);
    },
    tick,
    async redeliver(subscriptionId, eventId) {
      const rows = await sql`update spi_webhook_deliveries set status = 'PENDING', next_attempt_at = ${clock.now()}
                             where subscription_id = ${subscriptionId} and event_id = ${eventId} returning event_id`;
      return rows.length > 0;
    },
  };
}
