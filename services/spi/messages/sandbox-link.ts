// The ICOM-style SPI interface over mutual TLS (the sandbox implements BACEN's shape):
//   POST /api/v1/out/{ispb}/msgs           one signed Envelope           → 201
//   POST /api/v1/out/{ispb}/status         one signed pacs.028           → 200 signed pacs.002 | 404 unknown
//   GET  /api/v1/in/{ispb}/stream/start    lease a batch of our inbox    → {messages[], pullNext}
//   GET  {pullNext}                        ack that batch, lease the next
import type { BacenClient } from '../../../shared/bacen/client.ts';
import type { InboxCursor, InboxMessage, SendOutcome, SpiLink, StatusOutcome } from './link.ts';

/** How long SPI may hold an empty inbox pull open for us (the sandbox's bound is 2,000 ms). */
export const INBOX_WAIT_MS = 1_000;

/** `waitMs`: the long-poll wait asked for; keep it below the client's timeout (app.ts: at most half of it). */
export function createSandboxLink(bacen: BacenClient, ispb: string, opts: { waitMs?: number } = {}): SpiLink {
  const waitMs = Math.max(0, Math.floor(opts.waitMs ?? INBOX_WAIT_MS));
  return {
    async send(signedXml): Promise<SendOutcome> {
      const r = await bacen.request('POST', `/api/v1/out/${ispb}/msgs`, { body: signedXml });
      if (r.ok) return { kind: 'accepted' };
      const e = r.error;
      const status = e.kind === 'http' ? (e.status ?? 0) : 0;
      if (status >= 400 && status < 500 && status !== 429 && status !== 408) {
        return { kind: 'refused', status, detail: e.detail };
      }
      return { kind: 'unknown', detail: `${e.kind}: ${e.detail}` };
    },
    async status(signedXml): Promise<StatusOutcome> {
      const r = await bacen.request('POST', `/api/v1/out/${ispb}/status`, { body: signedXml });
      if (r.ok) return { kind: 'report', xml: r.value.body };
      const e = r.error;
      // only SPI's own "no such payment" (violation rule `exists`), not a 404 for a route it lacks
      if (e.kind === 'http' && e.status === 404 && e.problem?.violations?.some((v) => v.rule === 'exists')) return { kind: 'unknown-payment' };
      return { kind: 'failed', detail: `${e.kind}${e.kind === 'http' ? ` ${e.status}` : ''}: ${e.detail}` };
    },
    cursor(): InboxCursor {
      let next = `/api/v1/in/${ispb}/stream/start`;
      return {
        async pull(max, signal) {
          // long polling: an empty inbox holds the pull until a message arrives (no idle poll load, no
          // poll-interval latency); the wait stays well under the client's BACEN_TIMEOUT_MS
          const path = `${next.split('?')[0]}?max=${max}&waitMs=${waitMs}`;
          const r = await bacen.request('GET', path, { headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) });
          if (!r.ok) return { ok: false, detail: `${r.error.kind}: ${r.error.detail}` };
          let body: { pullNext?: string; messages?: InboxMessage[] };
          try {
            body = JSON.parse(r.value.body);
          } catch {
            return { ok: false, detail: 'inbox answer is not JSON' };
          }
          const pullNext = r.value.headers['pi-pull-next'] ?? body.pullNext;
          if (typeof pullNext === 'string' && pullNext.startsWith('/')) next = pullNext;
          return { ok: true, messages: Array.isArray(body.messages) ? body.messages : [] };
        },
      };
    },
  };
}
