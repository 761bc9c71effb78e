// Forwards one authorised request to its upstream: path without the upstream prefix, the query, the
// body (bounded), Content-Type, Accept, Idempotency-Key, the trace id, and the principal as a signed
// internal header (auth/principal.ts). The caller's Authorization header is not passed on: the
// upstream trusts the gateway's signature, not a token it would have to validate itself.
// The upstream's answer is passed back as it is (status, body, content type), plus the trace id.
// A request that failed at the connection level before any response (refused: the instance is restarting or
// an spi standby is taking over; reset/closed before the status line: a keep-alive connection closed under
// us) is sent again with a short backoff when that is safe: GET/HEAD always, a write only with an
// Idempotency-Key (dict and spi answer a repeated key with the first answer). A standby's 503 (STANDBY_HEADER:
// an spi instance waiting for its lease, reached while it listens on a port of its own) handled nothing, so
// it is sent again whatever the method. Those failures count against the breaker only once the retries are
// exhausted: a rolling restart must not open it.
import type { Clock } from '../../../shared/clock.ts';
import { HttpProblem, problemOf, problemResponse } from '../../../shared/errors.ts';
import { TRACE_ID_HEADER } from '../../../shared/nats/trace.ts';
import { STANDBY_HEADER } from '../../../shared/service.ts';
import { admit, countsAsFailure, newBreaker, onFailure, onSuccess, type Breaker } from './breaker.ts';
import { upstreamPath, type RouteRule, type UpstreamName } from './table.ts';

/** Largest request body forwarded: DICT and SPI requests are a few KiB; anything bigger is refused (413). */
export const PROXY_BODY_BYTES_MAX = 1024 * 1024;
const FORWARDED_HEADERS = ['content-type', 'accept', 'idempotency-key', 'pi-payerid', 'pi-endtoendid'] as const;
const PASSED_BACK_HEADERS = ['content-type', 'location', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'etag'] as const;

/** First retry waits this long; each next one twice as long, up to UPSTREAM_RETRY_DELAY_MS_MAX (50, 100, 200, 400, 800, 800 ... ms). */
export const UPSTREAM_RETRY_DELAY_MS_MIN = 50;
export const UPSTREAM_RETRY_DELAY_MS_MAX = 800;
/**
 * Attempts of one request, the first included: the delays add up to 6.35 s, more than the gap while spi
 * changes hands (the active instance finishes its in-flight payments, up to SPI_SYNC_WAIT_MS = 3 s, and its
 * inbox long poll, then a standby takes the lease within 0.5 s and recovers). Reads stop earlier, at their
 * route's timeout.
 */
export const UPSTREAM_ATTEMPTS_MAX = 12;
/** Every attempt shares the route's timeout; another one is started only if at least this much of it is left. */
export const UPSTREAM_ATTEMPT_MS_MIN = 250;
/** Bun's codes for a connection refused, or reset/closed before the response's status line. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ConnectionRefused', 'ConnectionClosed', 'EPIPE']);

/** Delay before retry n (n ≥ 1). */
export function retryDelayMs(n: number): number {
  return Math.min(UPSTREAM_RETRY_DELAY_MS_MAX, UPSTREAM_RETRY_DELAY_MS_MIN * 2 ** Math.max(0, n - 1));
}

/** May a request that failed before any response be sent again? Reads always; writes that carry an Idempotency-Key. */
export function retryable(method: string, hasIdempotencyKey: boolean, error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !RETRYABLE_CODES.has(code)) return false;
  return method === 'GET' || method === 'HEAD' || hasIdempotencyKey;
}

export type Upstreams = Record<UpstreamName, string>;

export interface Forwarded {
  rule: RouteRule;
  request: Request;
  path: string;
  search: string;
  traceId: string;
  principalHeader: string;
  /** `user:<id>` or `client:<client_id>` */
  actor: string;
}

export interface Proxy {
  forward(f: Forwarded): Promise<Response>;
  breaker(upstream: UpstreamName): Readonly<Breaker>;
}

export function createProxy(opts: { upstreams: Upstreams; clock: Clock; onOutcome?: (upstream: UpstreamName, outcome: string) => void }): Proxy {
  const { upstreams, clock } = opts;
  const breakers: Record<UpstreamName, Breaker> = { dict: newBreaker(), spi: newBreaker() };
  const report = opts.onOutcome ?? (() => {});

  return {
    breaker: (u) => breakers[u],
    async forward({ rule, request, path, search, traceId, principalHeader, actor }) {
      const breaker = breakers[rule.upstream];
      // read (and bound) the body first: nothing may throw between admitting a half-open probe and reporting it
      const body = await boundedBody(request);
      const verdict = admit(breaker, clock.nowMs());
      if (verdict === 'refuse') {
        report(rule.upstream, 'breaker-open');
        throw HttpProblem.of('ServiceUnavailable', `${rule.upstream} is unavailable (circuit open); retry later`, undefined, { 'retry-after': '5' });
      }
      // x-actor / x-trace-id: the plain forms dict's audit trail reads; x-fluxiq-principal is the signed one
      const headers = new Headers({ [TRACE_ID_HEADER]: traceId, 'x-trace-id': traceId, 'x-request-id': traceId, 'x-fluxiq-principal': principalHeader, 'x-actor': actor });
      for (const h of FORWARDED_HEADERS) {
        const v = request.headers.get(h);
        if (v !== null) headers.set(h, v);
      }
      let upstreamResponse: Response;
      let payload: ArrayBuffer;
      const url = upstreams[rule.upstream] + upstreamPath(path, rule.upstream) + search;
      // one deadline for every attempt: the client waits at most the route's timeout
      const deadline = AbortSignal.timeout(rule.timeoutMs);
      const deadlineMs = performance.now() + rule.timeoutMs;
      const hasKey = request.headers.has('idempotency-key');
      try {
        for (let attempt = 1; ; attempt++) {
          try {
            upstreamResponse = await fetch(url, { method: request.method, headers, ...(body === undefined ? {} : { body }), signal: deadline, redirect: 'manual' });
            const delay = retryDelayMs(attempt);
            if (upstreamResponse.headers.get(STANDBY_HEADER) === null || attempt >= UPSTREAM_ATTEMPTS_MAX || performance.now() + delay + UPSTREAM_ATTEMPT_MS_MIN > deadlineMs) break;
            await upstreamResponse.arrayBuffer();
            report(rule.upstream, 'retried');
            await Bun.sleep(delay);
          } catch (e) {
            const delay = retryDelayMs(attempt);
            if (attempt >= UPSTREAM_ATTEMPTS_MAX || !retryable(request.method, hasKey, e) || performance.now() + delay + UPSTREAM_ATTEMPT_MS_MIN > deadlineMs) throw e;
            report(rule.upstream, 'retried');
            await Bun.sleep(delay);
          }
        }
        // buffered inside the timeout (bounded by the upstream's own limits): a body that stalls counts as a timeout
        payload = await upstreamResponse.arrayBuffer();
      } catch (e) {
        onFailure(breaker, clock.nowMs());
        const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
        report(rule.upstream, timedOut ? 'timeout' : 'unreachable');
        return problemResponse(
          problemOf(timedOut ? 'UpstreamTimeout' : 'ServiceUnavailable', timedOut ? `${rule.upstream} did not answer within ${rule.timeoutMs} ms` : `${rule.upstream} is unreachable`, undefined, { instance: path }),
          { [TRACE_ID_HEADER]: traceId },
        );
      }
      if (countsAsFailure(upstreamResponse.status, upstreamResponse.headers.get('retry-after'))) onFailure(breaker, clock.nowMs());
      else onSuccess(breaker);
      report(rule.upstream, String(upstreamResponse.status));
      const out = new Headers({ [TRACE_ID_HEADER]: traceId });
      for (const h of PASSED_BACK_HEADERS) {
        const v = upstreamResponse.headers.get(h);
        if (v !== null) out.set(h, v);
      }
      return new Response(payload, { status: upstreamResponse.status, headers: out });
    },
  };
}

async function boundedBody(request: Request): Promise<ArrayBuffer | undefined> {
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > PROXY_BODY_BYTES_MAX) throw HttpProblem.of('BodyTooLarge', `the body exceeds ${PROXY_BODY_BYTES_MAX} bytes`);
  const body = await request.arrayBuffer();
  if (body.byteLength > PROXY_BODY_BYTES_MAX) throw HttpProblem.of('BodyTooLarge', `the body exceeds ${PROXY_BODY_BYTES_MAX} bytes`);
  return body.byteLength === 0 ? undefined : body;
}
