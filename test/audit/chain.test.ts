// audit_log is hash-chained by the database (sql/0005_audit_chain.sql) and `./fluxiq audit verify` finds
// the first row that was edited, removed or slipped in.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendAudit, verifyAuditChain } from '../../shared/audit.ts';
import { ManualClock } from '../../shared/clock.ts';
import { createDb, ensureDatabase, type Database } from '../../shared/db/client.ts';
import { dropSchema, migrate, SQL_DIR } from '../../shared/db/migrate.ts';
import { ensurePartitions } from '../../shared/db/partitions.ts';
import { testConfig } from '../support/env.ts';

const NOV = new Date('2026-11-25T12:00:00Z');
const config = testConfig('audit-chain');
const appRole = `${config.dbSchema}_app`;
const cli = (args: string[]) =>
  Bun.spawnSync(['bun', join(import.meta.dir, '../../cli/main.ts'), 'audit', ...args], {
    env: { ...process.env, DB_SCHEMA: config.dbSchema, LOG_LEVEL: 'warn' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
let t: Database;

/** Edits a row the way only a superuser can: with every trigger (append-only and chain) switched off. */
async function tamper(statement: string): Promise<void> {
  await t.sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await tx.unsafe(statement);
  });
}

const row = (i: number) => ({ actor: `user-${i}`, action: 'key.created', entityType: 'pix_key', entityId: `k${i}`, detail: { n: i, nested: { ok: true } } });

beforeAll(async () => {
  await ensureDatabase(config.databaseUrl);
  t = createDb(config);
  // Rows written before 0005 existed: migrate up to 0004 only, write, then apply the rest.
  const early = mkdtempSync(join(tmpdir(), 'fluxiq-audit-sql-'));
  for (const f of readdirSync(SQL_DIR).filter((n) => /^000[1-4]_.*\.sql$/.test(n))) cpSync(join(SQL_DIR, f), join(early, f));
  await migrate(t.sql, { schema: config.dbSchema, dir: early });
  rmSync(early, { recursive: true, force: true });
  for (let i = 0; i < 3; i++) await t.sql`insert into audit_log (at, actor, action, entity_type, entity_id, detail) values (${NOV}, 'before', 'x', 'y', ${`pre${i}`}, ${t.sql.json({ i })})`;
  await migrate(t.sql, { schema: config.dbSchema });
});

afterAll(async () => {
  await t.sql.unsafe(`drop owned by ${appRole}`).catch(() => {});
  await t.sql.unsafe(`drop role if exists ${appRole}`);
  await dropSchema(t.sql, config.dbSchema);
  await t.close();
});

test('rows written before the chain existed are chained by the migration, and new rows continue it', async () => {
  for (let i = 0; i < 4; i++) await appendAudit(t.sql, row(i), NOV);
  const rows = await t.sql<{ chain_seq: bigint; entity_id: string }[]>`select chain_seq, entity_id from audit_log order by chain_seq`;
  expect(rows.map((r) => [Number(r.chain_seq), r.entity_id])).toEqual([[1, 'pre0'], [2, 'pre1'], [3, 'pre2'], [4, 'k0'], [5, 'k1'], [6, 'k2'], [7, 'k3']]);
  const report = await verifyAuditChain(t.sql);
  expect(report).toMatchObject({ rows: 7, firstSeq: 1n, lastSeq: 7n, broken: null });
  expect(report.lastHash).toMatch(/^[0-9a-f]{64}$/);
});

test('concurrent inserts from several connections form one unbroken chain', async () => {
  const [before] = await t.sql<{ n: bigint }[]>`select count(*) as n from audit_log`;
  const writers = 8;
  const perWriter = 25;
  // a second pool so the writers really are different connections racing for the head
  const other = createDb(config);
  try {
    await Promise.all(
      Array.from({ length: writers }, (_, w) =>
        (w % 2 === 0 ? t.sql : other.sql).begin(async (tx) => {
          for (let i = 0; i < perWriter; i++) await appendAudit(tx, row(1000 * w + i), new Date(NOV.getTime() + i));
        }),
      ),
    );
  } finally {
    await other.close();
  }
  const report = await verifyAuditChain(t.sql, { batchRows: 37 });
  expect(report.broken).toBeNull();
  expect(report.rows).toBe(Number(before!.n) + writers * perWriter);
  const [distinct] = await t.sql<{ n: bigint }[]>`select count(distinct chain_seq) as n from audit_log`;
  expect(Number(distinct!.n)).toBe(report.rows);
});

test('an insert that brings its own chain columns is refused', async () => {
  const forged = Buffer.alloc(32, 7);
  await expect(
    t.sql`insert into audit_log (at, actor, action, entity_type, entity_id, chain_seq, prev_hash, hash) values (${NOV}, 'x', 'y', 'z', 'w', 999, ${forged}, ${forged})`,
  ).rejects.toThrow(/computed by the database/);
});

test('rows moved out of the DEFAULT partition into their new month keep the chain intact', async () => {
  // the months so far had no partition: every row sits in DEFAULT until ensurePartitions creates November
  const report = await ensurePartitions(t.sql, { clock: new ManualClock(NOV), monthsAhead: 0 });
  expect(report.moved.audit_log).toBeGreaterThan(0);
  expect((await verifyAuditChain(t.sql)).broken).toBeNull();
  await appendAudit(t.sql, row(5), NOV);
  expect((await verifyAuditChain(t.sql)).broken).toBeNull();
});

test('a date range verifies only the rows of those days, anchored on the row before', async () => {
  const dec = new Date('2026-12-02T08:00:00Z');
  await appendAudit(t.sql, row(77), dec);
  const report = await verifyAuditChain(t.sql, { from: new Date('2026-12-01T00:00:00Z'), to: new Date('2026-12-03T00:00:00Z') });
  expect(report.rows).toBe(1);
  expect(report.broken).toBeNull();
  expect(await verifyAuditChain(t.sql, { from: new Date('2027-01-01T00:00:00Z') })).toMatchObject({ rows: 0, broken: null });
});

test('the application role may insert and read but not update or delete, whatever the triggers say', async () => {
  await t.sql.unsafe(`create role ${appRole} nologin`);
  await t.sql.unsafe(`grant usage on schema ${config.dbSchema} to ${appRole}; grant select, insert on audit_log to ${appRole}`);
  const asApp = <T>(fn: (tx: any) => Promise<T>) =>
    t.sql.begin(async (tx) => {
      await tx.unsafe(`set local role ${appRole}`);
      return fn(tx);
    });
  await asApp((tx) => appendAudit(tx, row(88), NOV));
  await expect(asApp((tx) => tx`update audit_log set actor = 'x' where entity_id = 'k88'`)).rejects.toThrow(/permission denied/);
  await expect(asApp((tx) => tx`delete from audit_log where entity_id = 'k88'`)).rejects.toThrow(/permission denied/);
  await expect(asApp((tx) => tx`update audit_chain_head set seq = 0`)).rejects.toThrow(/permission denied/);
  await expect(asApp((tx) => tx.unsafe('alter table audit_log disable trigger audit_log_chain'))).rejects.toThrow(/must be owner/);
  expect((await verifyAuditChain(t.sql)).broken).toBeNull();
});

test('./fluxiq audit verify exits 0 on an untampered chain and 2 on a bad date', () => {
  const clean = cli(['verify']);
  expect(clean.stdout.toString()).toMatch(/audit verify: ok, rows 1\.\.\d+ \(\d+\) in \d+ ms; last hash [0-9a-f]{64}/);
  expect(clean.exitCode).toBe(0);
  expect(cli(['verify', '--from', '2026-13-01']).exitCode).toBe(2);
  expect(cli(['verify', '--from', '2026-12-01', '--to', '2026-11-01']).exitCode).toBe(2);
});

// The tampering tests run last, in this order: each leaves the chain broken.
test('a removed tail is caught against the recorded head', async () => {
  const [last] = await t.sql<{ chain_seq: bigint }[]>`select max(chain_seq) as chain_seq from audit_log`;
  await tamper(`delete from audit_log where chain_seq = ${last!.chain_seq}`);
  expect((await verifyAuditChain(t.sql)).broken).toMatchObject({ reason: 'head', chainSeq: last!.chain_seq });
});

test('an edited row is named by the verifier, and by ./fluxiq audit verify with exit code 1', async () => {
  const [victim] = await t.sql<{ chain_seq: bigint; id: bigint }[]>`select chain_seq, id from audit_log where entity_id = 'k3'`;
  await tamper(`update audit_log set detail = '{"n": 4, "nested": {"ok": true}}' where entity_id = 'k3'`);
  const report = await verifyAuditChain(t.sql);
  expect(report.broken).toMatchObject({ reason: 'content', chainSeq: victim!.chain_seq, id: victim!.id });
  expect(report.rows).toBe(Number(victim!.chain_seq) - 1);

  const broken = cli(['verify']);
  expect(broken.exitCode).toBe(1);
  expect(broken.stderr.toString()).toContain(`BROKEN at chain_seq ${victim!.chain_seq} (id ${victim!.id},`);
});

test('a row whose hash was recomputed after an edit is caught at the link to the next row; a removed row as a gap', async () => {
  // recompute k3's own hash so it is self-consistent again: the next row's prev_hash still names the old one
  await tamper(`update audit_log set hash = sha256(prev_hash || convert_to(audit_log_canonical(chain_seq, id, at, actor, action, entity_type, entity_id, trace_id, detail), 'UTF8')) where entity_id = 'k3'`);
  const [k3] = await t.sql<{ chain_seq: bigint }[]>`select chain_seq from audit_log where entity_id = 'k3'`;
  expect((await verifyAuditChain(t.sql)).broken).toMatchObject({ reason: 'link', chainSeq: k3!.chain_seq + 1n });

  await tamper(`delete from audit_log where entity_id = 'k1'`);
  const [k0] = await t.sql<{ chain_seq: bigint }[]>`select chain_seq from audit_log where entity_id = 'k0'`;
  expect((await verifyAuditChain(t.sql)).broken).toMatchObject({ reason: 'sequence', chainSeq: k0!.chain_seq + 1n });
});

