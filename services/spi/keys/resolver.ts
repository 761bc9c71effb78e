// Key resolution for payments and previews. The SPI service does not read DICT itself: it asks the DICT
// service (GET /keys/:key/lookup with PI-PayerId, which applies the anti-scan buckets and answers our own
// keys as book transfers) and, after a payment is sent, gives the anti-scan token back (POST
// /lookups/credits, the credits of up to CREDIT_FLUSH_MS sent together in one request). Errors are values:
// EntryNotFound, RateLimited, ServiceUnavailable.
import { fail, ok, type DomainError, type Result } from '../../../shared/result.ts';

/** A lookup on the payment path must answer fast; past this the payment is refused with 503. */
export const KEY_LOOKUP_TIMEOUT_MS = 2_000;
/** Anti-scan credits (a payment was sent) wait at most this long, to go to DICT together in one request
 *  instead of one HTTP request per payment. */
export const CREDIT_FLUSH_MS = 20;
/** Credits in one request (the DICT service takes up to LOOKUP_CREDITS_BATCH_MAX). */
export const CREDIT_BATCH_MAX = 256;
/** Credits waiting to be sent; past it a new credit is dropped (best effort, as a failed request is: a lost
 *  credit leaves one payer's bucket a token lower until it refills). */
export const CREDIT_QUEUE_MAX = 10_000;

export interface ResolvedEntry {
  key: string;
  keyType: 'CPF' | 'CNPJ' | 'PHONE' | 'EMAIL' | 'EVP';
  account: { participant: string; branch: string; accountNumber: string; accountType: 'CACC' | 'SVGS' | 'SLRY' | 'TRAN' };
  owner: { type: 'NATURAL_PERSON' | 'LEGAL_PERSON'; taxIdNumber: string; name: string; tradeName?: string };
}

export interface KeyResolver {
  resolve(key: string, ctx: { payerId: string; endToEndId?: string }): Promise<Result<ResolvedEntry, DomainError & { retryAfterS?: number }>>;
  /** a payment was sent after a lookup: one anti-scan token back (best effort) */
  paymentSent(payerId: string, keyType: string): Promise<void>;
}

export function createHttpKeyResolver(baseUrl: string, timeoutMs = KEY_LOOKUP_TIMEOUT_MS): KeyResolver {
  const base = baseUrl.replace(/\/+$/, '');
  let credits: { payerId: string; keyType: string }[] = [];
  let pending: Promise<void> | null = null;

  /** Sends the waiting credits, CREDIT_BATCH_MAX per request (best effort: a failure is dropped). */
  async function flushCredits(): Promise<void> {
    while (credits.length > 0) {
      const batch = credits.slice(0, CREDIT_BATCH_MAX);
      credits = credits.slice(batch.length);
      await fetch(`${base}/lookups/credits`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credits: batch }), signal: AbortSignal.timeout(timeoutMs),
      }).then((r) => r.body?.cancel()).catch(() => undefined);
    }
  }

  return {
    async resolve(key, ctx) {
      let res: Response;
      try {
        res = await fetch(`${base}/keys/${encodeURIComponent(key)}/lookup`, {
          headers: { 'pi-payerid': ctx.payerId, ...(ctx.endToEndId ? { 'pi-endtoendid': ctx.endToEndId } : {}) },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        return fail('ServiceUnavailable', `DICT lookup unavailable: ${(e as Error).message}`);
      }
      const text = await res.text();
      let body: any = null;
      try { body = JSON.parse(text); } catch { /* handled below */ }
      if (res.ok && body?.entry?.account) return ok(body.entry as ResolvedEntry);
      if (res.status === 404) return fail('EntryNotFound', `no DICT entry for key ${key}`, 'creditor.key', 'exists');
      if (res.status === 429) {
        const retryAfterS = Number(res.headers.get('retry-after') ?? '60');
        return { ok: false, error: { code: 'RateLimited', detail: body?.detail ?? 'anti-scan limit reached', retryAfterS } };
      }
      if (res.status === 400) return fail('InvalidRequest', body?.detail ?? 'the key is invalid', 'creditor.key', body?.violations?.[0]?.rule ?? 'format');
      return fail('ServiceUnavailable', `DICT lookup answered ${res.status}`);
    },
    paymentSent(payerId, keyType) {
      if (credits.length >= CREDIT_QUEUE_MAX) return Promise.resolve();
      credits.push({ payerId, keyType });
      // the first credit of a batch arms the send; the ones within CREDIT_FLUSH_MS join it
      pending ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          pending = null;
          void flushCredits().then(resolve);
        }, CREDIT_FLUSH_MS);
        timer.unref?.();
      });
      return pending;
    },
  };
}
