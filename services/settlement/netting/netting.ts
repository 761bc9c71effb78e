// Multilateral netting of one window. Pure. Each participant's net position is what it receives minus
// what it pays over the window's gross payments; the positions of all participants sum to zero exactly
// (bigint centavos, no rounding anywhere), which is asserted where they are produced.
// A payment between two accounts of the same participant never reaches SPI (book transfer); one that
// shows up here is refused rather than silently netted to zero, since it means the input is wrong.
import { fail, ok, type Result } from '../../../shared/result.ts';

export interface GrossPayment {
  endToEndId: string;
  debtorIspb: string;
  creditorIspb: string;
  amountCentavos: bigint;
}

export interface NetPosition {
  ispb: string;
  grossDebitCentavos: bigint;
  grossCreditCentavos: bigint;
  /** credit − debit: positive receives, negative pays */
  netCentavos: bigint;
  payments: number;
}

export interface NettingReport {
  positions: NetPosition[];
  grossCentavos: bigint;
  payments: number;
  /** Σ |net| / 2: what actually moves between participants after netting */
  settledCentavos: bigint;
}

/** Payments per netting run: one window of our traffic; a bigger input is a bug upstream. */
export const NETTING_PAYMENTS_MAX = 10_000_000;

/** What one participant paid and received over a window, before netting. */
export interface GrossPosition {
  ispb: string;
  grossDebitCentavos: bigint;
  grossCreditCentavos: bigint;
  /** payments it took part in, on either side */
  payments: number;
}

/** Each payment checked and added to its debtor's debit and its creditor's credit, in ISPB order. */
export function grossPositions(payments: readonly GrossPayment[]): Result<GrossPosition[]> {
  if (payments.length > NETTING_PAYMENTS_MAX) return fail('InvalidRequest', `${payments.length} payments exceed ${NETTING_PAYMENTS_MAX} per window`);
  const byIspb = new Map<string, GrossPosition>();
  const position = (ispb: string) => {
    let p = byIspb.get(ispb);
    if (p === undefined) byIspb.set(ispb, (p = { ispb, grossDebitCentavos: 0n, grossCreditCentavos: 0n, payments: 0 }));
    return p;
  };
  for (const pay of payments) {
    if (pay.amountCentavos <= 0n) return fail('InvalidRequest', `payment ${pay.endToEndId} has a non-positive amount`, 'amountCentavos', 'positive');
    if (pay.debtorIspb === pay.creditorIspb) return fail('InvalidRequest', `payment ${pay.endToEndId} is a book transfer within ${pay.debtorIspb}; it does not settle in SPI`, 'creditorIspb', 'other-participant');
    const debtor = position(pay.debtorIspb);
    const creditor = position(pay.creditorIspb);
    debtor.grossDebitCentavos += pay.amountCentavos;
    debtor.payments++;
    creditor.grossCreditCentavos += pay.amountCentavos;
    creditor.payments++;
  }
  return ok(byIspbOrder([...byIspb.values()]));
}

/** Several sets of gross positions (say, payments from events and returns from the table) added per participant. */
export function mergeGross(...sets: readonly (readonly GrossPosition[])[]): GrossPosition[] {
  const byIspb = new Map<string, GrossPosition>();
  for (const set of sets) {
    for (const g of set) {
      const p = byIspb.get(g.ispb);
      if (p === undefined) byIspb.set(g.ispb, { ...g });
      else {
        p.grossDebitCentavos += g.grossDebitCentavos;
        p.grossCreditCentavos += g.grossCreditCentavos;
        p.payments += g.payments;
      }
    }
  }
  return byIspbOrder([...byIspb.values()]);
}

/**
 * Net positions from gross ones. The gross positions must come from whole payments (each counted once
 * as a debit and once as a credit): Σ debit = Σ credit and an even payment count are asserted, since
 * anything else is a bug in what produced them, never data.
 */
export function netGross(gross: readonly GrossPosition[]): NettingReport {
  let debits = 0n;
  let credits = 0n;
  let sides = 0;
  let sum = 0n;
  let moved = 0n;
  const positions: NetPosition[] = byIspbOrder(gross.map((g) => ({ ...g, netCentavos: g.grossCreditCentavos - g.grossDebitCentavos })));
  for (const p of positions) {
    debits += p.grossDebitCentavos;
    credits += p.grossCreditCentavos;
    sides += p.payments;
    sum += p.netCentavos;
    moved += p.netCentavos < 0n ? -p.netCentavos : p.netCentavos;
  }
  if (debits !== credits || sides % 2 !== 0) throw new Error(`netting invariant broken: debits ${debits} ≠ credits ${credits} or ${sides} payment sides`);
  // every centavo paid by one participant is received by another: a non-zero sum is a bug, never data
  if (sum !== 0n) throw new Error(`netting invariant broken: positions sum to ${sum}, not 0`);
  return { positions, grossCentavos: debits, payments: sides / 2, settledCentavos: moved / 2n };
}

export function net(payments: readonly GrossPayment[]): Result<NettingReport> {
  const gross = grossPositions(payments);
  return gross.ok ? ok(netGross(gross.value)) : gross;
}

function byIspbOrder<P extends { ispb: string }>(positions: P[]): P[] {
  return positions.sort((a, b) => (a.ispb < b.ispb ? -1 : a.ispb > b.ispb ? 1 : 0));
}
