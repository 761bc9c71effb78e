// Claim operations with their effects on entries, used by the API routes and by the simulated PSPs alike:
// confirmation removes the donor's entry, completion creates the claimer's (PIX.md § Claims).
import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import { applyClaimAction, checkClaimable, newClaim, type ClaimAction } from '../../../../shared/dict/claims.ts';
import type { ClaimBody, Entry } from '../../../../shared/dict/messages.ts';
import { fail, ok, type Result } from '../../../../shared/result.ts';
import { deleteEntry, findEntry, insertEntry } from '../entries/store.ts';
import { checkAccount, checkOwner } from '../entries/validate.ts';
import { findClaim, insertClaim, saveState, stateOf, type ClaimRow } from './store.ts';

type Db = Sql<{ bigint: bigint }>;

/** createClaim: the key has an entry, no open claim, and the claim type fits who owns it now. */
export async function createClaim(sql: Db, caller: string, body: ClaimBody, now: Date): Promise<Result<ClaimRow>> {
  const claimable = checkClaimable(body.type, body.keyType);
  if (!claimable.ok) return claimable;
  const account = checkAccount(body.claimerAccount, 'Claim.ClaimerAccount');
  if (!account.ok) return fail('ClaimInvalid', account.error.detail, account.error.field, account.error.rule);
  const owner = checkOwner(body.claimer, 'Claim.Claimer');
  if (!owner.ok) return fail('ClaimInvalid', owner.error.detail, owner.error.field, owner.error.rule);
  const id = randomUUID();
  try {
    return await sql.begin(async (tx) => {
      const entry = await findEntry(tx, body.key, true);
      if (!entry || entry.key_type !== body.keyType) return fail('ClaimKeyNotFound', `no entry for key ${body.key}`);
      const sameOwner = entry.owner_tax_id === body.claimer.taxIdNumber;
      if (body.type === 'PORTABILITY' && sameOwner && entry.participant === caller) return fail('ClaimResultingEntryAlreadyExists', 'the key is already in your custody');
      if ((body.type === 'OWNERSHIP') === sameOwner) {
        return fail('ClaimTypeInconsistent', body.type === 'OWNERSHIP' ? 'the claimer already owns the key: ask for a portability' : 'the key belongs to another person: ask for an ownership claim');
      }
      const state = newClaim(body.type, caller, entry.participant, now.getTime());
      await insertClaim(tx, { id, key: body.key, keyType: body.keyType, claimerAccount: body.claimerAccount, claimer: body.claimer, keyOwnershipDate: entry.key_ownership_date }, state);
      return ok((await findClaim(tx, id))!);
    }) as Result<ClaimRow>;
  } catch (e) {
    if ((e as { code?: string }).code === '23505') return fail('ClaimAlreadyExistsForKey', `key ${body.key} already has an open claim`);
    throw e;
  }
}

/** Applies an action; on a change, performs its effect on entries in the same transaction. */
export async function actOnClaim(sql: Db, id: string, action: ClaimAction, caller: string, now: Date, requestId?: string): Promise<Result<ClaimRow>> {
  return (await sql.begin(async (tx) => {
    const row = await findClaim(tx, id, true);
    if (!row || (row.claimer_participant !== caller && row.donor_participant !== caller)) return fail('ClaimNotFound', `no claim ${id} of yours`);
    const applied = applyClaimAction(stateOf(row), action, caller, now.getTime());
    if (!applied.ok) return applied;
    if (!applied.value.changed) return ok(row);
    const next = applied.value.claim;
    if (action.kind === 'confirm') {
      // the donor's entry leaves DICT at confirmation
      const entry = await findEntry(tx, row.key, true);
      if (entry && entry.participant === row.donor_participant) await deleteEntry(tx, entry, now);
    }
    if (action.kind === 'complete') {
      if (!requestId) return fail('InvalidRequest', 'completing a claim creates an entry and needs its RequestId', 'RequestId', 'required');
      if (await findEntry(tx, row.key)) return fail('ClaimResultingEntryAlreadyExists', `key ${row.key} has an entry again`);
      const entry: Entry = { key: row.key, keyType: row.key_type as Entry['keyType'], account: row.claimer_account, owner: row.claimer };
      // portability keeps the owner's KeyOwnershipDate; ownership starts a new one
      await insertEntry(tx, entry, requestId, now, row.type === 'PORTABILITY' ? row.key_ownership_date : now);
    }
    await saveState(tx, id, next);
    return ok((await findClaim(tx, id))!);
  })) as Result<ClaimRow>;
}
