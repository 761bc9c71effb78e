// The operator CLI as an operator runs it: `bun cli/main.ts <command> --json` in a child process, against
// running services (SPI + settlement with the BACEN sandbox; the DICT service with its own sandbox) on
// this file's schemas. Each command's JSON is checked, and so is its effect where it has one.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ROOT_DIR } from '../../shared/config.ts';
import { endToEndId } from '../db/support.ts';
import { dictFixture, FIXTURE_TIMEOUT_MS, naturalPerson, account, type DictFixture } from '../dict/support.ts';
import { startOpsPlatform, type OpsPlatform } from './support/platform.ts';

let platform: OpsPlatform;
let dict: DictFixture;
let dictServer: { stop(force?: boolean): unknown; port: number };

beforeAll(async () => {
  [platform, dict] = await Promise.all([startOpsPlatform('ops-cli'), dictFixture('ops-cli')]);
  const listening = dict.app.listen({ port: 0, hostname: '127.0.0.1' });
  dictServer = { port: listening.server!.port!, stop: () => listening.stop(true) };
}, FIXTURE_TIMEOUT_MS * 2);
afterAll(async () => {
  await dictServer?.stop(true);
  await Promise.all([platform?.stop(), dict?.close()]);
}, FIXTURE_TIMEOUT_MS);

/** The platform's environment (SPI, settlement, BACEN sandbox) with DICT_PORT at the running DICT service. */
const spiEnv = () => ({ ...platform.env, DICT_PORT: String(dictServer.port) });
/** The DICT service's schema and prefixes (claims and infraction reports live there). */
const dictEnv = () => ({ LOG_LEVEL: 'silent', DB_SCHEMA: dict.config.dbSchema, REDIS_PREFIX: dict.config.redisPrefix, NATS_PREFIX: dict.config.natsPrefix, DICT_PORT: String(dictServer.port) });

async function fluxiq(env: Record<string, string>, ...args: string[]): Promise<{ code: number; json: any; stdout: string; stderr: string }> {
  const proc = Bun.spawn(['bun', 'cli/main.ts', ...args], { cwd: ROOT_DIR, env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  let json: any = null;
  try { json = JSON.parse(stdout); } catch { /* text output */ }
  return { code, json, stdout, stderr };
}

describe('status and partitions', () => {
  test('partitions ensure creates the months ahead; status then reports every service ready, dependencies, lag and coverage (exit 0)', async () => {
    const ensured = await fluxiq(spiEnv(), 'partitions', 'ensure');
    expect(ensured.code).toBe(0);
    expect(ensured.stdout).toMatch(/created: .*transactions_y\d{4}m\d{2}/);
    const r = await fluxiq(spiEnv(), 'status', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.json.healthy).toBe(true);
    expect(r.json.services.map((s: { service: string; ready: boolean }) => [s.service, s.ready])).toEqual([['dict', true], ['spi', true], ['settlement', true]]);
    expect(r.json.dependencies).toEqual({ postgres: 'ok', redis: 'ok', nats: 'ok' });
    expect(r.json.partitions.map((p: { table: string; covered: boolean }) => [p.table, p.covered])).toEqual([['transactions', true], ['audit_log', true], ['settlements', true]]);
    expect(r.json.nats.consumers.some((c: { consumer: string; pending: number }) => c.consumer === 'spi-webhooks' && c.pending >= 0)).toBe(true);
  }, 20_000);

  test('a service that does not answer makes status exit 1 and names it', async () => {
    const r = await fluxiq({ ...spiEnv(), DICT_PORT: '1' }, 'status', '--json');
    expect(r.code).toBe(1);
    expect(r.json.healthy).toBe(false);
    expect(r.json.services.find((s: { service: string }) => s.service === 'dict')).toMatchObject({ ready: false, status: null });
    const text = await fluxiq({ ...spiEnv(), DICT_PORT: '1' }, 'status');
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/dict\s+DOWN/);
    expect(text.stdout.trim().endsWith('NOT healthy')).toBe(true);
  }, 20_000);
});

describe('payments and keys', () => {
  test('payments list filters by status and direction; payments show tells one payment whole', async () => {
    const a = await platform.pay('12.34');
    const b = await platform.pay('56.78');
    const list = await fluxiq(spiEnv(), 'payments', 'list', '--status', 'SETTLED', '--direction', 'OUTBOUND', '--json');
    expect(list.code).toBe(0);
    const ids = list.json.payments.map((p: { endToEndId: string }) => p.endToEndId);
    expect(ids).toContain(a.endToEndId);
    expect(ids).toContain(b.endToEndId);
    expect(list.json.payments.every((p: { status: string; direction: string }) => p.status === 'SETTLED' && p.direction === 'OUTBOUND')).toBe(true);
    const one = await fluxiq(spiEnv(), 'payments', 'list', '--limit', '1', '--json');
    expect(one.json.payments).toHaveLength(1);
    expect(one.json.payments[0].endToEndId).toBe(b.endToEndId); // newest first

    const show = await fluxiq(spiEnv(), 'payments', 'show', a.endToEndId, '--json');
    expect(show.code).toBe(0);
    expect(show.json).toMatchObject({ endToEndId: a.endToEndId, status: 'SETTLED', amount: '12.34', pacs002: 'ACSC', key: 'ana@example.com', creditor: { ispb: '10000001' }, returns: [] });
    expect(show.json.signedMessages).toBeGreaterThanOrEqual(2); // our pacs.008 and BACEN's pacs.002
  }, 20_000);

  test('payments show: an unknown EndToEndId exits 1 with {error}; a malformed one is a usage error (2)', async () => {
    const missing = endToEndId(new Date(), 'NOSUCHPAYMT');
    const r = await fluxiq(spiEnv(), 'payments', 'show', missing, '--json');
    expect(r.code).toBe(1);
    expect(r.json.error.detail).toBe(`no payment ${missing}`);
    expect(r.stderr).toContain(`no payment ${missing}`);
    expect((await fluxiq(spiEnv(), 'payments', 'show', 'E123', '--json')).code).toBe(2);
    expect((await fluxiq(spiEnv(), 'payments', 'list', '--limit', '0')).code).toBe(2);
    expect((await fluxiq(spiEnv(), 'payments', 'refund', '--json')).code).toBe(2);
  }, 20_000);

  test('keys show prints the entry with the owner\'s tax id masked; an unknown key exits 1', async () => {
    const r = await fluxiq(spiEnv(), 'keys', 'show', 'ana@example.com', '--json');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ key: 'ana@example.com', keyType: 'EMAIL', account: { participant: '10000001', number: '7654321' }, owner: { name: 'Ana Recebedora' } });
    expect(r.json.owner.taxId).not.toContain('111444777');
    expect((await fluxiq(spiEnv(), 'keys', 'show', 'nobody@example.com', '--json')).code).toBe(1);
  }, 20_000);
});

describe('claims and infraction reports (through the DICT service)', () => {
  test('claims list shows a claim against our key with its deadline; claims answer confirm gives the key up', async () => {
    const taxId = '11144477735';
    const registered = await dict.call('POST', '/keys', { keyType: 'CPF', key: taxId, account: account('7001'), owner: naturalPerson(taxId) });
    expect(registered.status).toBe(201);
    const sim = await dict.sandbox.control('POST', '/dict/simulate/claim', { key: taxId, type: 'PORTABILITY' });
    const id = sim.json.claim.id as string;
    await dict.services.claims.pollOnce();
    await dict.services.claims.runDueTimers();

    const listed = await fluxiq(dictEnv(), 'claims', 'list', '--json');
    expect(listed.code).toBe(0);
    const row = listed.json.claims.find((c: { id: string }) => c.id === id);
    expect(row).toMatchObject({ role: 'DONOR', type: 'PORTABILITY', status: 'WAITING_RESOLUTION', key: taxId });
    expect(row.msLeft).toBeGreaterThan(6 * 24 * 60 * 60 * 1000); // 7 days to answer (PIX.md § Claims)

    const answered = await fluxiq(dictEnv(), 'claims', 'answer', id, 'confirm', '--reason', 'USER_REQUESTED', '--json');
    expect(answered.stderr).toBe('');
    expect(answered.code).toBe(0);
    expect(answered.json).toMatchObject({ id, status: 'CONFIRMED' });
    const [db] = await dict.deps.sql<{ status: string; confirm_reason: string }[]>`select status, confirm_reason from dict_claims where id = ${id}`;
    expect(db).toEqual({ status: 'CONFIRMED', confirm_reason: 'USER_REQUESTED' });

    const again = await fluxiq(dictEnv(), 'claims', 'answer', id, 'cancel', '--reason', 'FRAUD', '--json');
    expect(again.code).toBe(1);
    expect(again.json.error.status).toBeGreaterThanOrEqual(400);
    expect((await fluxiq(dictEnv(), 'claims', 'answer', id, 'maybe', '--reason', 'FRAUD')).code).toBe(2);
  }, 30_000);

  test('infractions close sends our analysis to DICT', async () => {
    const at = dict.clock.now();
    const e2e = endToEndId(at, 'OPSCLIINFR1', '10000002');
    await dict.deps.sql`insert into transactions (end_to_end_id, direction, status, amount_centavos, debtor_ispb, debtor_branch, debtor_account, debtor_tax_id,
        debtor_name, creditor_ispb, creditor_branch, creditor_account, creditor_tax_id, creditor_name, initiation_form, pacs002_status, settled_at, created_at, updated_at)
      values (${e2e}, 'INBOUND', 'SETTLED', 18000, '10000002', '0001', '9001', '52998224725', 'Pagadora', '12345678', '0001', '9002', '11144477735', 'Recebedor', 'DICT', 'ACSC', ${at}, ${at}, ${at})`;
    expect((await dict.sandbox.control('POST', '/dict/transactions', { endToEndId: e2e, debited: '10000002', credited: '12345678', amount: '180.00', settledAt: at.toISOString() })).status).toBe(200);
    const sim = await dict.sandbox.control('POST', '/dict/simulate/infraction', { endToEndId: e2e });
    expect(sim.status).toBe(200);
    const id = sim.json.infractionReport.id as string;
    await dict.services.med.pollOnce();

    const r = await fluxiq(dictEnv(), 'infractions', 'close', id, '--result', 'DISAGREED', '--details', 'the receiver is a known merchant', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ id, status: 'CLOSED' });
    const [db] = await dict.deps.sql<{ status: string; analysis_result: string }[]>`select status, analysis_result from dict_infraction_reports where id = ${id}`;
    expect(db).toEqual({ status: 'CLOSED', analysis_result: 'DISAGREED' });
    expect((await fluxiq(dictEnv(), 'infractions', 'close', id, '--result', 'MAYBE', '--details', 'x')).code).toBe(2);
  }, 30_000);

  test('an action against a service that is down exits 3 and says so', async () => {
    const r = await fluxiq({ ...dictEnv(), DICT_PORT: '1' }, 'claims', 'answer', crypto.randomUUID(), 'confirm', '--reason', 'USER_REQUESTED', '--json');
    expect(r.code).toBe(3);
    expect(r.json.error.detail).toContain('is unreachable');
  }, 20_000);
});

describe('webhooks, STR and windows', () => {
  test('webhooks redeliver sends a failed delivery again once the receiver is back', async () => {
    let up = false;
    const receiver = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response(null, { status: up ? 204 : 503 }) });
    try {
      const sub = await platform.spi.http('POST', '/webhooks', { url: `http://127.0.0.1:${receiver.port}/hook`, secret: 'a-webhook-secret-of-32-characters', events: ['payment.settled'] });
      expect(sub.status).toBe(201);
      const paid = await platform.pay('3.00');
      const eventId = `${paid.endToEndId}.SETTLED`;
      const status = async () => (await platform.deps.sql<{ status: string }[]>`select status from spi_webhook_deliveries where subscription_id = ${sub.json.id} and event_id = ${eventId}`)[0]?.status;
      await platform.spi.until(async () => (await status()) === 'FAILED', 8_000);
      up = true;
      const r = await fluxiq(spiEnv(), 'webhooks', 'redeliver', sub.json.id, eventId, '--json');
      expect(r.code).toBe(0);
      expect(r.json).toEqual({ eventId, status: 'PENDING' });
      await platform.spi.until(async () => (await status()) === 'DELIVERED', 8_000);
      const missing = await fluxiq(spiEnv(), 'webhooks', 'redeliver', sub.json.id, 'no-such-event', '--json');
      expect(missing.code).toBe(1);
      expect(missing.json.error.status).toBe(404);
    } finally {
      receiver.stop(true);
    }
  }, 30_000);

  test('str topup moves money to the PI account once per TransferId', async () => {
    const r = await fluxiq(spiEnv(), 'str', 'topup', '--amount', '250.00', '--transfer-id', 'CLI-TOPUP-1', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ transferId: 'CLI-TOPUP-1', direction: 'TO_PI', amount: '250.00', replayed: false });
    const again = await fluxiq(spiEnv(), 'str', 'topup', '--amount', '250.00', '--transfer-id', 'CLI-TOPUP-1', '--json');
    expect(again.json).toMatchObject({ replayed: true, piBalance: r.json.piBalance });
    const conflict = await fluxiq(spiEnv(), 'str', 'topup', '--amount', '9.99', '--transfer-id', 'CLI-TOPUP-1', '--json');
    expect(conflict.code).toBe(1);
    expect(conflict.json.error.code).toBe('Conflict');
    const [row] = await platform.deps.sql<{ status: string; origin: string; amount_centavos: bigint }[]>`select status, origin, amount_centavos from str_transfers where id = 'CLI-TOPUP-1'`;
    expect(row).toEqual({ status: 'APPLIED', origin: 'MANUAL', amount_centavos: 25_000n });
    expect((await fluxiq(spiEnv(), 'str', 'topup', '--amount', 'lots')).code).toBe(2);
  }, 30_000);

  test('windows step opens the current hour\'s window', async () => {
    const r = await fluxiq(spiEnv(), 'windows', 'step', '--json');
    expect(r.code).toBe(0);
    expect(Array.isArray(r.json.moves)).toBe(true);
    const hour = new Date().toISOString().slice(0, 13).replace(/[-T]/g, '');
    const [w] = await platform.deps.sql<{ state: string }[]>`select state from settlement_windows where id = ${`W${hour}`}`;
    expect(w?.state).toBe('OPEN');
  }, 20_000);
});
