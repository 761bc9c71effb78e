// The account authority: who decides whether a customer account may be debited or credited. Accounts
// belong to the institution's core banking; the SPI service only asks. Two implementations: our own
// ledger (ledger-authority.ts) and an HTTP adapter to an external core banking (http-authority.ts).
import type { Posting } from '../positions/posting.ts';
import type { Refusal } from '../positions/positions.ts';

export interface AccountRef {
  branch: string;
  number: string;
}

export interface AccountHolder {
  taxId: string;
  name: string;
  accountType: 'CACC' | 'SVGS' | 'SLRY' | 'TRAN';
}

export type Decision<T> = { ok: true; value: T } | { ok: false; error: Refusal };

/**
 * The money side of a decision: `posting` (built-in ledger only) is written by the caller in the same
 * database transaction as the status change; `commit` runs after that transaction committed.
 */
export interface Effect {
  posting?: Posting;
  /** `posted`: the store wrote the posting now (false: it was already in the ledger, a repeat) */
  commit(posted: boolean): void;
  /** the write failed: undo what the decision held */
  abort(): void;
}

export interface AccountAuthority {
  readonly kind: 'ledger' | 'core-banking';
  /** Debtor checks (exists, not blocked, funds) and a hold for `ref` (the EndToEndId). */
  holdDebit(ref: string, account: AccountRef, amountCentavos: bigint): Promise<Decision<AccountHolder>>;
  /** A hold taken before a restart, for a payment still open: held again without checks. */
  restoreHold(ref: string, account: AccountRef, amountCentavos: bigint): void;
  /** pacs.002 ACSC: the held amount leaves the account. */
  settleDebit(ref: string, account: AccountRef, amountCentavos: bigint): Effect;
  /**
   * Book transfer (payee at our own ISPB; checked by `holdDebit` and `credit` first): the held amount goes
   * from the payer straight to the payee, one movement, no SPI clearing leg.
   */
  settleBook(ref: string, debtor: AccountRef, creditor: AccountRef, amountCentavos: bigint): Effect;
  /** pacs.002 RJCT: the hold is released. */
  releaseDebit(ref: string): void;
  /**
   * Inbound money (a payment, or a return of our payment): can the account receive it? The effect credits
   * it once committed. `ref` is unique per movement (IN:<e2e>, RTI:<returnId>).
   */
  credit(kind: 'PAYMENT_IN' | 'RETURN_IN', id: string, account: AccountRef, amountCentavos: bigint): Promise<Decision<Effect & { holder: AccountHolder }>>;
  /** Outbound return of money we received: debits the payee's account at once (no pacs.002 hold). */
  debitForReturn(id: string, account: AccountRef, amountCentavos: bigint): Promise<Decision<Effect>>;
  /** After a restart: the effect of an outbound return still awaiting SPI's report, held again without checks. */
  restoreReturn(id: string, account: AccountRef, amountCentavos: bigint): Effect;
  /** A return we sent was rejected by SPI: the money goes back to the account. */
  reverseReturn(id: string, account: AccountRef, amountCentavos: bigint): Effect;
  close(): Promise<void>;
}
