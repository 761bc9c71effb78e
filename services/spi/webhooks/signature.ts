// Webhook signatures: HMAC-SHA256 over `<timestamp>.<body>` with the subscription's secret, sent as
//   X-FluxiQ-Signature: t=<unix seconds>,v1=<hex>
// with the event id in X-FluxiQ-Event-Id (receivers de-duplicate on it: every retry carries the same id).
// A receiver checks the HMAC and that t is recent, which stops replays of an old delivery.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A receiver should refuse deliveries whose timestamp is further than this from its clock. */
export const WEBHOOK_TOLERANCE_S = 300;

export function signWebhook(secret: string, timestampS: number, body: string): string {
  return `t=${timestampS},v1=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`;
}

export function verifyWebhook(secret: string, header: string, body: string, nowS: number, toleranceS = WEBHOOK_TOLERANCE_S): boolean {
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const ts = Number(m[1]);
  if (Math.abs(nowS - ts) > toleranceS) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex'));
  const given = Buffer.from(m[2]!);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Delay before attempt n+1 after n failures: base·2^(n−1), capped. */
export function backoffMs(failures: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1));
}
