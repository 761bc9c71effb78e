// Positions and the ledger's rules: never below zero unless an overdraft is configured, holds count
// against the available amount, and the database itself refuses an unbalanced or overdrawn posting.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Redis } from 'ioredis';
import { connectRedis, deleteKeysWithPrefix } from '../../shared/redis/index.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { createPositions, type Positions } from '../../services/spi/positions/positions.ts';
import { transfer } from '../../services/spi/positions/posting.ts';
import { migratedTestDb, type TestDb } from '../db/support.ts';

let db: TestDb;
let redis: Redis;
let positions: Positions;
const logger = createLogger('test', 'silent');

beforeAll(async () => {
  db = await migratedTestDb('spi-positions');
  redis = await connectRedis(db.config, logger, 'test');
  await db.sql`insert into ledger_accounts (kind, branch, number, account_type, holder_tax_id, holder_name, overdraft_centavos)
               values ('CUSTOMER', '0001', '1', 'CACC', '52998224725', 'Sem Limite', 0), ('CUSTOMER', '0001', '2', 'CACC', '52998224725', 'Com Limite', 5000)`;
  positions = createPositions({ sql: db.sql, redis, redisPrefix: db.config.redisPrefix, logger });
  await positions.load();
}, 30_000);
afterAll(async () => {
  await positions?.close();
  await deleteKeysWithPrefix(redis, db.config.redisPrefix);
  redis?.disconnect();
  await db?.cleanup();
});

describe('positions', () => {
  test('an account without overdraft cannot be reserved below zero; holds count against what is available', () => {
    const funding = positions.system('FUNDING');
    positions.applyPosting(transfer('DEPOSIT', 'd1', funding.id, positions.get('0001', '1')!.id, 1_000n));
    expect(positions.reserve('E-a', '0001', '1', 600n).ok).toBe(true);
    expect(positions.reserve('E-b', '0001', '1', 500n)).toMatchObject({ ok: false, error: { reason: 'AM04' } });
    positions.release('E-a');
    expect(positions.reserve('E-b', '0001', '1', 1_000n).ok).toBe(true);
    positions.release('E-b');
  });

  test('an overdraft lets the balance go down to minus the limit, not further', () => {
    expect(positions.reserve('E-c', '0001', '2', 5_000n).ok).toBe(true);
    expect(positions.reserve('E-d', '0001', '2', 1n)).toMatchObject({ ok: false, error: { reason: 'AM04' } });
    positions.release('E-c');
  });

  test('unknown and blocked accounts are refused with AC03 and AC06', () => {
    expect(positions.reserve('E-e', '0009', '9', 1n)).toMatchObject({ ok: false, error: { reason: 'AC03' } });
    const p = positions.get('0001', '1')!;
    positions.upsert({ ...p, status: 'BLOCKED' });
    expect(positions.reserve('E-f', '0001', '1', 1n)).toMatchObject({ ok: false, error: { reason: 'AC06' } });
    positions.upsert({ ...p, status: 'ACTIVE' });
  });

  test('the database refuses a posting that does not balance and a balance below the overdraft', async () => {
    const id = positions.get('0001', '1')!.id;
    const unbalanced = db.sql.begin(async (tx) => {
      await tx`insert into ledger_transactions (ref, kind) values ('DEP:x1', 'DEPOSIT')`;
      await tx`insert into ledger_entries (ref, account_id, amount_centavos) values ('DEP:x1', ${id}, 100)`;
    });
    await expect(unbalanced).rejects.toThrow(/does not balance/);
    const overdrawn = db.sql`update ledger_accounts set balance_centavos = -1 where id = ${id}`;
    await expect(overdrawn).rejects.toThrow(/ledger_accounts_never_below_overdraft/);
    expect(() => transfer('PAYMENT_OUT', 'E', id, id, 1n)).toThrow();
    expect(() => transfer('PAYMENT_OUT', 'E', id, 2n, 0n)).toThrow();
  });
});
