// Pure decision of a book transfer (PIX.md § Keys: payer and payee at the same PSP, never sent to SPI):
// whether the payee's account can take the money, as the reason a receiving PSP would give in its pacs.002.
import type { Decision, Effect, AccountHolder } from '../accounts/authority.ts';

export type BookOutcome = { ok: true } | { ok: false; reason: string };

/**
 * `payee` is the account authority's credit decision, null when the creditor names no branch (all our
 * accounts have one: such an account cannot be ours). AC03 unknown account, AC06 blocked, BE01 the
 * creditor named in the order is not the account's holder (compared by tax id, as inbound payments are).
 */
export function bookOutcome(creditorTaxId: string, payee: Decision<Effect & { holder: AccountHolder }> | null): BookOutcome {
  if (payee === null) return { ok: false, reason: 'AC03' };
  if (!payee.ok) return { ok: false, reason: payee.error.reason === 'AM04' ? 'AC03' : payee.error.reason };
  const holderTaxId = payee.value.holder.taxId;
  if (holderTaxId !== '' && holderTaxId !== creditorTaxId) return { ok: false, reason: 'BE01' };
  return { ok: true };
}
