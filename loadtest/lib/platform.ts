// The running platform (`./fluxiq up`, default ports from shared/config.ts) as the scenarios see it:
// a readiness check that says clearly what to do when it is not up, the gateway's API with a token,
// the sandbox control API, and the seeding a scenario needs (a rate tier wide enough to measure, a
// load-test user with its payer account, PI balance). Loopback only: every URL here is 127.0.0.1.
import { connectNats, subject } from '../../shared/nats/index.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { loadConfig, type Config } from '../../shared/config.ts';
import { createDb } from '../../shared/db/client.ts';
import { addUser } from '../../services/settlement/auth/credentials.ts';
import { TIERS_SUBJECT } from '../../services/settlement/ratelimit/tiers.ts';

/** The tier given to load-test principals: the gateway's own bound on requests per window. */
export const LOADTEST_TIER = { name: 'loadtest', requestsMax: 100_000, windowMs: 1_000 };
export const LOADTEST_BRANCH = '0909';

export interface Platform {
  config: Config;
  gatewayUrl: string;
  sandboxControlUrl: string;
  db: ReturnType<typeof createDb>;
  close(): Promise<void>;
}

/** Exits with a clear message (code 2) when the platform is not running on its default ports. */
export async function requirePlatform(): Promise<Platform> {
  const config = loadConfig();
  const urls = {
    dict: `http://127.0.0.1:${config.dictPort}/ready`,
    spi: `http://127.0.0.1:${config.spiPort}/ready`,
    gateway: `http://127.0.0.1:${config.settlementPort}/ready`,
    sandbox: `http://127.0.0.1:${config.sandboxControlPort}/ready`,
  };
  const down: string[] = [];
  for (const [name, url] of Object.entries(urls)) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (!ok) down.push(`${name} (${url})`);
  }
  if (down.length > 0) {
    console.error(`The platform is not running (not ready: ${down.join(', ')}).\nStart it first, in another terminal: ./fluxiq up\nthen run this scenario again.`);
    process.exit(2);
  }
  const db = createDb(config);
  return {
    config, db,
    gatewayUrl: `http://127.0.0.1:${config.settlementPort}`,
    sandboxControlUrl: `http://127.0.0.1:${config.sandboxControlPort}`,
    close: () => db.close(),
  };
}

export async function json(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  let parsed: any = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = { text }; }
  return { status: res.status, json: parsed };
}

/** The load-test tier (upserted) and the gateways told to reload their tiers. */
export async function ensureLoadTier(p: Platform): Promise<void> {
  const { sql } = p.db;
  await sql`insert into rate_limit_tiers (name, requests_max, window_ms) values (${LOADTEST_TIER.name}, ${LOADTEST_TIER.requestsMax}, ${LOADTEST_TIER.windowMs})
    on conflict (name) do update set requests_max = excluded.requests_max, window_ms = excluded.window_ms, updated_at = now()`;
  const nc = await connectNats(p.config, createLogger('loadtest', 'error'), 'loadtest');
  nc.publish(subject(p.config, TIERS_SUBJECT));
  await nc.flush();
  await nc.close();
  await Bun.sleep(200);
}

export interface LoadUser {
  username: string;
  token: string;
  /** the payer account opened for this run */
  account: { branch: string; number: string };
  auth: Record<string, string>;
}

/** A user for this run (the users CLI's addUser), its token (password grant) and a funded payer account. */
export async function seedLoadUser(p: Platform, run: string, depositReais: string): Promise<LoadUser> {
  await ensureLoadTier(p);
  const username = `lt-${run}`;
  const password = `lt-password-${run}-${crypto.randomUUID()}`;
  const number = String(Date.now() % 10_000_000_000);
  await addUser(p.db.sql, {
    username, password, tier: LOADTEST_TIER.name,
    // admin: follows every WebSocket channel (payment events are matched by EndToEndId)
    scopes: ['payments:write', 'payments:read', 'dict:read', 'admin'],
    accounts: [`${p.config.ispb}:${LOADTEST_BRANCH}:${number}`],
  });
  const t = await json('POST', `${p.gatewayUrl}/auth/token`, { grant_type: 'password', username, password });
  if (t.status !== 200) throw new Error(`token for ${username}: ${t.status} ${JSON.stringify(t.json)}`);
  const auth = { authorization: `Bearer ${t.json.access_token}` };
  const opened = await json('POST', `${p.gatewayUrl}/spi/accounts`, {
    branch: LOADTEST_BRANCH, number, accountType: 'CACC', holderTaxId: '52998224725', holderName: 'Carga FluxiQ', initialDeposit: depositReais,
  }, auth);
  if (opened.status !== 201) throw new Error(`payer account through the gateway: ${opened.status} ${JSON.stringify(opened.json)}`);
  return { username, token: t.json.access_token, account: { branch: LOADTEST_BRANCH, number }, auth };
}

/** Our PI balance at the sandbox SPI, raised to at least `minCentavos` so the run is not refused AM04. */
export async function sandboxPiBalance(p: Platform): Promise<bigint> {
  const r = await json('GET', `${p.sandboxControlUrl}/spi/accounts`);
  const a = (r.json.accounts as { ispb: string; balanceCentavos: string }[]).find((x) => x.ispb === p.config.ispb);
  if (!a) throw new Error(`the sandbox has no PI account for ${p.config.ispb}`);
  return BigInt(a.balanceCentavos);
}

export async function fundSandboxPi(p: Platform, minCentavos: bigint): Promise<void> {
  if ((await sandboxPiBalance(p)) >= minCentavos) return;
  const r = await json('PUT', `${p.sandboxControlUrl}/spi/accounts/${p.config.ispb}`, { balanceCentavos: String(minCentavos) });
  if (r.status >= 300) throw new Error(`sandbox PI balance: ${r.status} ${JSON.stringify(r.json)}`);
}

/** Payment events from the gateway's WebSocket (/ws), by EndToEndId: when each arrived. */
export function paymentFeed(p: Platform, token: string): { seen: Map<string, number>; ready: Promise<void>; close(): void } {
  const seen = new Map<string, number>();
  const ws = new WebSocket(`ws://127.0.0.1:${p.config.settlementPort}/ws?access_token=${encodeURIComponent(token)}`);
  const ready = new Promise<void>((resolve, reject) => {
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data));
      if (msg.type === 'ready') resolve();
      const e2e = msg.type === 'event' ? msg.data?.payment?.endToEndId : undefined;
      if (typeof e2e === 'string' && !seen.has(e2e)) seen.set(e2e, performance.now());
    };
    ws.onerror = () => reject(new Error('WebSocket /ws failed'));
    setTimeout(() => reject(new Error('WebSocket /ws not ready in 5 s')), 5_000).unref?.();
  });
  return { seen, ready, close: () => ws.close() };
}
