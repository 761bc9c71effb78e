import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startPositionConsumer, type PositionConsumer } from '../../services/settlement/positions/consumer.ts';
import { advanceWindows } from '../../services/settlement/windows/store.ts';
import { windowAt, WINDOW_GRACE_MS, WINDOW_MS } from '../../services/settlement/windows/window.ts';
import { startGateway, type GatewayHarness } from '../gateway/support.ts';
import { settledPayments, until } from './support/settled.ts';

const OURS = '12345678';
const A = '10000001';
const B = '10000002';
let gw: GatewayHarness;
let token: string;
let spi: ReturnType<typeof settledPayments>;
let positions: PositionConsumer;

/** A payment SPI settled at `settledAt`: its transactions row and its PIX_PAYMENTS event, as SPI writes and publishes them. */
const settled = (debtor: string, creditor: string, amountCentavos: bigint, settledAt: Date) => spi.settle(debtor, creditor, amountCentavos, settledAt);

beforeAll(async () => {
  gw = await startGateway('windows');
  spi = settledPayments({ ...gw.deps, config: gw.config });
  positions = await startPositionConsumer({ js: gw.deps.js, jsm: gw.deps.jsm, sql: gw.deps.sql, config: gw.config, clock: gw.clock, logger: gw.deps.logger, registry: gw.deps.metrics.registry });
  await gw.addUser('treasury', 'treasury-password-1', ['settlement:read']);
  await gw.addUser('no.settlement', 'other-password-123', ['dict:read']);
  token = ((await (await gw.token({ grant_type: 'password', username: 'treasury', password: 'treasury-password-1' })).json()) as { access_token: string }).access_token;
});
afterAll(async () => {
  await positions.stop();
  await gw.stop();
});

describe('settlement windows', () => {
  test('a window closes after its hour and grace period; its net positions sum to zero and match the gross payments', async () => {
    const w = windowAt(new Date(Date.UTC(2026, 10, 25, 9, 0, 0)));
    const at = (min: number) => new Date(w.startsAt.getTime() + min * 60_000);
    await settled(OURS, A, 10_000n, at(1));
    await settled(A, B, 2_500n, at(20));
    await settled(B, OURS, 4_000n, at(59));
    await settled(OURS, B, 1n, at(30));
    await settled(OURS, A, 99_999n, new Date(w.endsAt.getTime() + 1)); // next window's
    // A returns 10.00 of our first payment (pacs.004): money flows back from A to us
    const [first] = await gw.deps.sql<{ end_to_end_id: string }[]>`select end_to_end_id from transactions where debtor_ispb = ${OURS} and creditor_ispb = ${A} and amount_centavos = 10000`;
    await gw.deps.sql`insert into spi_returns (return_id, end_to_end_id, direction, amount_centavos, reason, status, created_at, updated_at)
      values (${`D${A}${first!.end_to_end_id.slice(9, 21)}RET00000001`}, ${first!.end_to_end_id}, 'INBOUND', 1000, 'BE08', 'SETTLED', ${at(40)}, ${at(41)})`;
    await advanceWindows(gw.deps.sql, at(10)); // the window exists and is open
    await spi.events.drain();
    const caughtUp = (until?: Date) => positions.caughtUp(until);
    await until('the positions consumer counted the events', caughtUp);

    expect(await advanceWindows(gw.deps.sql, w.endsAt, { positionsCaughtUp: caughtUp })).toEqual([{ id: w.id, to: 'CLOSING' }]);
    expect(await advanceWindows(gw.deps.sql, new Date(w.endsAt.getTime() + WINDOW_GRACE_MS), { positionsCaughtUp: caughtUp })).toEqual([{ id: w.id, to: 'CLOSED' }]);
    expect(await advanceWindows(gw.deps.sql, new Date(w.endsAt.getTime() + WINDOW_MS))).not.toContainEqual({ id: w.id, to: 'CLOSED' });

    const res = await gw.fetch(`/settlement/windows/${w.id}`, { token });
    expect(res.status).toBe(200);
    const report = (await res.json()) as { window: { state: string; payments: number; gross: string }; positions: { ispb: string; grossDebit: string; grossCredit: string; net: string }[]; netSum: string };
    expect(report.window).toMatchObject({ state: 'CLOSED', payments: 5, gross: '175.01' });
    expect(report.positions).toEqual([
      { ispb: A, grossDebit: '35.00', grossCredit: '100.00', net: '65.00' },
      { ispb: B, grossDebit: '40.00', grossCredit: '25.01', net: '-14.99' },
      { ispb: OURS, grossDebit: '100.01', grossCredit: '50.00', net: '-50.01' },
    ]);
    expect(report.netSum).toBe('0.00');
    const [row] = await gw.deps.sql<{ n: bigint }[]>`select sum(net_centavos)::bigint as n from settlements where window_id = ${w.id}`;
    expect(row!.n).toBe(0n);
  });

  test('./fluxiq settlement report prints the positions of the window and exits 0 when they sum to zero', async () => {
    const proc = Bun.spawn(['bun', 'cli/main.ts', 'settlement', 'report', '--window', 'W2026112509'], {
      cwd: `${import.meta.dir}/../..`, env: { ...process.env, DB_SCHEMA: gw.config.dbSchema, LOG_LEVEL: 'silent' }, stdout: 'pipe', stderr: 'pipe',
    });
    const out = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    expect(out).toContain('window W2026112509');
    expect(out).toMatch(/10000001\s+35\.00\s+100\.00\s+65\.00/);
    expect(out).toMatch(/12345678\s+100\.01\s+50\.00\s+-50\.01/);
    expect(out).toMatch(/Σ net\s+0\.00/);
  });

  test('a closing window is reached by the clock, not before its end', async () => {
    const w = windowAt(new Date(Date.UTC(2026, 10, 25, 10, 0, 0)));
    await advanceWindows(gw.deps.sql, new Date(w.startsAt.getTime() + 1));
    expect(await advanceWindows(gw.deps.sql, new Date(w.endsAt.getTime() - 1))).toEqual([]);
  });

  test('the windows API needs settlement:read', async () => {
    const other = ((await (await gw.token({ grant_type: 'password', username: 'no.settlement', password: 'other-password-123' })).json()) as { access_token: string }).access_token;
    expect((await gw.fetch('/settlement/windows', { token: other })).status).toBe(403);
    expect((await gw.fetch('/settlement/windows')).status).toBe(401);
    const list = await gw.fetch('/settlement/windows', { token });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { id: string }[]).map((w) => w.id)).toEqual(expect.arrayContaining(['W2026112509', 'W2026112510']));
    expect((await gw.fetch('/settlement/windows/W2000010100', { token })).status).toBe(404);
  });
});
