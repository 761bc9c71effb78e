// Money is integer centavos (bigint) everywhere inside; the wire carries BRL with exactly two decimals
// ("12.34"), as the SPI catalog and the BR Code do. Anything else is refused, never rounded.
import { fail, ok, type Result } from './result.ts';

/** SPI amounts have at most 18 digits, 2 of them decimals; this is also far inside Postgres bigint. */
export const AMOUNT_CENTAVOS_MAX = 999_999_999_999_999_999n;

const WIRE_AMOUNT = /^(0|[1-9]\d{0,15})\.\d{2}$/;

/** "12.34" → 1234n. Refuses "1.234", "-1", "1e3", "abc", "12", "12.3", "012.00" and zero. */
export function parseAmount(wire: string, field = 'amount'): Result<bigint> {
  if (typeof wire !== 'string' || !WIRE_AMOUNT.test(wire)) {
    return fail('InvalidRequest', `${field} must be a BRL amount with exactly two decimals, like 12.34`, field, 'format');
  }
  const centavos = BigInt(wire.replace('.', ''));
  if (centavos <= 0n) return fail('InvalidRequest', `${field} must be greater than zero`, field, 'minimum');
  if (centavos > AMOUNT_CENTAVOS_MAX) return fail('InvalidRequest', `${field} exceeds the largest SPI amount`, field, 'maximum');
  return ok(centavos);
}

/** 1234n → "12.34". Throws on a negative value: a negative amount on the wire is a bug, not input. */
export function formatAmount(centavos: bigint): string {
  if (centavos < 0n) throw new RangeError(`formatAmount: negative amount ${centavos}`);
  const s = centavos.toString().padStart(3, '0');
  return `${s.slice(0, -2)}.${s.slice(-2)}`;
}

/** Signed amounts (balances, net positions) for reports: "-12.34". */
export function formatSignedAmount(centavos: bigint): string {
  return centavos < 0n ? `-${formatAmount(-centavos)}` : formatAmount(centavos);
}

/** Integer centavos given as a JSON number or numeric string (internal APIs only): safe integers, > 0. */
export function centavosFromInteger(value: unknown, field = 'amountCentavos'): Result<bigint> {
  const text = typeof value === 'number' ? (Number.isSafeInteger(value) ? String(value) : '') : typeof value === 'string' ? value : '';
  if (!/^[1-9]\d{0,17}$/.test(text)) return fail('InvalidRequest', `${field} must be a positive integer number of centavos`, field, 'integer');
  const centavos = BigInt(text);
  if (centavos > AMOUNT_CENTAVOS_MAX) return fail('InvalidRequest', `${field} exceeds the largest SPI amount`, field, 'maximum');
  return ok(centavos);
}
