// The gateway sends again a request that failed at the connection level before any response (refused, or
// closed/reset before the status line): reads always, writes only with an Idempotency-Key, with a short
// bounded backoff inside the route's timeout; those failures reach the breaker only once the retries are
// exhausted. Real upstreams on real sockets: one that is not listening yet, one that drops connections.
import { afterAll, describe, expect, test } from 'bun:test';
import { createServer, type Server, type Socket } from 'node:net';
import { ManualClock } from '../../shared/clock.ts';
import { STANDBY_HEADER } from '../../shared/service.ts';
import { BREAKER_FAILURES_MAX, countsAsFailure } from '../../services/settlement/routing/breaker.ts';
import { createProxy, retryable, retryDelayMs, UPSTREAM_ATTEMPTS_MAX, UPSTREAM_RETRY_DELAY_MS_MAX } from '../../services/settlement/routing/proxy.ts';
import type { RouteRule } from '../../services/settlement/routing/table.ts';
import { freePorts } from '../support/ports.ts';

const READ: RouteRule = { methods: ['GET'], prefix: '/dict/', upstream: 'dict', scope: 'dict:read', timeoutMs: 2_000 };
const PAYMENT: RouteRule = { methods: ['POST'], prefix: '/spi/payments', upstream: 'spi', scope: 'payments:write', timeoutMs: 15_000 };

const closers: (() => void)[] = [];
afterAll(() => {
  for (const c of closers) c();
});

/** A raw HTTP upstream: the first `drops` connections are closed as soon as a request arrives (no status line). */
function droppingUpstream(port: number, drops: number): { requests: string[]; server: Server } {
  const requests: string[] = [];
  let dropped = 0;
  const server = createServer((s: Socket) => {
    s.once('data', (d) => {
      requests.push(d.toString());
      if (dropped < drops) {
        dropped++;
        s.destroy();
        return;
      }
      const body = JSON.stringify({ ok: true, attempt: requests.length });
      s.end(`HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
    });
  }).listen(port, '127.0.0.1');
  closers.push(() => server.close());
  return { requests, server };
}

function proxyTo(port: number) {
  const outcomes: string[] = [];
  const url = `http://127.0.0.1:${port}`;
  const proxy = createProxy({ upstreams: { dict: url, spi: url }, clock: new ManualClock(Date.now()), onOutcome: (_u, o) => outcomes.push(o) });
  const forward = (rule: RouteRule, method: string, path: string, headers: Record<string, string> = {}) =>
    proxy.forward({
      rule, path, search: '', traceId: 'a'.repeat(32), principalHeader: 'p', actor: 'user:test',
      request: new Request(`http://gateway${path}`, { method, headers, ...(method === 'GET' ? {} : { body: '{"amount":"1.00"}' }) }),
    });
  return { proxy, outcomes, forward };
}

describe('retry rules', () => {
  test('backoff 50, 100, 200, 400, 800 ms, then 800 ms', () => {
    expect(Array.from({ length: 7 }, (_, i) => retryDelayMs(i + 1))).toEqual([50, 100, 200, 400, 800, 800, 800]);
    expect(retryDelayMs(UPSTREAM_ATTEMPTS_MAX)).toBe(UPSTREAM_RETRY_DELAY_MS_MAX);
  });

  test('connection failures are retried for reads and for writes with an Idempotency-Key; timeouts and other errors never', () => {
    const refused = Object.assign(new TypeError('Unable to connect'), { code: 'ECONNREFUSED' });
    const reset = Object.assign(new TypeError('closed'), { code: 'ECONNRESET' });
    const timeout = new DOMException('timed out', 'TimeoutError');
    expect(retryable('GET', false, refused)).toBe(true);
    expect(retryable('HEAD', false, reset)).toBe(true);
    expect(retryable('POST', true, reset)).toBe(true);
    expect(retryable('DELETE', true, refused)).toBe(true);
    expect(retryable('POST', false, refused)).toBe(false);
    expect(retryable('PUT', false, reset)).toBe(false);
    expect(retryable('GET', false, timeout)).toBe(false);
    expect(retryable('GET', false, new Error('boom'))).toBe(false);
  });
});

describe('against real upstreams', () => {
  test('a read to an upstream that is not listening yet succeeds once it is, and the breaker saw no failure', async () => {
    const [port] = await freePorts(1);
    const { proxy, outcomes, forward } = proxyTo(port!);
    setTimeout(() => {
      const s = Bun.serve({ port: port!, hostname: '127.0.0.1', fetch: () => Response.json({ up: true }) });
      closers.push(() => s.stop(true));
    }, 300);
    const r = await forward(READ, 'GET', '/dict/keys/x');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ up: true });
    expect(outcomes.filter((o) => o === 'retried').length).toBeGreaterThan(0);
    expect(proxy.breaker('dict')).toMatchObject({ state: 'CLOSED', failures: 0 });
  });

  test('a payment with an Idempotency-Key whose connection is closed before any response is sent again, same key', async () => {
    const [port] = await freePorts(1);
    const up = droppingUpstream(port!, 2);
    const { proxy, forward } = proxyTo(port!);
    const r = await forward(PAYMENT, 'POST', '/spi/payments', { 'idempotency-key': 'idem-1', 'content-type': 'application/json' });
    expect(r.status).toBe(201);
    expect(up.requests).toHaveLength(3);
    expect(up.requests.every((q) => /idempotency-key: idem-1/i.test(q) && q.includes('{"amount":"1.00"}'))).toBe(true);
    expect(proxy.breaker('spi').failures).toBe(0);
  });

  test('a write without an Idempotency-Key is not sent twice: 503 at once', async () => {
    const [port] = await freePorts(1);
    const up = droppingUpstream(port!, 1);
    const { proxy, forward } = proxyTo(port!);
    const r = await forward(PAYMENT, 'POST', '/spi/payments', { 'content-type': 'application/json' });
    expect(r.status).toBe(503);
    expect(up.requests).toHaveLength(1);
    expect(proxy.breaker('spi').failures).toBe(1);
  });

  test('an upstream that stays down: bounded by the route timeout, one breaker failure for the whole request', async () => {
    const [port] = await freePorts(1);
    const { proxy, outcomes, forward } = proxyTo(port!);
    const t0 = performance.now();
    const r = await forward(READ, 'GET', '/dict/keys/x');
    const ms = performance.now() - t0;
    expect(r.status).toBe(503);
    expect(ms).toBeLessThan(READ.timeoutMs);
    expect(outcomes.filter((o) => o === 'retried').length).toBeGreaterThanOrEqual(3);
    expect(outcomes.at(-1)).toBe('unreachable');
    expect(proxy.breaker('dict').failures).toBe(1);
  });

  test("a standby's 503 handled nothing: sent again, even a write without an Idempotency-Key, until the active one answers", async () => {
    const [port] = await freePorts(1);
    let hits = 0;
    const s = Bun.serve({
      port: port!, hostname: '127.0.0.1',
      fetch: () => (++hits <= 2
        ? Response.json({ title: 'Service unavailable' }, { status: 503, headers: { [STANDBY_HEADER]: '1', 'retry-after': '1' } })
        : Response.json({ ok: true }, { status: 201 })),
    });
    closers.push(() => s.stop(true));
    const { proxy, forward } = proxyTo(port!);
    const r = await forward(PAYMENT, 'POST', '/spi/payments', { 'content-type': 'application/json' });
    expect(r.status).toBe(201);
    expect(hits).toBe(3);
    expect(r.headers.get(STANDBY_HEADER)).toBeNull();
    expect(proxy.breaker('spi').failures).toBe(0);
  });

  test('a 5xx answer is an answer: passed back, not retried', async () => {
    const [port] = await freePorts(1);
    let hits = 0;
    const s = Bun.serve({ port: port!, hostname: '127.0.0.1', fetch: () => (hits++, Response.json({ err: 1 }, { status: 500 })) });
    closers.push(() => s.stop(true));
    const { forward } = proxyTo(port!);
    const r = await forward(READ, 'GET', '/dict/keys/x');
    expect(r.status).toBe(500);
    expect(hits).toBe(1);
  });

  test("an upstream's 503 with Retry-After (it sheds, or its own dependency is down) keeps the breaker closed; a bare 5xx counts", async () => {
    const [port] = await freePorts(1);
    let hits = 0;
    let shed = true;
    const s = Bun.serve({
      port: port!, hostname: '127.0.0.1',
      fetch: () => (hits++, shed ? Response.json({ title: 'DICT lookup unavailable' }, { status: 503, headers: { 'retry-after': '1' } }) : Response.json({ err: 1 }, { status: 502 })),
    });
    closers.push(() => s.stop(true));
    const { proxy, forward } = proxyTo(port!);
    for (let i = 0; i < 2 * BREAKER_FAILURES_MAX; i++) {
      const r = await forward(READ, 'GET', '/dict/keys/x');
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
    }
    expect(hits).toBe(2 * BREAKER_FAILURES_MAX);
    expect(proxy.breaker('dict')).toMatchObject({ state: 'CLOSED', failures: 0 });
    shed = false;
    for (let i = 0; i < BREAKER_FAILURES_MAX; i++) await forward(READ, 'GET', '/dict/keys/x');
    expect(proxy.breaker('dict').state).toBe('OPEN');
    expect(countsAsFailure(503, null)).toBe(true);
    expect(countsAsFailure(500, '1')).toBe(true);
    expect(countsAsFailure(429, '1')).toBe(false);
    expect(countsAsFailure(404, null)).toBe(false);
  });
});
