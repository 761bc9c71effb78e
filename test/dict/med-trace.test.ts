// MED 2.0: the reported funds are followed through our accounts (first in, first out), hop by hop, and a
// cautionary block of at most 72 h holds on each of our accounts what reached it.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { attribute } from '../../services/dict/med/trace.ts';
import { endToEndId } from '../db/support.ts';
import { dictFixture, type DictFixture, FIXTURE_TIMEOUT_MS } from './support.ts';

let fx: DictFixture;
const US = '12345678';
const t0 = new Date(Date.UTC(2026, 10, 20, 12, 0, 0));
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
const e2e = (suffix: string, ispb = US, when = t0) => endToEndId(when, suffix, ispb);

async function payment(p: { e2e: string; direction: 'INBOUND' | 'OUTBOUND'; amount: bigint; from: [string, string]; to: [string, string]; at: Date; status?: string }) {
  await fx.deps.sql`insert into transactions (end_to_end_id, direction, status, amount_centavos, debtor_ispb, debtor_branch, debtor_account, debtor_tax_id,
      debtor_name, creditor_ispb, creditor_branch, creditor_account, creditor_tax_id, creditor_name, initiation_form, created_at, updated_at)
    values (${p.e2e}, ${p.direction}, ${p.status ?? 'SETTLED'}, ${p.amount}, ${p.from[0]}, '0001', ${p.from[1]}, '52998224725', 'Pagador',
      ${p.to[0]}, '0001', ${p.to[1]}, '11144477735', 'Recebedor', 'DICT', ${p.at}, ${p.at})`;
}

const reported = e2e('REPORTED001', '10000001');
beforeAll(async () => {
  fx = await dictFixture('medtrace');
  await payment({ e2e: e2e('BEFORE00001'), direction: 'OUTBOUND', amount: 50_00n, from: [US, '5001'], to: ['10000002', '999'], at: at(-5) });
  await payment({ e2e: reported, direction: 'INBOUND', amount: 1000_00n, from: ['10000001', '111'], to: [US, '5001'], at: at(0) });
  await payment({ e2e: e2e('HOP2INTERNA'), direction: 'OUTBOUND', amount: 600_00n, from: [US, '5001'], to: [US, '5002'], at: at(1) });
  await payment({ e2e: e2e('HOP2OUT0001'), direction: 'OUTBOUND', amount: 700_00n, from: [US, '5001'], to: ['10000002', '999'], at: at(2) });
  await payment({ e2e: e2e('REJECTED001'), direction: 'OUTBOUND', amount: 300_00n, from: [US, '5002'], to: ['10000004', '555'], at: at(2), status: 'REJECTED' });
  await payment({ e2e: e2e('HOP3OUT0001'), direction: 'OUTBOUND', amount: 600_00n, from: [US, '5002'], to: ['10000003', '777'], at: at(3) });
}, FIXTURE_TIMEOUT_MS);
afterAll(async () => {
  await fx?.close();
}, FIXTURE_TIMEOUT_MS);

describe('MED 2.0 tracing', () => {
  test('outgoing payments carry the funds first in, first out, until the reported amount is accounted for', () => {
    const tx = (amount: bigint, minute: number) => ({ amount_centavos: amount, created_at: at(minute) }) as never;
    const split = attribute(1000_00n, [tx(700_00n, 2), tx(600_00n, 1), tx(900_00n, 3)]);
    expect(split.map((s) => s.traced)).toEqual([600_00n, 400_00n]);
  });

  test('the trace follows the funds through our accounts, hop by hop, to where they left us', async () => {
    const r = await fx.call('GET', `/med/traces/${reported}`);
    expect(r.status).toBe(200);
    const edges = r.json.edges.map((e: any) => [e.endToEndId.slice(-11), e.hop, e.traced]);
    expect(edges).toEqual([
      ['REPORTED001', 1, '1000.00'],
      ['HOP2INTERNA', 2, '600.00'],
      ['HOP2OUT0001', 2, '400.00'],
      ['HOP3OUT0001', 3, '600.00'],
    ]);
    const ours = r.json.nodes.filter((n: any) => n.ours).map((n: any) => [n.account, n.received]);
    expect(ours).toEqual([['5001', '1000.00'], ['5002', '600.00']]);
    expect(r.json.truncated).toBe(false);
  });

  test('a cautionary block holds what reached each of our accounts, for at most 72 hours', async () => {
    const tooLong = await fx.call('POST', `/med/traces/${reported}/blocks`, { hours: 73 });
    expect(tooLong.status).toBe(400);
    const r = await fx.call('POST', `/med/traces/${reported}/blocks`, { hours: 72 });
    expect(r.status).toBe(201);
    expect(r.json.blocks.map((b: any) => [b.accountNumber, b.amount, b.status])).toEqual([['5001', '1000.00', 'ACTIVE'], ['5002', '600.00', 'ACTIVE']]);
    const audit = await fx.deps.sql`select count(*)::int as n from audit_log where action = 'med.block' and detail->>'endToEndId' = ${reported}`;
    expect(audit[0]!.n).toBe(2);

    await fx.advance(72 * 3600 * 1000 - 1000);
    expect(await fx.services.med.releaseExpiredBlocks()).toBe(0);
    await fx.advance(1000);
    expect(await fx.services.med.releaseExpiredBlocks()).toBe(2);
    const left = await fx.deps.sql`select count(*)::int as n from dict_cautionary_blocks where status = 'ACTIVE'`;
    expect(left[0]!.n).toBe(0);
  });

  test('a block on a payment whose funds never reached an account of ours is refused naming the EndToEndId, and writes nothing', async () => {
    // BEFORE00001 left us for another PSP: nothing of it rests in an account here (found by the endpoint fuzz)
    const r = await fx.call('POST', `/med/traces/${e2e('BEFORE00001')}/blocks`, { hours: 24 });
    expect(r.status).toBe(400);
    expect(r.json.violations).toEqual([{ field: 'endToEndId', rule: 'reached-us', message: 'the funds never reached an account of ours' }]);
    const blocks = await fx.deps.sql`select count(*)::int as n from dict_cautionary_blocks where end_to_end_id = ${e2e('BEFORE00001')}`;
    expect(blocks[0]!.n).toBe(0);
  });

  test('an unknown EndToEndId has no trace', async () => {
    const r = await fx.call('GET', `/med/traces/${e2e('UNKNOWN0001')}`);
    expect(r.status).toBe(404);
  });
});
