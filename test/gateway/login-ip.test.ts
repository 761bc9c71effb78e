import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import net from 'node:net';
import { LOGIN_ATTEMPTS_PER_ACCOUNT_MAX, LOGIN_WINDOW_MS } from '../../services/settlement/auth/routes.ts';
import { startGateway, type GatewayHarness } from './support.ts';

// Each attempt costs an argon2id verification (~0.25 s here), so the per-address bound is lowered from
// its default (100) to keep this file quick; the rule is the same.
const PER_IP_MAX = 5;
let gw: GatewayHarness;

/** POST /auth/token from a chosen loopback source address (127.0.0.2 is another client to the gateway). */
async function tokenFrom(localAddress: string, body: Record<string, string>): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const json = JSON.stringify(body);
  const sock = net.connect({ host: '127.0.0.1', port: gw.port, localAddress });
  let raw = '';
  sock.on('data', (d) => (raw += d));
  sock.on('connect', () => sock.write(`POST /auth/token HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`));
  await new Promise((resolve, reject) => { sock.on('close', resolve); sock.on('error', reject); });
  const [head, ...rest] = raw.split('\r\n\r\n');
  const [statusLine, ...lines] = head!.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine!.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

beforeAll(async () => {
  gw = await startGateway('login-ip', { loginLimits: { perAccountMax: LOGIN_ATTEMPTS_PER_ACCOUNT_MAX, perIpMax: PER_IP_MAX, windowMs: LOGIN_WINDOW_MS } });
  await gw.addUser('real.user', 'the-right-password', ['dict:read']);
});
afterAll(async () => { await gw.stop(); });

describe('login throttle per source address', () => {
  test(`after ${PER_IP_MAX} attempts from one address, spread over as many accounts, the next is 429 even with the right password; another address is unaffected`, async () => {
    for (let i = 0; i < PER_IP_MAX; i++) {
      // one attempt per account: the per-account throttle never comes into play
      expect((await gw.token({ grant_type: 'password', username: `guess.${i}`, password: 'x' })).status).toBe(401);
    }
    const blocked = await gw.token({ grant_type: 'password', username: 'real.user', password: 'the-right-password' });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('content-type')).toContain('application/problem+json');
    expect(((await blocked.json()) as { type: string }).type).toEndWith('RateLimited');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(LOGIN_WINDOW_MS / 1000);

    // the same account from another address logs in: the throttle that blocked was the address's
    const other = await tokenFrom('127.0.0.2', { grant_type: 'password', username: 'real.user', password: 'the-right-password' });
    expect(other.status).toBe(200);
    expect(JSON.parse(other.body)).toMatchObject({ token_type: 'Bearer', scope: 'dict:read' });
    // client credentials from the blocked address are throttled too (the bound is per address, whatever the grant)
    expect((await tokenFrom('127.0.0.1', { grant_type: 'client_credentials', client_id: 'some.client', client_secret: 's' })).status).toBe(429);
  });

  test('once the window has passed, the address may try again', async () => {
    gw.clock.advance(LOGIN_WINDOW_MS + 1);
    expect((await gw.token({ grant_type: 'password', username: 'real.user', password: 'the-right-password' })).status).toBe(200);
  });
});
