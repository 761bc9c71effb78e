// Starts an ownership proof for a PHONE or EMAIL key: validates the key, stores the code's hash with its
// expiry, and hands the code to the ConfirmationSender.
import { randomUUID } from 'node:crypto';
import { checkKey, checkTaxId, ownerTypeOfTaxId } from '../../../shared/dict/keys.ts';
import { fail, ok, type Result } from '../../../shared/result.ts';
import type { DictDeps } from '../deps.ts';
import type { ConfirmationBody } from '../keys/model.ts';
import { checkConfirmation, CONFIRMATION_TTL_MS, codeSha256, newConfirmationCode } from './code.ts';
import { countWrongAttempt, findConfirmation, insertConfirmation, markConfirmed } from './store.ts';

export async function startConfirmation(deps: Pick<DictDeps, 'sql' | 'clock' | 'config' | 'sender'>, body: ConfirmationBody): Promise<Result<{ id: string; expiresAt: Date }>> {
  const key = checkKey(body.keyType, body.key);
  if (!key.ok) return key;
  const ownerType = ownerTypeOfTaxId(body.owner.taxIdNumber);
  if (!ownerType) return fail('EntryInvalid', 'a tax id is a CPF (11) or a CNPJ (14)', 'owner.taxIdNumber', 'format');
  const tax = checkTaxId(ownerType, body.owner.taxIdNumber);
  if (!tax.ok) return tax;
  const now = deps.clock.now();
  const code = newConfirmationCode();
  const c = {
    id: randomUUID(),
    keyType: body.keyType,
    key: body.key,
    participant: deps.config.ispb,
    branch: body.account.branch,
    accountNumber: body.account.accountNumber,
    ownerTaxId: body.owner.taxIdNumber,
    codeSha256: codeSha256(code),
    expiresAt: new Date(now.getTime() + CONFIRMATION_TTL_MS),
    createdAt: now,
  };
  await insertConfirmation(deps.sql, c);
  const sent = await deps.sender.send({ keyType: body.keyType, key: body.key, code, expiresAt: c.expiresAt });
  if (!sent.ok) return sent;
  return ok({ id: c.id, expiresAt: c.expiresAt });
}

export interface OwnershipClaim {
  keyType: string;
  key: string;
  branch: string;
  accountNumber: string;
  ownerTaxId: string;
  confirmation?: { id: string; code: string } | undefined;
}

/**
 * Checks the code the user received for a PHONE/EMAIL key (registration, ownership claim). A wrong code
 * counts an attempt; the right one marks the confirmation confirmed. The value is the confirmation id,
 * to be consumed in the transaction that uses it.
 */
export async function proveOwnership(deps: Pick<DictDeps, 'sql' | 'clock' | 'config'>, c: OwnershipClaim): Promise<Result<string>> {
  if (!c.confirmation) return fail('EntryInvalid', `a ${c.keyType} key needs a confirmation code proving the user owns it`, 'confirmation', 'required');
  const { id, code } = c.confirmation;
  const row = await findConfirmation(deps.sql, id);
  const checked = checkConfirmation(row, { keyType: c.keyType, key: c.key, participant: deps.config.ispb, branch: c.branch, accountNumber: c.accountNumber, ownerTaxId: c.ownerTaxId, code }, deps.clock.now());
  if (!checked.ok) {
    if (checked.countAttempt) await countWrongAttempt(deps.sql, id);
    return checked;
  }
  await markConfirmed(deps.sql, id, deps.clock.now());
  return ok(id);
}
