// The built-in account authority: our own double-entry ledger, decided from the in-memory positions
// (positions/positions.ts) and recorded in Postgres by the pipeline store.
import type { Positions } from '../positions/positions.ts';
import { refOf, transfer } from '../positions/posting.ts';
import type { AccountAuthority, AccountHolder, Decision, Effect } from './authority.ts';

const holderOf = (p: { holderTaxId: string | null; holderName: string | null; accountType: string | null }): AccountHolder => ({
  taxId: p.holderTaxId!, name: p.holderName!, accountType: p.accountType as AccountHolder['accountType'],
});

export function createLedgerAuthority(positions: Positions): AccountAuthority {
  const clearing = () => positions.system('SPI_CLEARING');
  return {
    kind: 'ledger',
    async holdDebit(ref, account, amountCentavos) {
      const r = positions.reserve(ref, account.branch, account.number, amountCentavos);
      return r.ok ? { ok: true, value: holderOf(r.value) } : r;
    },
    restoreHold(ref, account, amountCentavos) {
      positions.reserve(ref, account.branch, account.number, amountCentavos, { force: true });
    },
    settleDebit(ref, account, amountCentavos): Effect {
      const p = positions.get(account.branch, account.number);
      if (!p) throw new Error(`settleDebit ${ref}: account ${account.branch}/${account.number} vanished while a payment was open`);
      const posting = transfer('PAYMENT_OUT', ref, p.id, clearing().id, amountCentavos);
      return {
        posting,
        commit: (posted) => (posted ? positions.applyPosting(posting, ref) : positions.release(ref)),
        abort: () => {},
      };
    },
    settleBook(ref, debtor, creditor, amountCentavos): Effect {
      const from = positions.get(debtor.branch, debtor.number);
      const to = positions.get(creditor.branch, creditor.number);
      if (!from || !to) throw new Error(`settleBook ${ref}: an account vanished between its checks and the settlement`);
      // ref is the EndToEndId, which is also the hold's ref (holdDebit): the posting consumes the hold
      const posting = transfer('BOOK_TRANSFER', ref, from.id, to.id, amountCentavos);
      return {
        posting,
        commit: (posted) => (posted ? positions.applyPosting(posting, ref) : positions.release(ref)),
        abort: () => positions.release(ref),
      };
    },
    releaseDebit(ref) {
      positions.release(ref);
    },
    async credit(kind, id, account, amountCentavos): Promise<Decision<Effect & { holder: AccountHolder }>> {
      const p = positions.get(account.branch, account.number);
      if (!p || p.kind !== 'CUSTOMER' || p.status === 'CLOSED') return { ok: false, error: { reason: 'AC03', detail: `account ${account.branch}/${account.number} does not exist` } };
      if (p.status === 'BLOCKED') return { ok: false, error: { reason: 'AC06', detail: `account ${account.branch}/${account.number} is blocked` } };
      const posting = transfer(kind, id, clearing().id, p.id, amountCentavos);
      return { ok: true, value: { holder: holderOf(p), posting, commit: (posted) => posted && positions.applyPosting(posting), abort: () => {} } };
    },
    async debitForReturn(id, account, amountCentavos) {
      const ref = refOf('RETURN_OUT', id);
      const r = positions.reserve(ref, account.branch, account.number, amountCentavos);
      if (!r.ok) return r;
      const posting = transfer('RETURN_OUT', id, r.value.id, clearing().id, amountCentavos);
      return { ok: true, value: { posting, commit: (posted) => (posted ? positions.applyPosting(posting, ref) : positions.release(ref)), abort: () => positions.release(ref) } };
    },
    restoreReturn(id, account, amountCentavos) {
      const ref = refOf('RETURN_OUT', id);
      const r = positions.reserve(ref, account.branch, account.number, amountCentavos, { force: true });
      if (!r.ok) throw new Error(`restoreReturn ${id}: account ${account.branch}/${account.number} is gone`);
      const posting = transfer('RETURN_OUT', id, r.value.id, clearing().id, amountCentavos);
      return { posting, commit: (posted) => (posted ? positions.applyPosting(posting, ref) : positions.release(ref)), abort: () => positions.release(ref) };
    },
    reverseReturn(id, account, amountCentavos) {
      const p = positions.get(account.branch, account.number)!;
      const posting = transfer('RETURN_IN', id, clearing().id, p.id, amountCentavos);
      return { posting, commit: (posted) => posted && positions.applyPosting(posting), abort: () => {} };
    },
    async close() {
      await positions.close();
    },
  };
}
