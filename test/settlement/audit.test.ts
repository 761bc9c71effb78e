// The audit trail of settlement (issue 9): every window move and every STR transfer step is in audit_log,
// written in the transaction that recorded it; a step that changes nothing writes nothing; the chain verifies.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { verifyAuditChain } from '../../shared/audit.ts';
import { defaultTlsPaths } from '../../shared/bacen/client.ts';
import { systemClock } from '../../shared/clock.ts';
import { readPem } from '../../shared/pki.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { createXmlSigner, type XmlSigner } from '../../shared/xml/signer.ts';
import { verifyXmlSignature } from '../../shared/xml/verify.ts';
import { recordPositionEvents } from '../../services/settlement/positions/store.ts';
import { markWindows } from '../../services/settlement/recon/daily.ts';
import { createSettlementBacen, type SettlementBacen } from '../../services/settlement/str/client.ts';
import { strTransfer } from '../../services/settlement/str/transfers.ts';
import { advanceWindows } from '../../services/settlement/windows/store.ts';
import { windowAt, WINDOW_GRACE_MS } from '../../services/settlement/windows/window.ts';
import { migratedTestDb, transactionRow, type TestDb } from '../db/support.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/support/harness.ts';

const OURS = '12345678';
const A = '10000001';

interface AuditRow {
  action: string;
  actor: string;
  detail: Record<string, any>;
  xid: string;
}

let db: TestDb;
beforeAll(async () => {
  db = await migratedTestDb('settlement-audit');
});
afterAll(async () => db?.cleanup());

const trailOf = (entityId: string) => db.sql<AuditRow[]>`select action, actor, detail, xmin::text as xid from audit_log where entity_id = ${entityId} order by chain_seq`;
const auditCount = async () => Number((await db.sql`select count(*)::int as n from audit_log`)[0]!.n);

describe('settlement windows', () => {
  const w = windowAt(new Date(Date.UTC(2026, 10, 25, 14, 0, 0)));

  test('each move is audited with the transaction that made it; the close carries the net positions it wrote', async () => {
    // one payment we made to A, settled in the window: its row, and its position counted as the consumer does
    const settledAt = new Date(w.startsAt.getTime() + 5 * 60_000);
    const row = { ...transactionRow(new Date(settledAt.getTime() - 1_000), 'AUDITWIN001', 2_500n), creditor_ispb: A, status: 'SETTLED', pacs002_status: 'ACSC', settled_at: settledAt };
    await db.sql`insert into transactions ${db.sql(row)}`;
    await recordPositionEvents(db.sql, [{ eventId: `${row.end_to_end_id}.SETTLED`, windowId: w.id, endToEndId: row.end_to_end_id, debtorIspb: OURS, creditorIspb: A, amountCentavos: 2_500n, settledAt }], settledAt);
    expect(await trailOf(w.id)).toHaveLength(0); // a window coming into existence is no move

    expect(await advanceWindows(db.sql, w.endsAt)).toEqual([{ id: w.id, to: 'CLOSING' }]);
    expect(await advanceWindows(db.sql, new Date(w.endsAt.getTime() + WINDOW_GRACE_MS), { actor: 'user:treasurer' })).toEqual([{ id: w.id, to: 'CLOSED' }]);
    const trail = await trailOf(w.id);
    expect(trail.map((a) => [a.action, a.actor, a.detail.from, a.detail.to])).toEqual([
      ['window.closing', 'settlement-windows', 'OPEN', 'CLOSING'],
      ['window.closed', 'user:treasurer', 'CLOSING', 'CLOSED'],
    ]);
    expect(trail[1]!.detail).toMatchObject({
      startsAt: w.startsAt.toISOString(), endsAt: w.endsAt.toISOString(), payments: 1, grossCentavos: '2500', settledCentavos: '2500',
      positions: [
        { ispb: A, grossDebitCentavos: '0', grossCreditCentavos: '2500', netCentavos: '2500' },
        { ispb: OURS, grossDebitCentavos: '2500', grossCreditCentavos: '0', netCentavos: '-2500' },
      ],
    });
    expect(trail[1]!.detail.positionsDiffer).toBeUndefined();
    const [window] = await db.sql`select xmin::text as xid from settlement_windows where id = ${w.id}`;
    const settlements = await db.sql`select distinct xmin::text as xid from settlements where window_id = ${w.id}`;
    expect(settlements.map((s) => s.xid)).toEqual([window!.xid]);
    expect(trail[1]!.xid).toBe(window!.xid);

    const before = await auditCount();
    expect(await advanceWindows(db.sql, new Date(w.endsAt.getTime() + 2 * WINDOW_GRACE_MS))).not.toContainEqual(expect.objectContaining({ id: w.id }));
    expect(await auditCount()).toBe(before);
  });

  test('reconciliation settling the window is audited with its run; a second run has nothing to move and writes nothing', async () => {
    const day = { from: new Date(Date.UTC(2026, 10, 25)), to: new Date(Date.UTC(2026, 10, 26)) };
    const now = new Date(Date.UTC(2026, 10, 26, 0, 10));
    expect(await db.sql.begin((tx) => markWindows(tx as never, day, true, now, 41))).toContainEqual({ id: w.id, to: 'SETTLED' });
    const settled = (await trailOf(w.id)).at(-1)!;
    expect(settled).toMatchObject({ action: 'window.settled', actor: 'settlement-recon', detail: { from: 'CLOSED', to: 'SETTLED', reconRunId: 41, clean: true } });
    const before = await auditCount();
    expect(await db.sql.begin((tx) => markWindows(tx as never, day, true, now, 42))).toEqual([]);
    expect(await auditCount()).toBe(before);
  });
});

describe('STR transfers against the BACEN sandbox', () => {
  let sandbox: TestSandbox;
  let signer: XmlSigner;
  let bacen: SettlementBacen;
  let tls: ReturnType<typeof defaultTlsPaths>;

  beforeAll(async () => {
    sandbox = await startTestSandbox('settlement-audit');
    tls = defaultTlsPaths(sandbox.dir);
    signer = await createXmlSigner({ keyPem: readPem(tls.key), certPem: readPem(tls.cert), threads: 0, logger: createLogger('test-audit', 'silent') });
    bacen = createSettlementBacen({ bacen: sandbox.client(), signer, ispb: OURS, bacenIspb: '00038166', trustedCaPem: readPem(tls.ca), bacenCertPem: readPem(join(sandbox.dir, 'bacen.crt')) });
  }, 30_000);
  afterAll(async () => {
    await signer?.close();
    await sandbox?.stop();
  });

  test("a transfer is audited when requested and when applied, the latter with our signed request and BACEN's signed answer byte for byte", async () => {
    const deps = { sql: db.sql, bacen, clock: systemClock, actor: 'user:treasurer' };
    const moved = await strTransfer(deps, { id: 'AUDIT-STR-1', direction: 'TO_PI', amountCentavos: 1_50n, origin: 'MANUAL' });
    expect(moved.ok).toBe(true);
    const trail = await trailOf('AUDIT-STR-1');
    expect(trail.map((a) => [a.action, a.actor, a.detail.from, a.detail.to])).toEqual([['str.requested', 'user:treasurer', null, 'PENDING'], ['str.applied', 'user:treasurer', 'PENDING', 'APPLIED']]);
    const applied = trail[1]!.detail;
    expect(applied).toMatchObject({ direction: 'TO_PI', amountCentavos: '150', origin: 'MANUAL', replayed: false });
    expect(applied.signedRequest).toContain('<TransferId>AUDIT-STR-1</TransferId>');
    // the stored bytes still carry valid signatures: ours on the request, BACEN's on the answer
    expect(verifyXmlSignature(applied.signedRequest, { trustedCaPem: readPem(tls.ca), certs: [readPem(tls.cert)] }).ok).toBe(true);
    const answer = verifyXmlSignature(applied.signedAnswer, { trustedCaPem: readPem(tls.ca), certs: [readPem(join(sandbox.dir, 'bacen.crt'))] });
    expect(answer.ok && answer.value.ispb).toBe('00038166');
    const [row] = await db.sql`select xmin::text as xid from str_transfers where id = 'AUDIT-STR-1'`;
    expect(trail[1]!.xid).toBe(row!.xid);
  });

  test('asking again (BACEN replays it) or with other terms adds no audit row', async () => {
    const deps = { sql: db.sql, bacen, clock: systemClock };
    const before = await auditCount();
    const again = await strTransfer(deps, { id: 'AUDIT-STR-1', direction: 'TO_PI', amountCentavos: 1_50n, origin: 'MANUAL' });
    expect(again.ok && again.value.replayed).toBe(true);
    const other = await strTransfer(deps, { id: 'AUDIT-STR-1', direction: 'TO_PI', amountCentavos: 2_00n, origin: 'MANUAL' });
    expect(other.ok).toBe(false);
    expect(await auditCount()).toBe(before);
  });

  test('a transfer BACEN refuses is audited as failed with its reason; a liquidity top-up is audited under the monitor', async () => {
    const deps = { sql: db.sql, bacen, clock: systemClock };
    const refused = await strTransfer(deps, { id: 'AUDIT-STR-BIG', direction: 'TO_RESERVE', amountCentavos: 9_999_999_999_99n, origin: 'MANUAL' });
    expect(refused.ok ? 'applied' : refused.error.code).toBe('Conflict');
    const failed = await trailOf('AUDIT-STR-BIG');
    expect(failed.map((a) => [a.action, a.actor, a.detail.to])).toEqual([['str.requested', 'settlement', 'PENDING'], ['str.failed', 'settlement', 'FAILED']]);
    expect(failed[1]!.detail.reason).toContain('insufficient');

    expect((await strTransfer(deps, { id: 'TOPUP-AUDIT', direction: 'TO_PI', amountCentavos: 1_00n, origin: 'AUTO_TOPUP' })).ok).toBe(true);
    expect((await trailOf('TOPUP-AUDIT')).map((a) => [a.action, a.actor])).toEqual([['str.requested', 'settlement-liquidity'], ['str.applied', 'settlement-liquidity']]);
  });

  test('the chain over all of it verifies', async () => {
    expect(await verifyAuditChain(db.sql)).toMatchObject({ broken: null, rows: await auditCount() });
  });
});
