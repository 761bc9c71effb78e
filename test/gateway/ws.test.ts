import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { publish, subject } from '../../shared/nats/index.ts';
import { verifyInternalPrincipal } from '../../services/settlement/auth/principal.ts';
import { eventually } from '../nats/fixture.ts';
import { startGateway, type GatewayHarness } from './support.ts';

const OUR_ACCOUNT = { ispb: '12345678', branch: '0001', accountNumber: '123456' };
const SOMEONE_ELSE = { ispb: '12345678', branch: '0001', accountNumber: '999999' };

let gw: GatewayHarness;
let spiStandIn: ReturnType<typeof Bun.serve>;
let userId: string;
let token: string;

interface Message { type: string; id?: string; stream?: string; seq?: number; data?: Record<string, unknown>; channels?: string[] }

/** A portal's connection: every message it received, in order. */
async function connect(query: string): Promise<{ ws: WebSocket; got: Message[]; close(): Promise<void> }> {
  const got: Message[] = [];
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws?${query}`);
  ws.onmessage = (e) => got.push(JSON.parse(String(e.data)) as Message);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('websocket failed to open'));
  });
  await eventually('the ready message', () => got.some((m) => m.type === 'ready'));
  return {
    ws, got,
    close: () => new Promise<void>((resolve) => {
      ws.onclose = () => resolve();
      ws.close();
    }),
  };
}

const events = (got: Message[]) => got.filter((m) => m.type === 'event');
const e2e = (n: number) => `E12345678202611251200${String(n).padStart(11, '0')}`;

function payment(n: number, status: string, debtor = OUR_ACCOUNT) {
  return publish(gw.deps.js, subject(gw.config, `pix.payments.${status.toLowerCase()}`), { endToEndId: e2e(n), status, amount: '10.00', debtor, creditor: { ispb: '10000001', branch: '0001', accountNumber: '777' } }, { msgId: `pay-${n}-${status}` });
}

beforeAll(async () => {
  // stands in for spi as a routing target: takes the forwarded payment, and publishes the event spi would,
  // naming the user who initiated it from the gateway's signed principal header
  spiStandIn = Bun.serve({
    port: 0, hostname: '127.0.0.1',
    async fetch(req) {
      const v = await verifyInternalPrincipal(gw.gateway.keys, gw.clock, req.headers.get('x-fluxiq-principal') ?? '');
      if (!v.ok) return new Response('no principal', { status: 401 });
      const body = (await req.json()) as { endToEndId: string };
      await publish(gw.deps.js, subject(gw.config, 'pix.payments.created'), { endToEndId: body.endToEndId, status: 'CREATED', initiatedBy: v.principal.sub }, { msgId: `created-${body.endToEndId}` });
      return Response.json({ endToEndId: body.endToEndId, status: 'CREATED' }, { status: 201 });
    },
  });
  gw = await startGateway('ws', { upstreams: { dict: `http://127.0.0.1:${spiStandIn.port}`, spi: `http://127.0.0.1:${spiStandIn.port}` } });
  userId = await gw.addUser('portal.user', 'portal-password-123', ['payments:write', 'payments:read'], { accounts: ['12345678:0001:123456'] });
  const res = await gw.token({ grant_type: 'password', username: 'portal.user', password: 'portal-password-123' });
  token = ((await res.json()) as { access_token: string }).access_token;
});
afterAll(async () => {
  await gw.stop();
  spiStandIn.stop(true);
});

describe('WebSocket /ws', () => {
  test('an invalid token on the upgrade is refused with 401 problem+json', async () => {
    const forged = await fetch(`${gw.baseUrl}/ws?access_token=a.b.c`, { headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('content-type')).toContain('application/problem+json');
  });

  test('a socket opened without a token gets nothing until its first message authenticates it; a bad one is closed with 1008', async () => {
    const bad = new WebSocket(`ws://127.0.0.1:${gw.port}/ws`);
    const closed = new Promise<number>((resolve) => { bad.onclose = (e) => resolve(e.code); });
    bad.onopen = () => bad.send(JSON.stringify({ type: 'auth', token: 'a.b.c' }));
    expect(await closed).toBe(1008);

    const got: Message[] = [];
    const good = new WebSocket(`ws://127.0.0.1:${gw.port}/ws`);
    good.onmessage = (e) => got.push(JSON.parse(String(e.data)) as Message);
    await new Promise<void>((resolve) => { good.onopen = () => resolve(); });
    await Bun.sleep(50);
    expect(got).toEqual([]);
    good.send(JSON.stringify({ type: 'auth', token }));
    await eventually('ready after the auth message', () => got.some((m) => m.type === 'ready'));
    await payment(5, 'SENT');
    await eventually('an event', () => got.some((m) => m.type === 'event' && m.data?.endToEndId === e2e(5)));
    await new Promise<void>((resolve) => { good.onclose = () => resolve(); good.close(); });
  });

  test('a payment made through the gateway reaches the portal user\'s channel', async () => {
    const portal = await connect(`access_token=${token}`);
    expect(portal.got[0]).toMatchObject({ type: 'ready', channels: expect.arrayContaining([`user:${userId}`, 'account:12345678:0001:123456']) });
    const res = await gw.fetch('/spi/payments', { method: 'POST', token, body: JSON.stringify({ endToEndId: e2e(1) }), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
    await eventually('the payment event', () => events(portal.got).length === 1);
    expect(events(portal.got)[0]).toMatchObject({ stream: 'payments', data: { endToEndId: e2e(1), status: 'CREATED', initiatedBy: userId }, channels: [`user:${userId}`] });
    await portal.close();
  });

  test('events of the user\'s account arrive, other accounts\' do not; a reconnect with the last id misses nothing and gets nothing twice', async () => {
    const portal = await connect(`access_token=${token}`);
    await payment(10, 'SENT');
    await payment(11, 'SENT', SOMEONE_ELSE);
    await payment(10, 'SETTLED');
    await eventually('two events of our account', () => events(portal.got).length === 2);
    expect(events(portal.got).map((m) => m.data?.endToEndId)).toEqual([e2e(10), e2e(10)]);
    const lastId = events(portal.got).at(-1)!.id!;
    await portal.close();

    // while the portal is away: two events for it on two streams, one for someone else
    await payment(12, 'SENT');
    await payment(13, 'SENT', SOMEONE_ELSE);
    await publish(gw.deps.js, subject(gw.config, 'pix.keys.claim_opened'), { event: 'claim_opened', key: '+5511987654321', participant: '12345678', branch: '0001', accountNumber: '123456' }, { msgId: 'claim-1' });

    const back = await connect(`access_token=${token}&lastEventId=${encodeURIComponent(lastId)}`);
    await eventually('the missed events', () => events(back.got).length >= 2);
    await payment(14, 'SENT'); // and live events continue after the replay
    await eventually('the live event', () => events(back.got).length >= 3);
    await Bun.sleep(100); // time for any duplicate to show up
    const got = events(back.got);
    const label = (m: Message) => `${m.stream}:${String(m.data?.endToEndId ?? m.data?.event)}`;
    // the two streams replay independently; within a stream the order is the stream's
    expect(got.map(label).sort()).toEqual([`payments:${e2e(12)}`, `payments:${e2e(14)}`, 'keys:claim_opened'].sort());
    expect(got.filter((m) => m.stream === 'payments').map(label)).toEqual([`payments:${e2e(12)}`, `payments:${e2e(14)}`]);
    expect(got).toHaveLength(3);
    const seqs = new Set(got.map((m) => `${m.stream}:${m.seq}`));
    expect(seqs.size).toBe(3);

    // reconnecting again from the very last id gives nothing old
    const lastAgain = got.at(-1)!.id!;
    await back.close();
    const third = await connect(`access_token=${token}&lastEventId=${encodeURIComponent(lastAgain)}`);
    await Bun.sleep(150);
    expect(events(third.got)).toHaveLength(0);
    await third.close();
  });

  test('liquidity alerts reach those who may read settlement, and nobody else', async () => {
    await gw.addUser('treasury.ws', 'treasury-ws-password', ['settlement:read']);
    const treasuryToken = ((await (await gw.token({ grant_type: 'password', username: 'treasury.ws', password: 'treasury-ws-password' })).json()) as { access_token: string }).access_token;
    const treasury = await connect(`access_token=${treasuryToken}`);
    const portal = await connect(`access_token=${token}`);
    await publish(gw.deps.js, subject(gw.config, 'pix.settlement.liquidity'), { channel: 'liquidity', kind: 'alert', level: 'CRITICAL', episode: 'LIQ-test', balance: '150.00', account: { ispb: '12345678', accountNumber: 'PI' } }, { msgId: 'LIQ-test:CRITICAL' });
    await payment(20, 'SENT'); // an event the portal does get
    await eventually('the alert', () => events(treasury.got).length === 1);
    await eventually('the portal\'s payment', () => events(portal.got).length === 1);
    await Bun.sleep(100); // time for a wrongly routed alert to show up
    expect(events(portal.got)).toHaveLength(1);
    expect(events(treasury.got)[0]).toMatchObject({ stream: 'settlement', data: { level: 'CRITICAL' }, channels: expect.arrayContaining(['liquidity']) });
    expect(events(portal.got)[0]?.data?.endToEndId).toBe(e2e(20));
    await treasury.close();
    await portal.close();
  });

  test('a malformed lastEventId is refused before the upgrade', async () => {
    const res = await fetch(`${gw.baseUrl}/ws?access_token=${token}&lastEventId=nope`, { headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } });
    expect(res.status).toBe(400);
  });
});
