// Confirmation codes: six random digits, valid for a bounded time and a bounded number of attempts.
// Pure decisions; the store applies them.
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { fail, ok, type Result } from '../../../shared/result.ts';

export const CONFIRMATION_CODE_DIGITS = 6;
/** Long enough to read an SMS or an e-mail, short enough that a leaked code goes stale quickly. */
export const CONFIRMATION_TTL_MS = 10 * 60 * 1000;
/** Wrong codes accepted per confirmation: 10^6 codes / 5 tries makes guessing hopeless. */
export const CONFIRMATION_ATTEMPTS_MAX = 5;

export function newConfirmationCode(): string {
  return randomInt(0, 10 ** CONFIRMATION_CODE_DIGITS).toString().padStart(CONFIRMATION_CODE_DIGITS, '0');
}

export function codeSha256(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

export interface ConfirmationRow {
  id: string;
  key_type: string;
  key: string;
  participant_ispb: string;
  branch: string;
  account_number: string;
  owner_tax_id: string;
  code_sha256: string;
  attempts: number;
  expires_at: Date;
  confirmed_at: Date | null;
  consumed_at: Date | null;
}

export interface ConfirmationClaim {
  keyType: string;
  key: string;
  participant: string;
  branch: string;
  accountNumber: string;
  ownerTaxId: string;
  code: string;
}

/** Whether `claim` proves ownership with `row` at `now`. A wrong code is `wrong-code` (counts an attempt). */
export function checkConfirmation(row: ConfirmationRow | undefined, claim: ConfirmationClaim, now: Date): Result<void> & { countAttempt?: boolean } {
  const field = 'confirmation.code';
  if (!row) return fail('EntryInvalid', 'no such confirmation; request a code first', 'confirmation.id', 'exists');
  if (row.consumed_at) return fail('EntryInvalid', 'this confirmation was already used to register the key', 'confirmation.id', 'unused');
  const same = row.key_type === claim.keyType && row.key === claim.key && row.participant_ispb === claim.participant &&
    row.branch === claim.branch && row.account_number === claim.accountNumber && row.owner_tax_id === claim.ownerTaxId;
  if (!same) return fail('EntryInvalid', 'the confirmation was issued for another key, account or owner', 'confirmation.id', 'same-entry');
  if (row.expires_at.getTime() <= now.getTime()) return fail('EntryInvalid', 'the confirmation code expired; request a new one', field, 'not-expired');
  if (row.attempts >= CONFIRMATION_ATTEMPTS_MAX) return fail('EntryInvalid', `too many wrong codes (${CONFIRMATION_ATTEMPTS_MAX}); request a new one`, field, 'attempts');
  const given = Buffer.from(codeSha256(claim.code), 'hex');
  if (!timingSafeEqual(given, Buffer.from(row.code_sha256, 'hex'))) {
    return { ...fail('EntryInvalid', 'the confirmation code is wrong', field, 'matches'), countAttempt: true };
  }
  return ok(undefined);
}
