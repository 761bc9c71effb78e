// Key resolution for payments and previews. The SPI service does not read DICT itself: it asks the DICT
// service (GET /keys/:key/lookup with PI-PayerId, which applies the anti-scan buckets and answers our own
// keys as book transfers) and, after a payment is sent, gives the anti-scan token back (POST
// /lookups/credits). Errors are values: EntryNotFound, RateLimited, ServiceUnavailable.
import { fail, ok, type DomainError, type Result } from '../../../shared/result.ts';

/** A lookup on the payment path must answer fast; past this the payment is refused with 503. */
export const KEY_LOOKUP_TIMEOUT_MS = 2_000;

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
    async paymentSent(payerId, keyType) {
      await fetch(`${base}/lookups/credits`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payerId, keyType }), signal: AbortSignal.timeout(timeoutMs),
      }).catch(() => undefined);
    },
  };
}
