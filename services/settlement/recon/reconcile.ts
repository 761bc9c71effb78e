// Reconciliation of our books against BACEN's statement (camt.053) of our PI account. Pure.
// Both sides are reduced to entries keyed by reference (EndToEndId, ReturnId, STR TransferId) and
// compared; every difference is classified:
//   MISSING_OURS    BACEN booked it, we have no record
//   MISSING_BACEN   we hold it as settled, BACEN did not book it
//   AMOUNT_DIFFERS  both have it, with another amount or direction
//   STATUS_DIFFERS  BACEN booked it, we do not hold it as settled
//   DUPLICATE       the same reference more than once on one side
// A STATUS_DIFFERS whose our-side status is still in flight (awaiting the pacs.002) is explained: the late
// answer will settle it. Every other mismatch is unexplained and needs a person.
import type { CreditDebit } from '../../../shared/spi/balance.ts';
import type { EntryKind, StatementEntry } from '../../../shared/spi/camt053.ts';

export const MISMATCH_KINDS = ['MISSING_OURS', 'MISSING_BACEN', 'AMOUNT_DIFFERS', 'STATUS_DIFFERS', 'DUPLICATE'] as const;
export type MismatchKind = (typeof MISMATCH_KINDS)[number];

/** Our statuses that mean "BACEN may have settled it and we have not heard yet". */
export const IN_FLIGHT_STATUSES: ReadonlySet<string> = new Set(['SENT', 'TIMED_OUT', 'PENDING', 'ACCEPTED']);

export interface OurEntry {
  reference: string;
  kind: EntryKind;
  direction: CreditDebit;
  amountCentavos: bigint;
  /** SETTLED (or APPLIED for STR) counts as booked */
  status: string;
}

export interface Mismatch {
  kind: MismatchKind;
  reference: string;
  side: 'ours' | 'bacen' | 'both';
  detail: string;
  explained: boolean;
}

export interface ReconResult {
  matched: number;
  mismatches: Mismatch[];
  summary: Record<MismatchKind, number>;
  unexplained: number;
}

const BOOKED = new Set(['SETTLED', 'APPLIED']);
const signedOf = (e: { direction: CreditDebit; amountCentavos: bigint }) => (e.direction === 'CRDT' ? e.amountCentavos : -e.amountCentavos);

function groupBy<T extends { reference: string }>(rows: readonly T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const list = m.get(r.reference);
    if (list) list.push(r);
    else m.set(r.reference, [r]);
  }
  return m;
}

/**
 * `ours` holds our entries that either settled inside the statement period or whose reference appears
 * in the statement (a payment created earlier and settled inside it is still compared).
 */
export function reconcile(ours: readonly OurEntry[], statement: readonly StatementEntry[]): ReconResult {
  const mismatches: Mismatch[] = [];
  const add = (kind: MismatchKind, reference: string, side: Mismatch['side'], detail: string, explained = false) => mismatches.push({ kind, reference, side, detail, explained });
  const bacen = groupBy(statement);
  const mine = groupBy(ours);
  let matched = 0;

  for (const [reference, list] of bacen) {
    if (list.length > 1) add('DUPLICATE', reference, 'bacen', `booked ${list.length} times by BACEN`);
    const our = mine.get(reference);
    if (our === undefined) {
      add('MISSING_OURS', reference, 'bacen', `BACEN booked ${list[0]!.direction} ${list[0]!.amountCentavos} (${list[0]!.kind}) that we have no record of`);
      continue;
    }
    if (our.length > 1) add('DUPLICATE', reference, 'ours', `recorded ${our.length} times on our side`);
    const o = our[0]!;
    if (!BOOKED.has(o.status)) {
      const inFlight = IN_FLIGHT_STATUSES.has(o.status);
      add('STATUS_DIFFERS', reference, 'both', `BACEN booked it, ours is ${o.status}${inFlight ? ' (awaiting the final answer)' : ''}`, inFlight);
      continue;
    }
    const b = list[0]!;
    if (signedOf(o) !== signedOf(b)) {
      add('AMOUNT_DIFFERS', reference, 'both', `ours ${signedOf(o)}, BACEN ${signedOf(b)} (signed centavos)`);
      continue;
    }
    if (list.length === 1 && our.length === 1) matched++;
  }
  for (const [reference, our] of mine) {
    if (bacen.has(reference)) continue;
    const booked = our.filter((o) => BOOKED.has(o.status));
    if (booked.length === 0) continue; // not settled on our side and not booked by BACEN: consistent
    if (our.length > 1) add('DUPLICATE', reference, 'ours', `recorded ${our.length} times on our side`);
    add('MISSING_BACEN', reference, 'ours', `we hold ${booked[0]!.direction} ${booked[0]!.amountCentavos} (${booked[0]!.kind}) as settled; BACEN did not book it`);
  }

  const summary = Object.fromEntries(MISMATCH_KINDS.map((k) => [k, 0])) as Record<MismatchKind, number>;
  for (const m of mismatches) summary[m.kind]++;
  return { matched, mismatches, summary, unexplained: mismatches.filter((m) => !m.explained).length };
}
