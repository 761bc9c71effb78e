import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { net, type GrossPayment } from '../../services/settlement/netting/netting.ts';

const OURS = '12345678';
const A = '10000001';
const B = '10000002';
let n = 0;
const pay = (debtorIspb: string, creditorIspb: string, amountCentavos: bigint): GrossPayment => ({ endToEndId: `E${String(++n).padStart(31, '0')}`, debtorIspb, creditorIspb, amountCentavos });

describe('multilateral netting', () => {
  test('three participants: each net is what it receives minus what it pays, and they sum to zero', () => {
    const r = net([pay(OURS, A, 10_000n), pay(A, B, 2_500n), pay(B, OURS, 4_000n), pay(OURS, B, 1n)]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.positions).toEqual([
      { ispb: A, grossDebitCentavos: 2_500n, grossCreditCentavos: 10_000n, netCentavos: 7_500n, payments: 2 },
      { ispb: B, grossDebitCentavos: 4_000n, grossCreditCentavos: 2_501n, netCentavos: -1_499n, payments: 3 },
      { ispb: OURS, grossDebitCentavos: 10_001n, grossCreditCentavos: 4_000n, netCentavos: -6_001n, payments: 3 },
    ]);
    expect(r.value.grossCentavos).toBe(16_501n);
    expect(r.value.settledCentavos).toBe(7_500n);
  });

  test('an empty window nets to no positions', () => {
    expect(net([])).toEqual({ ok: true, value: { positions: [], grossCentavos: 0n, payments: 0, settledCentavos: 0n } });
  });

  test('a book transfer and a non-positive amount are refused, not netted', () => {
    expect(net([pay(A, A, 5n)])).toMatchObject({ ok: false, error: { code: 'InvalidRequest', field: 'creditorIspb' } });
    expect(net([pay(A, B, 0n)])).toMatchObject({ ok: false, error: { code: 'InvalidRequest', field: 'amountCentavos' } });
  });

  test('for any set of payments: positions sum to zero exactly and match the gross payments', () => {
    const ispb = fc.constantFrom(OURS, A, B, '10000003', '10000004', '10000005');
    const payment = fc.tuple(ispb, ispb, fc.bigInt({ min: 1n, max: 99_999_999_999n })).filter(([d, c]) => d !== c);
    fc.assert(fc.property(fc.array(payment, { maxLength: 200 }), (rows) => {
      const payments = rows.map(([d, c, amount]) => pay(d, c, amount));
      const r = net(payments);
      if (!r.ok) return false;
      const { positions, grossCentavos } = r.value;
      expect(positions.reduce((s, p) => s + p.netCentavos, 0n)).toBe(0n);
      expect(positions.reduce((s, p) => s + p.grossDebitCentavos, 0n)).toBe(grossCentavos);
      expect(positions.reduce((s, p) => s + p.grossCreditCentavos, 0n)).toBe(grossCentavos);
      for (const p of positions) {
        const paid = payments.filter((x) => x.debtorIspb === p.ispb).reduce((s, x) => s + x.amountCentavos, 0n);
        const received = payments.filter((x) => x.creditorIspb === p.ispb).reduce((s, x) => s + x.amountCentavos, 0n);
        expect([p.grossDebitCentavos, p.grossCreditCentavos, p.netCentavos]).toEqual([paid, received, received - paid]);
      }
      return true;
    }), { numRuns: 200 });
  });
});
