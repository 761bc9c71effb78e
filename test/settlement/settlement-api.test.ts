import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { defaultTlsPaths } from '../../shared/bacen/client.ts';
import { readPem } from '../../shared/pki.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { createXmlSigner, type XmlSigner } from '../../shared/xml/signer.ts';
import { createSettlementBacen } from '../../services/settlement/str/client.ts';
import { advanceWindows } from '../../services/settlement/windows/store.ts';
import { transactionRow } from '../db/support.ts';
import { startGateway, type GatewayHarness } from '../gateway/support.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/support/harness.ts';

let sandbox: TestSandbox;
let signer: XmlSigner;
let gw: GatewayHarness;
let admin: string;
let reader: string;

const tokenOf = async (username: string, password: string) => ((await (await gw.token({ grant_type: 'password', username, password })).json()) as { access_token: string }).access_token;
const post = (path: string, token: string, body: unknown) => gw.fetch(path, { method: 'POST', token, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

beforeAll(async () => {
  sandbox = await startTestSandbox('settlement-api');
  const tls = defaultTlsPaths(sandbox.dir);
  signer = await createXmlSigner({ keyPem: readPem(tls.key), certPem: readPem(tls.cert), threads: 0, logger: createLogger('test', 'silent') });
  const bacen = createSettlementBacen({ bacen: sandbox.client(), signer, ispb: '12345678', bacenIspb: '00038166', trustedCaPem: readPem(tls.ca), bacenCertPem: readPem(join(sandbox.dir, 'bacen.crt')) });
  gw = await startGateway('settlement-api', { bacen });
  await gw.addUser('treasurer', 'treasurer-password-1', ['admin']);
  await gw.addUser('auditor', 'auditor-password-12', ['settlement:read']);
  admin = await tokenOf('treasurer', 'treasurer-password-1');
  reader = await tokenOf('auditor', 'auditor-password-12');
}, 30_000);
afterAll(async () => {
  await gw?.stop();
  await signer?.close();
  await sandbox?.stop();
});

describe('manual STR transfers', () => {
  test('an admin moves money from the reserve to the PI account; the same TransferId again changes nothing', async () => {
    const first = await post('/settlement/str/transfers', admin, { transferId: 'MANUAL-0001', direction: 'TO_PI', amount: '250.00' });
    expect(first.status).toBe(201);
    const body = (await first.json()) as { piBalance: string; replayed: boolean };
    expect(body.replayed).toBe(false);
    const again = await post('/settlement/str/transfers', admin, { transferId: 'MANUAL-0001', direction: 'TO_PI', amount: '250.00' });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ replayed: true, piBalance: body.piBalance });
    const [row] = await gw.deps.sql<{ status: string; origin: string }[]>`select status, origin from str_transfers where id = 'MANUAL-0001'`;
    expect(row).toEqual({ status: 'APPLIED', origin: 'MANUAL' });
  });

  test('the same TransferId with other terms is refused; so is a caller without admin', async () => {
    expect((await post('/settlement/str/transfers', admin, { transferId: 'MANUAL-0001', direction: 'TO_PI', amount: '9.99' })).status).toBe(409);
    expect((await post('/settlement/str/transfers', reader, { transferId: 'MANUAL-0002', direction: 'TO_PI', amount: '1.00' })).status).toBe(403);
  });
});

describe('reconciliation decides the windows of a day', () => {
  test('a clean day settles its closed windows; a day with an unexplained mismatch marks them RECONCILIATION_FAILED', async () => {
    const clean = new Date(Date.UTC(2026, 10, 20, 10, 0, 0));
    const dirty = new Date(Date.UTC(2026, 10, 21, 10, 0, 0));
    for (const start of [clean, dirty]) {
      await advanceWindows(gw.deps.sql, new Date(start.getTime() + 60_000));
      await advanceWindows(gw.deps.sql, new Date(start.getTime() + 3_600_000 + 60_000)); // past the end and the grace: CLOSED
    }
    // 2026-11-21: a payment we hold as settled that BACEN never booked
    const row = { ...transactionRow(new Date(dirty.getTime() + 5 * 60_000), 'APIDIRTY001'), status: 'SETTLED', pacs002_status: 'ACSC', settled_at: new Date(dirty.getTime() + 5 * 60_000 + 500) };
    await gw.deps.sql`insert into transactions ${gw.deps.sql(row)}`;

    const ok = await post('/settlement/recon/runs', admin, { date: '2026-11-20' });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ unexplained: 0, matched: 0 });
    const bad = await post('/settlement/recon/runs', admin, { date: '2026-11-21' });
    expect(await bad.json()).toMatchObject({ unexplained: 1, summary: { MISSING_BACEN: 1 } });

    const state = async (id: string) => ((await (await gw.fetch(`/settlement/windows/${id}`, { token: reader })).json()) as { window: { state: string } }).window.state;
    expect(await state('W2026112010')).toBe('SETTLED');
    expect(await state('W2026112110')).toBe('RECONCILIATION_FAILED');

    const runs = await gw.fetch('/settlement/recon/runs', { token: reader });
    expect(runs.status).toBe(200);
    expect(((await runs.json()) as unknown[]).length).toBe(2);
    expect((await post('/settlement/recon/runs', reader, { date: '2026-11-20' })).status).toBe(403);
  });

  test('a date that is not a calendar day is a 400 naming it, and runs nothing (0000-00-00 was a 500)', async () => {
    const runs = async () => (await gw.deps.sql`select count(*)::int as n from recon_runs`)[0]!.n as number;
    const before = await runs();
    for (const date of ['0000-00-00', '2026-02-30', '2026-13-01']) {
      const r = await post('/settlement/recon/runs', admin, { date });
      expect(r.status, date).toBe(400);
      expect(((await r.json()) as { violations: unknown[] }).violations[0], date).toMatchObject({ field: 'date', rule: 'calendar-date' });
    }
    expect(await runs()).toBe(before);
  });

  test('a day that has not begun is a 400 naming the date, not a 503 from BACEN refusing the period', async () => {
    const tomorrow = new Date(gw.clock.nowMs() + 86_400_000).toISOString().slice(0, 10);
    const r = await post('/settlement/recon/runs', admin, { date: tomorrow });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { violations: unknown[] }).violations[0]).toMatchObject({ field: 'date', rule: 'not-future' });
  });
});
