// A double-entry posting: the entries of one money movement, which always sum to zero. Built here (pure),
// written by the pipeline store in the same database transaction as the payment status it belongs to.
export const LEDGER_KINDS = ['PAYMENT_OUT', 'PAYMENT_IN', 'RETURN_OUT', 'RETURN_IN', 'DEPOSIT', 'BOOK_TRANSFER'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

export interface LedgerEntry {
  accountId: bigint;
  /** + credit, − debit */
  amountCentavos: bigint;
}

export interface Posting {
  /** unique per movement: PAY:<e2e>, IN:<e2e>, RTO:<returnId>, RTI:<returnId>, DEP:<id>, BOOK:<e2e> */
  ref: string;
  kind: LedgerKind;
  entries: LedgerEntry[];
}

export const REF_PREFIX: Record<LedgerKind, string> = {
  PAYMENT_OUT: 'PAY',
  PAYMENT_IN: 'IN',
  RETURN_OUT: 'RTO',
  RETURN_IN: 'RTI',
  DEPOSIT: 'DEP',
  // payer → payee inside our ledger, no SPI clearing leg (sql/0006_spi_book_transfers.sql)
  BOOK_TRANSFER: 'BOOK',
};

export const refOf = (kind: LedgerKind, id: string) => `${REF_PREFIX[kind]}:${id}`;

/** Moves `amountCentavos` from `fromId` to `toId`. A zero or negative amount is a bug, not input. */
export function transfer(kind: LedgerKind, id: string, fromId: bigint, toId: bigint, amountCentavos: bigint): Posting {
  if (amountCentavos <= 0n) throw new Error(`posting ${kind}:${id}: amount must be > 0, got ${amountCentavos}`);
  if (fromId === toId) throw new Error(`posting ${kind}:${id}: from and to are the same account`);
  const posting: Posting = {
    ref: refOf(kind, id),
    kind,
    entries: [
      { accountId: fromId, amountCentavos: -amountCentavos },
      { accountId: toId, amountCentavos },
    ],
  };
  assertBalanced(posting);
  return posting;
}

export function assertBalanced(p: Posting): void {
  const sum = p.entries.reduce((s, e) => s + e.amountCentavos, 0n);
  if (sum !== 0n || p.entries.length < 2) throw new Error(`posting ${p.ref} does not balance (sum ${sum}, ${p.entries.length} entries)`);
}
