// Liquidity events (alerts, top-ups, failed top-ups) to the treasury's webhook. A durable JetStream
// consumer on `pix.settlement.liquidity` (what the monitor publishes) POSTs each event to the
// configured URL, signed like SPI's webhooks (services/spi/webhooks/signature.ts, reused as is):
//   X-FluxiQ-Signature: t=<unix seconds>,v1=<HMAC-SHA256(secret, "<t>.<body>") hex>
//   X-FluxiQ-Event-Id:  the event's id (episode:level for alerts), the same on every retry
// Retries are bounded: WEBHOOK_ATTEMPTS_MAX attempts with exponential backoff, then the event is given up
// (logged at error and counted; it stays on NATS and went out on the WebSocket) and acked, so a dead
// receiver never holds the stream. An event is acked only after it was delivered or given up.
import type { JetStreamClient } from 'nats';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../../../shared/clock.ts';
import type { Config } from '../../../shared/config.ts';
import { startBatchConsumer, streamName, subject, type BatchConsumer, type Decoded } from '../../../shared/nats/index.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import { backoffMs, signWebhook } from '../../spi/webhooks/signature.ts';
import { LIQUIDITY_SUBJECT } from './monitor.ts';

export const LIQUIDITY_WEBHOOK_DURABLE = 'settlement-liquidity-webhook';
/** Attempts per event: with the backoff below, about 8 s of retrying on top of the timeouts. */
export const WEBHOOK_ATTEMPTS_MAX = 5;
export const WEBHOOK_BACKOFF_MS_BASE = 500;
export const WEBHOOK_BACKOFF_MS_MAX = 8_000;
/** The receiver gets this long to answer one attempt. */
export const WEBHOOK_TIMEOUT_MS = 5_000;
/** Events per batch: alerts are a few a day; a small batch bounds how long one batch can take. */
export const WEBHOOK_BATCH_MAX = 16;
/** A secret shorter than this is refused at start (HMAC-SHA256 key). */
export const WEBHOOK_SECRET_LENGTH_MIN = 32;

export interface WebhookTarget {
  url: string;
  secret: string;
}

export interface LiquidityWebhookOptions {
  attemptsMax?: number;
  backoffMsBase?: number;
  backoffMsMax?: number;
  timeoutMs?: number;
}

export interface LiquidityWebhookDeps {
  js: JetStreamClient;
  config: Pick<Config, 'natsPrefix'>;
  clock: Clock;
  logger: Logger;
  registry: Registry;
}

/** The configured target, or undefined when LIQUIDITY_WEBHOOK_URL is empty; a bad URL or short secret is an error. */
export function webhookTargetOf(config: Pick<Config, 'liquidityWebhookUrl' | 'liquidityWebhookSecret'>): WebhookTarget | undefined {
  if (config.liquidityWebhookUrl === '') return undefined;
  const url = new URL(config.liquidityWebhookUrl);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('LIQUIDITY_WEBHOOK_URL must be an http(s) URL');
  if (config.liquidityWebhookSecret.length < WEBHOOK_SECRET_LENGTH_MIN) throw new Error(`LIQUIDITY_WEBHOOK_SECRET must have at least ${WEBHOOK_SECRET_LENGTH_MIN} characters`);
  return { url: url.toString(), secret: config.liquidityWebhookSecret };
}

export async function startLiquidityWebhook(deps: LiquidityWebhookDeps, target: WebhookTarget, opts: LiquidityWebhookOptions = {}): Promise<BatchConsumer> {
  const { clock } = deps;
  const log = deps.logger.child({ component: 'liquidity-webhook' });
  const attemptsMax = opts.attemptsMax ?? WEBHOOK_ATTEMPTS_MAX;
  const base = opts.backoffMsBase ?? WEBHOOK_BACKOFF_MS_BASE;
  const cap = opts.backoffMsMax ?? WEBHOOK_BACKOFF_MS_MAX;
  const timeoutMs = opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const name = 'settlement_liquidity_webhook_total';
  const outcomes = (deps.registry.getSingleMetric(name) as Counter<'outcome'> | undefined) ?? new Counter({
    name, help: 'Liquidity events sent to the webhook, by outcome (delivered, given-up) and failed attempts (retried)', labelNames: ['outcome'], registers: [deps.registry],
  });

  /** one POST; true on a 2xx */
  async function attempt(eventId: string, body: string): Promise<{ ok: boolean; why: string }> {
    try {
      const res = await fetch(target.url, {
        method: 'POST', body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs),
        headers: { 'content-type': 'application/json', 'x-fluxiq-event-id': eventId, 'x-fluxiq-signature': signWebhook(target.secret, Math.floor(clock.nowMs() / 1000), body) },
      });
      await res.arrayBuffer().catch(() => undefined);
      return { ok: res.status >= 200 && res.status < 300, why: `HTTP ${res.status}` };
    } catch (err) {
      return { ok: false, why: String((err as Error).message ?? err) };
    }
  }

  async function deliver(m: Decoded<unknown>): Promise<void> {
    const eventId = m.msgId ?? `liquidity-${m.seq}`;
    const body = JSON.stringify(m.data);
    for (let n = 1; ; n++) {
      const r = await attempt(eventId, body);
      if (r.ok) {
        outcomes.inc({ outcome: 'delivered' });
        return;
      }
      if (n >= attemptsMax) {
        outcomes.inc({ outcome: 'given-up' });
        log.error({ eventId, attempts: n, why: r.why }, 'liquidity webhook gave up on an event (it went to NATS and the WebSocket)');
        return;
      }
      outcomes.inc({ outcome: 'retried' });
      log.warn({ eventId, attempt: n, why: r.why }, 'liquidity webhook attempt failed; retrying');
      await Bun.sleep(backoffMs(n, base, cap));
    }
  }

  return startBatchConsumer({
    js: deps.js, stream: streamName(deps.config, 'settlement'), durable: LIQUIDITY_WEBHOOK_DURABLE, filterSubject: subject(deps.config, LIQUIDITY_SUBJECT),
    batchMax: WEBHOOK_BATCH_MAX, batchWaitMsMax: 0, nakDelayMs: 1_000, logger: deps.logger,
    // in order, one at a time: the receiver sees an episode's events in the order they happened
    handle: async (msgs) => { for (const m of msgs) await deliver(m); },
  });
}
