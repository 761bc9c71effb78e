// The SPI service wired with real dependencies for one test file: a migrated test schema, Redis and NATS
// with the file's prefixes, the BACEN sandbox over mTLS (test/sandbox harness), our signer, and a DICT
// lookup served over HTTP from the schema's pix_keys table (the DICT service's lookup contract:
// GET /keys/:key/lookup, POST /lookups/credits), which the real HTTP KeyResolver calls.
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../../../shared/config.ts';
import { ensureDatabase } from '../../../shared/db/client.ts';
import { dropSchema, migrate } from '../../../shared/db/migrate.ts';
import { deleteStreams } from '../../../shared/nats/index.ts';
import { readPem } from '../../../shared/pki.ts';
import { deleteKeysWithPrefix } from '../../../shared/redis/index.ts';
import { connectServiceDeps, type ConnectedDeps } from '../../../shared/service.ts';
import { createSpiApp, type SpiDeps } from '../../../services/spi/app.ts';
import { createHttpKeyResolver } from '../../../services/spi/keys/resolver.ts';
import { startTestSandbox, type TestSandbox } from '../../sandbox/support/harness.ts';
import { testConfig } from '../../support/env.ts';

export const PSP = '10000001';

export interface SpiHarness {
  config: Config;
  sandbox: TestSandbox;
  base: ConnectedDeps;
  deps: SpiDeps;
  app: ReturnType<typeof createSpiApp>;
  url: string;
  /** the in-test DICT lookup's port (a spi process started by a test resolves keys there: DICT_PORT) */
  dictPort: number;
  http(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; headers: Headers; text: string }>;
  openAccount(branch: string, number: string, taxId: string, deposit?: string, name?: string): Promise<void>;
  /** a DICT entry of a simulated PSP's customer */
  registerKey(key: string, keyType: string, e: { ispb?: string; branch?: string; account?: string; taxId: string; name: string }): Promise<void>;
  /** waits until `check` holds (polling, bounded) */
  until<T>(check: () => Promise<T | undefined | null | false>, ms?: number): Promise<T>;
  stop(): Promise<void>;
}

const freePort = () => {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('') });
  const port = s.port;
  s.stop(true);
  return port;
};

export async function startSpi(name: string, options: SpiDeps['options'] = {}): Promise<SpiHarness> {
  const sandbox = await startTestSandbox(name);
  const port = freePort();
  const config = testConfig(name, { PKI_DIR: sandbox.dir, QR_PAYLOAD_HOST: `127.0.0.1:${port}` });
  await ensureDatabase(config.databaseUrl);
  const base = await connectServiceDeps('spi', config);
  await migrate(base.sql, { schema: config.dbSchema });

  // in-test DICT lookup over the schema's pix_keys (a real table, real HTTP), as the DICT service answers it
  const dict = Bun.serve({
    port: 0, hostname: '127.0.0.1',
    async fetch(req) {
      const u = new URL(req.url);
      const m = /^\/keys\/([^/]+)\/lookup$/.exec(u.pathname);
      if (m && req.method === 'GET') {
        if (!req.headers.get('pi-payerid')) return Response.json({ detail: 'PI-PayerId required' }, { status: 400 });
        const key = decodeURIComponent(m[1]!);
        const [r] = await base.sql`select * from pix_keys where key = ${key}`;
        if (!r) return Response.json({ type: 'https://fluxiq.dev/problems/EntryNotFound', status: 404, detail: 'not found' }, { status: 404, headers: { 'content-type': 'application/problem+json' } });
        return Response.json({ entry: {
          key: r.key, keyType: r.key_type,
          account: { participant: r.participant_ispb, branch: r.branch, accountNumber: r.account_number, accountType: r.account_type, openingDate: r.account_opened_at },
          owner: { type: r.owner_type, taxIdNumber: r.owner_tax_id, name: r.owner_name },
        }, bookTransfer: r.participant_ispb === config.ispb });
      }
      if (u.pathname === '/lookups/credits') return new Response(null, { status: 204 });
      return new Response('not found', { status: 404 });
    },
  });

  const bacen = sandbox.client(undefined, { timeoutMs: 3_000 });
  const signer = await sandbox.signerFor(sandbox.pki.participant);
  const deps: SpiDeps = {
    ...base, bacen, signer, resolver: createHttpKeyResolver(`http://127.0.0.1:${dict.port}`),
    trustedCaPem: readPem(join(sandbox.dir, 'ca.crt')),
    qrKeys: { keyPem: readPem(sandbox.pki.participant.key), certPem: readPem(sandbox.pki.participant.cert) },
    options: { syncWaitMs: 2_000, answerTimeoutMs: 3_000, pollers: 2, inboxWaitMs: 200, qrFetchScheme: 'http', webhooks: { backoffMsBase: 50, backoffMsMax: 200, pollMs: 25, attemptsMax: 4 }, ...options },
  };
  const app = createSpiApp(deps);
  await app.runtime.start();
  app.listen({ port, hostname: '127.0.0.1' });
  const url = `http://127.0.0.1:${port}`;

  const h: SpiHarness = {
    config, sandbox, base, deps, app, url, dictPort: dict.port!,
    async http(method, path, body, headers = {}) {
      const res = await fetch(url + path, {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let json: any = null;
      try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
      return { status: res.status, json, headers: res.headers, text };
    },
    async openAccount(branch, number, taxId, deposit, holder = 'Cliente FluxiQ') {
      const r = await h.http('POST', '/accounts', { branch, number, accountType: 'CACC', holderTaxId: taxId, holderName: holder, ...(deposit ? { initialDeposit: deposit } : {}) });
      if (r.status !== 201) throw new Error(`openAccount ${branch}/${number}: ${r.status} ${r.text}`);
    },
    async registerKey(key, keyType, e) {
      const cid = createHash('sha256').update(key).digest('hex');
      await base.sql`insert into pix_keys ${base.sql({
        key, key_type: keyType, participant_ispb: e.ispb ?? PSP, branch: e.branch ?? '0001', account_number: e.account ?? '7654321', account_type: 'CACC',
        account_opened_at: new Date('2020-01-01T00:00:00Z'), owner_type: e.taxId.length === 11 ? 'NATURAL_PERSON' : 'LEGAL_PERSON', owner_tax_id: e.taxId,
        owner_name: e.name, cid, request_id: randomUUID(), key_owned_since: new Date('2020-01-01T00:00:00Z'),
      })}`;
    },
    async until(check, ms = 4_000) {
      const end = performance.now() + ms;
      for (;;) {
        const v = await check();
        if (v) return v as any;
        if (performance.now() > end) throw new Error('condition not reached in time');
        await Bun.sleep(20);
      }
    },
    async stop() {
      await app.stop(true);
      await app.runtime.stop();
      dict.stop(true);
      await dropSchema(base.sql, config.dbSchema);
      await deleteStreams(base.jsm, config);
      await deleteKeysWithPrefix(base.redis, config.redisPrefix);
      await base.close();
      await sandbox.stop();
    },
  };
  return h;
}

/** Valid CPFs / CNPJs for fixtures (check digits computed, PIX.md § Keys). */
export function cpf(base9: string): string {
  const d = base9.split('').map(Number);
  const dv = (ds: number[], w0: number) => {
    const s = ds.reduce((a, x, i) => a + x * (w0 - i), 0);
    const r = s % 11;
    return r < 2 ? 0 : 11 - r;
  };
  const d1 = dv(d, 10);
  const d2 = dv([...d, d1], 11);
  return base9 + d1 + d2;
}
