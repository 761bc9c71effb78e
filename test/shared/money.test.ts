import { describe, expect, test } from 'bun:test';
import { centavosFromInteger, formatAmount, formatSignedAmount, parseAmount } from '../../shared/money.ts';

describe('money on the wire is BRL with exactly two decimals', () => {
  test('a two-decimal amount becomes integer centavos', () => {
    expect(parseAmount('12.34')).toEqual({ ok: true, value: 1234n });
    expect(parseAmount('0.01')).toEqual({ ok: true, value: 1n });
    expect(parseAmount('9999999999999999.99')).toEqual({ ok: true, value: 999999999999999999n });
  });

  test.each(['1.234', '-1', '1e3', 'abc', '12', '12.3', '012.00', ' 1.00', '1.00 ', '1,00', '+1.00', '0x10.00', '', '1.0O', 'NaN', 'Infinity'])(
    'refuses %p naming the field and the format rule',
    (wire) => {
      const r = parseAmount(wire, 'payment.amount');
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject({ code: 'InvalidRequest', field: 'payment.amount', rule: 'format' });
    },
  );

  test('zero is refused: a payment moves money', () => {
    const r = parseAmount('0.00');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.rule).toBe('minimum');
  });

  test('an amount above the SPI maximum is refused', () => {
    const r = parseAmount('99999999999999999.00');
    expect(r.ok).toBe(false);
  });

  test('formatting is the exact inverse of parsing', () => {
    for (const c of [1n, 10n, 99n, 100n, 1234n, 100000n, 999999999999999999n]) {
      const wire = formatAmount(c);
      expect(parseAmount(wire)).toEqual({ ok: true, value: c });
    }
    expect(formatAmount(5n)).toBe('0.05');
    expect(formatSignedAmount(-1234n)).toBe('-12.34');
  });

  test('a negative amount cannot be formatted for the wire', () => {
    expect(() => formatAmount(-1n)).toThrow(RangeError);
  });

  test('integer centavos accept only positive safe integers', () => {
    expect(centavosFromInteger(150)).toEqual({ ok: true, value: 150n });
    expect(centavosFromInteger('150')).toEqual({ ok: true, value: 150n });
    for (const bad of [0, -1, 1.5, 1e21, '1.5', '1e3', 'abc', null, undefined, {}]) expect(centavosFromInteger(bad).ok).toBe(false);
  });
});
