import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { systemClock } from '../../shared/clock.ts';
import { defaultTlsPaths } from '../../shared/bacen/client.ts';
import { ensurePartitions } from '../../shared/db/partitions.ts';
import { readPem } from '../../shared/pki.ts';
import type { StatementEntry } from '../../shared/spi/camt053.ts';
import { createXmlSigner, type XmlSigner } from '../../shared/xml/signer.ts';
import { reconcile, type OurEntry } from '../../services/settlement/recon/reconcile.ts';
import { runReconciliation } from '../../services/settlement/recon/run.ts';
import { createSettlementBacen, type SettlementBacen } from '../../services/settlement/str/client.ts';
import { strTransfer } from '../../services/settlement/str/transfers.ts';
import { migratedTestDb, transactionRow, type TestDb } from '../db/support.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/support/harness.ts';

const at = new Date(Date.UTC(2026, 10, 25, 12, 0, 0));
const bacenEntry = (reference: string, amountCentavos: bigint, direction: 'CRDT' | 'DBIT' = 'DBIT'): StatementEntry => ({ reference, kind: 'PACS008', amountCentavos, direction, bookedAt: at });
const ours = (reference: string, amountCentavos: bigint, status = 'SETTLED', direction: 'CRDT' | 'DBIT' = 'DBIT'): OurEntry => ({ reference, kind: 'PACS008', direction, amountCentavos, status });

describe('reconciliation rules', () => {
  test('each of the five kinds is found and named, and agreeing entries match', () => {
    const r = reconcile(
      [ours('E-match', 100n), ours('E-ours-only', 200n), ours('E-amount', 300n), ours('E-status', 400n, 'REJECTED'), ours('E-dup', 500n), ours('E-dup', 500n)],
      [bacenEntry('E-match', 100n), bacenEntry('E-bacen-only', 250n), bacenEntry('E-amount', 301n), bacenEntry('E-status', 400n), bacenEntry('E-dup', 500n)],
    );
    expect(r.matched).toBe(1);
    expect(r.summary).toEqual({ MISSING_OURS: 1, MISSING_BACEN: 1, AMOUNT_DIFFERS: 1, STATUS_DIFFERS: 1, DUPLICATE: 1 });
    expect(r.mismatches.map((m) => [m.kind, m.reference]).sort()).toEqual([
      ['AMOUNT_DIFFERS', 'E-amount'], ['DUPLICATE', 'E-dup'], ['MISSING_BACEN', 'E-ours-only'], ['MISSING_OURS', 'E-bacen-only'], ['STATUS_DIFFERS', 'E-status'],
    ]);
    expect(r.unexplained).toBe(5);
  });

  test('a direction that differs is an amount mismatch; BACEN booking the same reference twice is a duplicate', () => {
    const r = reconcile([ours('E1', 100n, 'SETTLED', 'CRDT'), ours('E2', 5n)], [bacenEntry('E1', 100n, 'DBIT'), bacenEntry('E2', 5n), bacenEntry('E2', 5n)]);
    expect(r.summary).toMatchObject({ AMOUNT_DIFFERS: 1, DUPLICATE: 1 });
    expect(r.mismatches.find((m) => m.kind === 'DUPLICATE')?.side).toBe('bacen');
  });

  test('a payment BACEN booked that we still await the answer for is explained; one we think was rejected is not', () => {
    const r = reconcile([ours('E1', 1n, 'SENT'), ours('E2', 1n, 'REJECTED')], [bacenEntry('E1', 1n), bacenEntry('E2', 1n)]);
    expect(r.mismatches.map((m) => [m.reference, m.explained])).toEqual([['E1', true], ['E2', false]]);
    expect(r.unexplained).toBe(1);
  });

  test('entries neither side holds as settled are consistent', () => {
    expect(reconcile([ours('E1', 1n, 'REJECTED')], [])).toMatchObject({ matched: 0, mismatches: [], unexplained: 0 });
  });
});

describe('reconciliation against the BACEN sandbox camt.053', () => {
  let sandbox: TestSandbox;
  let db: TestDb;
  let signer: XmlSigner;
  let bacen: SettlementBacen;

  beforeAll(async () => {
    sandbox = await startTestSandbox('recon');
    db = await migratedTestDb('recon');
    await ensurePartitions(db.sql, { clock: systemClock });
    const tls = defaultTlsPaths(sandbox.dir);
    signer = await createXmlSigner({ keyPem: readPem(tls.key), certPem: readPem(tls.cert), threads: 0, logger: (await import('../../shared/telemetry.ts')).createLogger('test-recon', 'silent') });
    bacen = createSettlementBacen({ bacen: sandbox.client(), signer, ispb: '12345678', bacenIspb: '00038166', trustedCaPem: readPem(tls.ca), bacenCertPem: readPem(join(sandbox.dir, 'bacen.crt')) });
  }, 30_000);
  afterAll(async () => {
    await signer?.close();
    await db?.cleanup();
    await sandbox?.stop();
  });

  test('the five injected mismatch kinds are each found, the agreeing transfer matches, and the run is stored', async () => {
    const deps = { sql: db.sql, bacen, clock: systemClock };
    const from = new Date(Date.now() - 60_000);
    // agree: recorded by us and booked by BACEN
    expect((await strTransfer(deps, { id: 'REC-OK-1', direction: 'TO_PI', amountCentavos: 1_00n, origin: 'MANUAL' })).ok).toBe(true);
    // MISSING_OURS: BACEN booked a transfer we never recorded
    expect((await bacen.transfer({ id: 'REC-GHOST', direction: 'TO_PI', amountCentavos: 7_00n })).ok).toBe(true);
    // AMOUNT_DIFFERS: our record says 2.50, BACEN booked 2.00
    await strTransfer(deps, { id: 'REC-AMT', direction: 'TO_PI', amountCentavos: 2_00n, origin: 'MANUAL' });
    await db.sql`update str_transfers set amount_centavos = 250 where id = 'REC-AMT'`;
    // STATUS_DIFFERS: BACEN applied it, our record says it failed
    await strTransfer(deps, { id: 'REC-STATUS', direction: 'TO_RESERVE', amountCentavos: 3_00n, origin: 'MANUAL' });
    await db.sql`update str_transfers set status = 'FAILED', applied_at = null where id = 'REC-STATUS'`;
    // MISSING_BACEN: a payment we hold as settled that BACEN never booked
    const now = new Date();
    const settled = { ...transactionRow(now, 'RECMISSING1'), status: 'SETTLED', pacs002_status: 'ACSC', settled_at: now };
    await db.sql`insert into transactions ${db.sql(settled)}`;
    // DUPLICATE: the same EndToEndId recorded twice on our side (monthly partitions only keep it unique per month)
    const dup = { ...transactionRow(now, 'RECDUPLICAT'), status: 'SETTLED', pacs002_status: 'ACSC', settled_at: now };
    await db.sql`insert into transactions ${db.sql(dup)}`;
    const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1) - 3_600_000); // another month's partition
    await db.sql`insert into transactions ${db.sql({ ...dup, created_at: lastMonth })}`;

    const run = await runReconciliation(deps, { from, to: new Date(Date.now() + 60_000) });
    expect(run.ok).toBe(true);
    if (!run.ok) return;
    const byKind = (k: string) => run.value.mismatches.filter((m) => m.kind === k).map((m) => m.reference);
    expect(byKind('MISSING_OURS')).toEqual(['REC-GHOST']);
    expect(byKind('AMOUNT_DIFFERS')).toEqual(['REC-AMT']);
    expect(byKind('STATUS_DIFFERS')).toEqual(['REC-STATUS']);
    expect(byKind('MISSING_BACEN').sort()).toEqual([settled.end_to_end_id, dup.end_to_end_id].sort());
    expect(byKind('DUPLICATE')).toEqual([dup.end_to_end_id]);
    expect(run.value.matched).toBe(1);
    expect(run.value.unexplained).toBe(run.value.mismatches.length);
    const [stored] = await db.sql<{ matched: number; unexplained: number; summary: Record<string, number> }[]>`select matched, unexplained, summary from recon_runs where id = ${run.value.id}`;
    expect(stored).toMatchObject({ matched: 1, unexplained: run.value.unexplained, summary: { MISSING_OURS: 1, AMOUNT_DIFFERS: 1, STATUS_DIFFERS: 1, MISSING_BACEN: 2, DUPLICATE: 1 } });
  });

  test('./fluxiq recon report prints the summary and exits 1 on unexplained mismatches', async () => {
    const proc = Bun.spawn(['bun', 'cli/main.ts', 'recon', 'report', '--date', new Date().toISOString().slice(0, 10)], {
      cwd: `${import.meta.dir}/../..`,
      env: { ...process.env, DB_SCHEMA: db.config.dbSchema, PKI_DIR: sandbox.dir, BACEN_URL: sandbox.baseUrl, LOG_LEVEL: 'silent' },
      stdout: 'pipe', stderr: 'pipe',
    });
    const out = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(1);
    expect(out).toMatch(/MISSING_OURS\s+1/);
    expect(out).toMatch(/UNEXPLAINED AMOUNT_DIFFERS\s+REC-AMT/);
  });
});
