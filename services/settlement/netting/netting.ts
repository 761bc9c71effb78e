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

export function net(payments: readonly GrossPayment[]): Result<NettingReport> {
  if (payments.length > NETTING_PAYMENTS_MAX) return fail('InvalidRequest', `${payments.length} payments exceed ${NETTING_PAYMENTS_MAX} per window`);
  const byIspb = new Map<string, NetPosition>();
  const position = (ispb: string) => {
    let p = byIspb.get(ispb);
    if (p === undefined) byIspb.set(ispb, (p = { ispb, grossDebitCentavos: 0n, grossCreditCentavos: 0n, netCentavos: 0n, payments: 0 }));
    return p;
  };
  let grossCentavos = 0n;
  for (const pay of payments) {
    if (pay.amountCentavos <= 0n) return fail('InvalidRequest', `payment ${pay.endToEndId} has a non-positive amount`, 'amountCentavos', 'positive');
    if (pay.debtorIspb === pay.creditorIspb) return fail('InvalidRequest', `payment ${pay.endToEndId} is a book transfer within ${pay.debtorIspb}; it does not settle in SPI`, 'creditorIspb', 'other-participant');
    const debtor = position(pay.debtorIspb);
    const creditor = position(pay.creditorIspb);
    debtor.grossDebitCentavos += pay.amountCentavos;
    debtor.payments++;
    creditor.grossCreditCentavos += pay.amountCentavos;
    creditor.payments++;
    grossCentavos += pay.amountCentavos;
  }
  const positions = [...byIspb.values()].sort((a, b) => (a.ispb < b.ispb ? -1 : a.ispb > b.ispb ? 1 : 0));
  let sum = 0n;
  let moved = 0n;
  for (const p of positions) {
    p.netCentavos = p.grossCreditCentavos - p.grossDebitCentavos;
    sum += p.netCentavos;
    moved += p.netCentavos < 0n ? -p.netCentavos : p.netCentavos;
  }
  // every centavo paid by one participant is received by another: a non-zero sum is a bug, never data
  if (sum !== 0n) throw new Error(`netting invariant broken: positions sum to ${sum}, not 0`);
  return ok({ positions, grossCentavos, payments: payments.length, settledCentavos: moved / 2n });
}
