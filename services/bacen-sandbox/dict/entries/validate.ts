// What DICT checks in an entry before storing it (PIX.md § Keys): the key for its type, the owner's tax
// id, a CPF/CNPJ key equal to the owner's tax id, and the account fields. Failures name field and rule.
import { checkKey, checkKeyMatchesOwner, checkTaxId } from '../../../../shared/dict/keys.ts';
import type { Account, Entry, Owner } from '../../../../shared/dict/messages.ts';
import { fail, ok, type Result } from '../../../../shared/result.ts';

const BRANCH_RE = /^\d{4}$/;
const ACCOUNT_NUMBER_RE = /^\d{1,20}$/;
/** DICT's Name and TradeName limit. */
export const OWNER_NAME_LENGTH_MAX = 120;

export function checkAccount(a: Account, at: string): Result<null> {
  if (a.branch !== undefined && !BRANCH_RE.test(a.branch)) return fail('EntryInvalid', 'a branch is 4 digits', `${at}.Branch`, 'format');
  if (!ACCOUNT_NUMBER_RE.test(a.accountNumber)) return fail('EntryInvalid', 'an account number is 1 to 20 digits', `${at}.AccountNumber`, 'format');
  if (Number.isNaN(Date.parse(a.openingDate))) return fail('EntryInvalid', 'OpeningDate must be an ISO date-time', `${at}.OpeningDate`, 'format');
  return ok(null);
}

export function checkOwner(o: Owner, at: string): Result<null> {
  const tax = checkTaxId(o.type, o.taxIdNumber, `${at}.TaxIdNumber`);
  if (!tax.ok) return tax;
  if (o.name.trim() === '' || o.name.length > OWNER_NAME_LENGTH_MAX) return fail('EntryInvalid', `a name has 1 to ${OWNER_NAME_LENGTH_MAX} characters`, `${at}.Name`, 'max-length');
  if (o.tradeName !== undefined && o.tradeName.length > OWNER_NAME_LENGTH_MAX) return fail('EntryInvalid', 'trade name too long', `${at}.TradeName`, 'max-length');
  return ok(null);
}

export function checkEntry(e: Entry, at = 'Entry'): Result<null> {
  const key = checkKey(e.keyType, e.key, `${at}.Key`);
  if (!key.ok) return key;
  const account = checkAccount(e.account, `${at}.Account`);
  if (!account.ok) return account;
  const owner = checkOwner(e.owner, `${at}.Owner`);
  if (!owner.ok) return owner;
  const match = checkKeyMatchesOwner(e.keyType, e.key, e.owner.type, e.owner.taxIdNumber);
  if (!match.ok) return fail(match.error.code, match.error.detail, `${at}.Key`, match.error.rule);
  return ok(null);
}

/** Entries per account: 5 for a natural person, 20 for a legal person (EntryLimitExceeded). */
export const ENTRIES_PER_ACCOUNT_MAX = { NATURAL_PERSON: 5, LEGAL_PERSON: 20 } as const;
