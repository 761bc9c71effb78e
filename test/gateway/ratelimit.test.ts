import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { subject } from '../../shared/nats/index.ts';
import { redisKey } from '../../shared/redis/index.ts';
import { createLeaseLimiter } from '../../services/settlement/ratelimit/lease.ts';
import { TIERS_SUBJECT } from '../../services/settlement/ratelimit/tiers.ts';
import { eventually } from '../nats/fixture.ts';
import { startGateway, startUpstream, type GatewayHarness } from './support.ts';

let upstream: ReturnType<typeof startUpstream>;
let gw: GatewayHarness;

async function clientToken(clientId: string, tier: string): Promise<string> {
  await gw.addClient(clientId, `${clientId}-secret-0123456789`, ['dict:read'], tier);
  const res = await gw.token({ grant_type: 'client_credentials', client_id: clientId, client_secret: `${clientId}-secret-0123456789` });
  return ((await res.json()) as { access_token: string }).access_token;
}

beforeAll(async () => {
  upstream = startUpstream();
  gw = await startGateway('ratelimit', { upstreams: { dict: upstream.url, spi: upstream.url } });
});
afterAll(async () => {
  await gw.stop();
  upstream.stop();
});

describe('rate limit per principal (standard tier: 100 requests per 60 s sliding window)', () => {
  test('the 101st request in the window is 429 with Retry-After and RateLimit-* headers, while another client is unaffected; most requests never touch Redis', async () => {
    const busy = await clientToken('busy-client', 'standard');
    const calm = await clientToken('calm-client', 'standard');
    const callsBefore = gw.gateway.limiter.redisCalls;
    const remaining: number[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await gw.fetch(`/dict/keys/k${i}`, { token: busy });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe('100');
      remaining.push(Number(res.headers.get('ratelimit-remaining')));
      gw.clock.advance(100); // 100 requests over 10 s
    }
    expect(remaining[0]).toBe(99);
    expect(remaining.at(-1)).toBe(0);
    expect(remaining).toEqual([...remaining].sort((a, b) => b - a));
    // a lease is a tenth of the limit: 10 Redis calls for 100 requests
    expect(gw.gateway.limiter.redisCalls - callsBefore).toBeLessThanOrEqual(11);

    const refused = await gw.fetch('/dict/keys/one-too-many', { token: busy });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(((await refused.json()) as { type: string }).type).toEndWith('/RateLimited');
    const retryAfterS = Number(refused.headers.get('retry-after'));
    // the first slot was leased at t0 and counts until t0 + hold + 60 s; 10 s have passed
    expect(retryAfterS).toBeGreaterThanOrEqual(50);
    expect(retryAfterS).toBeLessThanOrEqual(52);
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(upstream.seen.some((s) => s.path === '/keys/one-too-many')).toBe(false);

    const other = await gw.fetch('/dict/keys/calm', { token: calm });
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit-remaining')).toBe('99');

    // once the window has slid past the first lease, the busy client is served again
    gw.clock.advance(retryAfterS * 1000);
    expect((await gw.fetch('/dict/keys/again', { token: busy })).status).toBe(200);
  });

  test('two gateway instances share the window: together they never admit more than the limit', async () => {
    // a second instance is a second limiter (its own Map) on the same Redis log
    const a = gw.gateway.limiter;
    const b = createLeaseLimiter({ redis: gw.deps.redis, prefix: redisKey(gw.config, 'gw', 'rate'), logger: gw.deps.logger });
    const tier = { requestsMax: 30, windowMs: 60_000 };
    const now = gw.clock.nowMs();
    let admitted = 0;
    for (let i = 0; i < 40; i++) {
      if ((await a.take('client:shared', tier, now)).allowed) admitted++;
      if ((await b.take('client:shared', tier, now)).allowed) admitted++;
    }
    expect(admitted).toBe(30);
  });

  test('tiers come from Postgres and a change published on NATS takes effect without a restart', async () => {
    const token = await clientToken('tiered-client', 'partner');
    const first = await gw.fetch('/dict/keys/t', { token });
    expect(first.headers.get('ratelimit-limit')).toBe('1000');
    await gw.deps.sql`update rate_limit_tiers set requests_max = 5 where name = 'partner'`;
    gw.deps.nc.publish(subject(gw.config, TIERS_SUBJECT), '{}');
    await eventually('the tier reloaded', () => gw.gateway.tiers.get('partner').requestsMax === 5);
    gw.clock.advance(61_000 + 2_000); // the request made under the old tier has left the window
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await gw.fetch('/dict/keys/t', { token })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });
});
