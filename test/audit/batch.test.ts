// sql/0008_audit_chain_batch.sql: a multi-row audit insert is chained in O(n) (the head is written once per
// statement, each row continues from the transaction's running tip) and chains exactly what 0005 did.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendAudit, appendAuditRows, verifyAuditChain, type AuditRecord } from '../../shared/audit.ts';
import { createDb, ensureDatabase, type Database } from '../../shared/db/client.ts';
import { dropSchema, migrate, SQL_DIR } from '../../shared/db/migrate.ts';
import { testConfig } from '../support/env.ts';

const NOV = new Date('2026-11-25T12:00:00Z');
const config = testConfig('audit-batch');
let t: Database;

/** ~7 KB of signed-XML-like text, the size of an SPI message row's detail. */
const XML = `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">${'<CdtTrfTxInf><Amt Ccy="BRL">1.00</Amt></CdtTrfTxInf>'.repeat(130)}</Document>`;
const rec = (tag: string, i: number, detail: Record<string, unknown> = { i }): AuditRecord => ({
  actor: 'spi', action: 'message.stored', entityType: 'spi_message', entityId: `${tag}-${i}`, detail,
});
const batch = (tag: string, n: number, detail?: (i: number) => Record<string, unknown>) =>
  Array.from({ length: n }, (_, i) => rec(tag, i, detail?.(i)));

interface Row { chain_seq: bigint; entity_id: string }
const rowsOf = (prefix: string) =>
  t.sql<Row[]>`select chain_seq, entity_id from audit_log where entity_id like ${`${prefix}%`} order by chain_seq`;
const head = async () => (await t.sql<{ seq: bigint; hash: Uint8Array }[]>`select seq, hash from audit_chain_head`)[0]!;

/** The whole chain verifies, its seqs are 1..n with none repeated, and the head is its last row. */
async function expectWholeChain(): Promise<number> {
  const report = await verifyAuditChain(t.sql, { batchRows: 997 });
  expect(report.broken).toBeNull();
  const [c] = await t.sql<{ n: bigint; distinct_seqs: bigint; max: bigint }[]>`
    select count(*) as n, count(distinct chain_seq) as distinct_seqs, max(chain_seq) as max from audit_log`;
  expect(c!.distinct_seqs).toBe(c!.n);
  expect(c!.max).toBe(c!.n);
  expect(report.rows).toBe(Number(c!.n));
  expect((await head()).seq).toBe(c!.n);
  return report.rows;
}

beforeAll(async () => {
  await ensureDatabase(config.databaseUrl);
  t = createDb(config);
  // Rows chained by 0005's trigger first: migrate up to 0007, write, then apply 0008.
  const early = mkdtempSync(join(tmpdir(), 'fluxiq-audit-batch-sql-'));
  for (const f of readdirSync(SQL_DIR).filter((n) => /^000[1-7]_.*\.sql$/.test(n))) cpSync(join(SQL_DIR, f), join(early, f));
  await migrate(t.sql, { schema: config.dbSchema, dir: early });
  rmSync(early, { recursive: true, force: true });
  await t.sql.begin((tx) => appendAuditRows(tx, batch('pre0008', 5), NOV));
  await appendAudit(t.sql, rec('pre0008-single', 0), NOV);
  expect(await migrate(t.sql, { schema: config.dbSchema })).toContain('0008_audit_chain_batch.sql');
});

afterAll(async () => {
  await dropSchema(t.sql, config.dbSchema);
  await t.close();
});

test('rows chained before 0008 and after it are one chain', async () => {
  await t.sql.begin((tx) => appendAuditRows(tx, batch('post0008', 5), NOV));
  expect((await rowsOf('p')).map((r) => [Number(r.chain_seq), r.entity_id])).toEqual([
    [1, 'pre0008-0'], [2, 'pre0008-1'], [3, 'pre0008-2'], [4, 'pre0008-3'], [5, 'pre0008-4'], [6, 'pre0008-single-0'],
    [7, 'post0008-0'], [8, 'post0008-1'], [9, 'post0008-2'], [10, 'post0008-3'], [11, 'post0008-4'],
  ]);
  const [link] = await t.sql<{ ok: boolean }[]>`
    select a.prev_hash = b.hash as ok from audit_log a join audit_log b on b.chain_seq = a.chain_seq - 1 where a.entity_id = 'post0008-0'`;
  expect(link!.ok).toBe(true);
  expect(await expectWholeChain()).toBe(11);
});

test('a 1,000-row insert of 7 KB rows is chained in the order given, seq contiguous, and the head is its last row', async () => {
  const before = (await head()).seq;
  await t.sql.begin((tx) => appendAuditRows(tx, batch('big', 1_000, (i) => ({ i, xml: XML })), NOV));
  const rows = await rowsOf('big-');
  expect(rows.length).toBe(1_000);
  rows.forEach((r, i) => {
    expect(r.chain_seq).toBe(before + BigInt(i) + 1n);
    expect(r.entity_id).toBe(`big-${i}`);
  });
  const [last] = await t.sql<{ hash: Uint8Array }[]>`select hash from audit_log where entity_id = 'big-999'`;
  const tip = await head();
  expect(tip.seq).toBe(before + 1_000n);
  expect(Buffer.from(tip.hash).equals(Buffer.from(last!.hash))).toBe(true);
  await expectWholeChain();
});

test('single-row inserts one at a time, in one transaction and in many, still chain (dict writes this way)', async () => {
  const before = (await head()).seq;
  await t.sql.begin(async (tx) => {
    for (let i = 0; i < 5; i++) await appendAudit(tx, rec('one-tx', i), NOV);
    // the head moves at the end of each statement, so the transaction already sees its own rows in it
    expect((await tx<{ seq: bigint }[]>`select seq from audit_chain_head`)[0]!.seq).toBe(before + 5n);
  });
  for (let i = 0; i < 5; i++) await appendAudit(t.sql, rec('one-auto', i), NOV);
  expect((await rowsOf('one-')).map((r) => r.chain_seq)).toEqual(Array.from({ length: 10 }, (_, i) => before + BigInt(i) + 1n));
  await expectWholeChain();
});

test('concurrent transactions writing batches never fork or skip, and each transaction holds one unbroken run of seqs', async () => {
  const writers = 6;
  const txPerWriter = 3;
  const pools = [t, createDb(config), createDb(config)];
  let serializationRetries = 0;
  try {
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const sql = pools[w % pools.length]!.sql;
        for (let k = 0; k < txPerWriter; k++) {
          const tag = `conc-w${w}-t${k}-`;
          // half the writers under REPEATABLE READ: a head moved since their snapshot is a serialization
          // failure, retried as a whole (never a fork)
          const isolation = w % 2 === 0 ? 'isolation level read committed' : 'isolation level repeatable read';
          for (;;) {
            try {
              await sql.begin(isolation, async (tx) => {
                await appendAuditRows(tx, batch(tag, 40), NOV);
                await appendAudit(tx, rec(`${tag}single`, 0), NOV);
                await appendAuditRows(tx, batch(`${tag}tail`, 15), NOV);
              });
              break;
            } catch (e) {
              if ((e as { code?: string }).code !== '40001') throw e;
              serializationRetries++;
            }
          }
        }
      }),
    );
  } finally {
    await Promise.all(pools.slice(1).map((p) => p.close()));
  }
  for (let w = 0; w < writers; w++) {
    for (let k = 0; k < txPerWriter; k++) {
      const seqs = (await rowsOf(`conc-w${w}-t${k}-`)).map((r) => r.chain_seq);
      expect(seqs.length).toBe(56);
      // the head lock is held from a transaction's first audit row to its commit: nobody else's rows in between
      expect(seqs.at(-1)! - seqs[0]!).toBe(55n);
    }
  }
  await expectWholeChain();
  console.log(`concurrent writers: ${serializationRetries} REPEATABLE READ serialization failures retried`);
});

test('a savepoint rolled back mid-transaction leaves no gap and no repeat, whether or not the head was locked before it', async () => {
  const before = (await head()).seq;
  const boom = new Error('roll back the savepoint');
  await t.sql.begin(async (tx) => {
    await appendAuditRows(tx, batch('sp-a', 3), NOV);
    await tx.savepoint(async (sp) => {
      await appendAuditRows(sp, batch('sp-gone', 4), NOV);
      await appendAudit(sp, rec('sp-gone-single', 0), NOV);
      throw boom;
    }).catch((e) => expect(e).toBe(boom));
    await appendAuditRows(tx, batch('sp-b', 2), NOV);
    // a savepoint released (not rolled back) keeps its rows
    await tx.savepoint((sp) => appendAuditRows(sp, batch('sp-kept', 2), NOV));
    await appendAudit(tx, rec('sp-c', 0), NOV);
  });
  // the first audit write of the transaction inside a savepoint: the head lock taken there goes with it
  await t.sql.begin(async (tx) => {
    await tx.savepoint(async (sp) => {
      await appendAuditRows(sp, batch('sp-gone-first', 3), NOV);
      throw boom;
    }).catch((e) => expect(e).toBe(boom));
    await appendAuditRows(tx, batch('sp-d', 2), NOV);
  });
  expect((await rowsOf('sp-gone')).length).toBe(0);
  expect((await rowsOf('sp-')).map((r) => [r.chain_seq - before, r.entity_id])).toEqual([
    [1n, 'sp-a-0'], [2n, 'sp-a-1'], [3n, 'sp-a-2'], [4n, 'sp-b-0'], [5n, 'sp-b-1'], [6n, 'sp-kept-0'], [7n, 'sp-kept-1'], [8n, 'sp-c-0'],
    [9n, 'sp-d-0'], [10n, 'sp-d-1'],
  ]);
  await expectWholeChain();
});

test('a subtransaction rolled back inside one statement (a function with an exception handler) leaves no gap', async () => {
  const before = (await head()).seq;
  await t.sql.unsafe(`
    do $$
    begin
      insert into audit_log (at, actor, action, entity_type, entity_id) select now(), 'fn', 'x', 'y', 'do-a-' || g from generate_series(1, 3) g;
      begin
        insert into audit_log (at, actor, action, entity_type, entity_id) select now(), 'fn', 'x', 'y', 'do-gone-' || g from generate_series(1, 3) g;
        raise exception 'undo';
      exception when others then null;
      end;
      insert into audit_log (at, actor, action, entity_type, entity_id) select now(), 'fn', 'x', 'y', 'do-b-' || g from generate_series(1, 2) g;
    end
    $$`);
  expect((await rowsOf('do-')).map((r) => [r.chain_seq - before, r.entity_id])).toEqual([
    [1n, 'do-a-1'], [2n, 'do-a-2'], [3n, 'do-a-3'], [4n, 'do-b-1'], [5n, 'do-b-2'],
  ]);
  await expectWholeChain();
});

test('the running tip is a setting any caller can change: a tip replayed later is ignored, a forged one fails the statement, a lost one is recovered', async () => {
  const insert = (tx: any, tag: string, n: number) => appendAuditRows(tx, batch(tag, n), NOV);
  const tipOf = async (tx: any) => (await tx`select current_setting('fluxiq.audit_chain_tip') as tip`)[0].tip as string;
  const setTip = (tx: any, tip: string) => tx`select set_config('fluxiq.audit_chain_tip', ${tip}, true)`;

  // an older tip replayed in a later statement is behind the head (moved at each statement's end): ignored
  const before = (await head()).seq;
  await t.sql.begin(async (tx) => {
    await insert(tx, 'replay-a', 2);
    const older = await tipOf(tx);
    await insert(tx, 'replay-b', 2);
    await setTip(tx, older);
    await insert(tx, 'replay-c', 1);
  });
  expect((await rowsOf('replay-')).map((r) => r.chain_seq - before)).toEqual([1n, 2n, 3n, 4n, 5n]);
  // a tip ahead of the chain would skip seqs
  await expect(
    t.sql.begin(async (tx) => {
      await insert(tx, 'forge-b', 1);
      const [xid, seq] = (await tipOf(tx)).split('/');
      await setTip(tx, `${xid}/${BigInt(seq!) + 10n}/${'ab'.repeat(32)}`);
      await insert(tx, 'forge-b2', 1);
    }),
  ).rejects.toThrow(/do not extend/);
  // replayed between two rows of ONE statement (the select list runs before each row's trigger)
  await expect(
    t.sql.begin(async (tx) => {
      await insert(tx, 'forge-c', 1);
      const older = await tipOf(tx);
      await tx`insert into audit_log (at, actor, action, entity_type, entity_id)
               select now(), 'x', 'y', 'z', 'forge-c2-' || g from generate_series(1, 4) g
                where g < 3 or set_config('fluxiq.audit_chain_tip', ${older}, true) is not null`;
    }),
  ).rejects.toThrow(/do not extend/);
  expect((await rowsOf('forge-')).length).toBe(0);

  const later = (await head()).seq;
  // a tip from another transaction is ignored; one cleared between rows is recovered from the rows above the head
  await t.sql.begin(async (tx) => {
    await setTip(tx, `1/${later - 3n}/${'00'.repeat(32)}`);
    await insert(tx, 'lost-a', 2);
    await tx`insert into audit_log (at, actor, action, entity_type, entity_id)
             select now(), 'x', 'y', 'z', 'lost-b-' || g from generate_series(1, 4) g
              where set_config('fluxiq.audit_chain_tip', '', true) is not null`;
  });
  expect((await rowsOf('lost-')).map((r) => r.chain_seq - later)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
  await expectWholeChain();
});

test("a caller's temp table named audit_chain_head does not stand in for the real head", async () => {
  const before = await head();
  await t.sql.begin(async (tx) => {
    await tx`create temp table audit_chain_head (singleton boolean, seq bigint, hash bytea) on commit drop`;
    await tx`insert into pg_temp.audit_chain_head values (true, 3, sha256('forged'))`;
    await appendAudit(tx, rec('shadow', 0), NOV);
  });
  const [row] = await t.sql<{ chain_seq: bigint; prev_hash: Uint8Array }[]>`select chain_seq, prev_hash from audit_log where entity_id = 'shadow-0'`;
  expect(row!.chain_seq).toBe(before.seq + 1n);
  expect(Buffer.from(row!.prev_hash).equals(Buffer.from(before.hash))).toBe(true);
  await expectWholeChain();
});

test('an insert that chains no row does not wait for the head lock', async () => {
  const holder = createDb(config);
  try {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holding = holder.sql.begin(async (tx) => {
      await appendAudit(tx, rec('holder', 0), NOV);
      locked();
      await released;
    });
    await isLocked;
    await t.sql.begin(async (tx) => {
      await tx`set local lock_timeout = '500ms'`;
      await tx`insert into audit_log (at, actor, action, entity_type, entity_id) select now(), 'x', 'y', 'z', 'none' where false`;
    });
    release();
    await holding;
  } finally {
    await holder.close();
  }
  await expectWholeChain();
});

test('rows inserted straight into a partition (owner only) are chained; the head catches up at the next insert through audit_log', async () => {
  const before = (await head()).seq;
  // a partition has no identity of its own: draw the ids from the parent's
  await t.sql`insert into audit_log_default (id, at, actor, action, entity_type, entity_id)
              select nextval(pg_get_serial_sequence('audit_log', 'id')), ${NOV}, 'owner', 'x', 'y', 'direct-' || g from generate_series(0, 1) g`;
  expect((await head()).seq).toBe(before);
  expect((await verifyAuditChain(t.sql)).broken).toMatchObject({ reason: 'head' });
  await appendAudit(t.sql, rec('direct-after', 0), NOV);
  expect((await rowsOf('direct-')).map((r) => r.chain_seq - before)).toEqual([1n, 2n, 3n]);
  await expectWholeChain();
});

test('./fluxiq audit verify reads the chain written across both triggers', () => {
  const out = Bun.spawnSync(['bun', join(import.meta.dir, '../../cli/main.ts'), 'audit', 'verify'], {
    env: { ...process.env, DB_SCHEMA: config.dbSchema, LOG_LEVEL: 'warn' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  expect(out.stdout.toString()).toMatch(/audit verify: ok, rows 1\.\.\d+ \(\d+\) in \d+ ms; last hash [0-9a-f]{64}/);
  expect(out.exitCode).toBe(0);
});
