// Registering and removing our customers' keys: pure checks (key.ts), ownership proof (confirmations),
// the DICT call, then one transaction with pix_keys, the VSync, audit_log and the outbox event.
import { randomUUID } from 'node:crypto';
import { computeCid } from '../../../shared/dict/cid.ts';
import type { KeyType, OwnerType } from '../../../shared/dict/keys.ts';
import { fail, ok, type Result } from '../../../shared/result.ts';
import { consumeConfirmation } from '../confirmations/store.ts';
import { proveOwnership } from '../confirmations/service.ts';
import type { Actor, DictDeps } from '../deps.ts';
import type { DictEntry, EntryReason } from '../dictapi/types.ts';
import { appendAudit } from '../../../shared/audit.ts';
import { writeOutbox, type Outbox, type OutboxEvent } from '../events/outbox.ts';
import { applyCid } from '../sync/vsync-store.ts';
import { checkAccountLimit, checkNotLocked, checkRegistration, KEYS_NEEDING_CONFIRMATION } from './key.ts';
import type { RegisterKeyBody } from './model.ts';
import { countAccountKeys, deleteKeyRow, findKey, insertKey, lockAccount, type KeyRow } from './store.ts';

export function cidOfEntry(requestId: string, e: DictEntry): string {
  return computeCid(requestId, {
    keyType: e.keyType,
    key: e.key,
    ownerTaxIdNumber: e.owner.taxIdNumber,
    ownerName: e.owner.name,
    ownerTradeName: e.owner.tradeName ?? null,
    participant: e.account.participant,
    branch: e.account.branch,
    accountNumber: e.account.accountNumber,
    accountType: e.account.accountType,
  });
}

export function keyEvent(event: string, e: Pick<DictEntry, 'key' | 'keyType' | 'account'>, extra: Record<string, unknown>, id: string): OutboxEvent {
  return {
    id: `key-${event}:${id}`,
    subject: `pix.keys.${event}`,
    payload: { event, key: e.key, keyType: e.keyType, participant: e.account.participant, branch: e.account.branch, accountNumber: e.account.accountNumber, ...extra },
  };
}

export interface KeyService {
  register(body: RegisterKeyBody, who: Actor): Promise<Result<KeyRow>>;
  remove(key: string, reason: EntryReason, who: Actor): Promise<Result<KeyRow>>;
  /** writes a removal the claim flow or reconciliation already made in DICT */
  removeLocally(key: string, reason: EntryReason, who: Actor, extra?: Record<string, unknown>): Promise<KeyRow | undefined>;
  /** writes an entry DICT already holds (claim completed, reconciliation) */
  insertLocally(entry: DictEntry, requestId: string, reason: EntryReason, who: Actor, extra?: Record<string, unknown>): Promise<KeyRow>;
}

export function createKeyService(deps: DictDeps, outbox: Outbox): KeyService {
  const { sql, config, clock, dict } = deps;

  async function commitInsert(entry: DictEntry, requestId: string, reason: EntryReason, who: Actor, confirmationId: string | null, extra: Record<string, unknown> = {}): Promise<KeyRow> {
    const cid = cidOfEntry(requestId, entry);
    const at = clock.now();
    const ev = keyEvent('created', entry, { reason, requestId, ...extra }, requestId);
    const row = await sql.begin(async (tx) => {
      const inserted = await insertKey(tx, entry, cid, requestId, at);
      await applyCid(tx, entry.keyType, cid, 'add', at);
      if (confirmationId && !(await consumeConfirmation(tx, confirmationId, at))) throw new Error('confirmation consumed concurrently');
      await appendAudit(tx, { actor: who.actor, action: 'key.created', entityType: 'pix_key', entityId: entry.key, traceId: who.traceId, detail: { keyType: entry.keyType, reason, requestId, cid, ...extra } }, at);
      await writeOutbox(tx, ev, at);
      return inserted;
    });
    await outbox.publishCommitted([ev], who.traceId);
    return row;
  }

  async function commitRemove(key: string, reason: EntryReason, who: Actor, extra: Record<string, unknown> = {}): Promise<KeyRow | undefined> {
    const at = clock.now();
    let ev: OutboxEvent | undefined;
    const row = await sql.begin(async (tx) => {
      const removed = await deleteKeyRow(tx, key);
      if (!removed) return undefined;
      await applyCid(tx, removed.key_type, removed.cid, 'remove', at);
      await appendAudit(tx, { actor: who.actor, action: 'key.removed', entityType: 'pix_key', entityId: key, traceId: who.traceId, detail: { keyType: removed.key_type, reason, cid: removed.cid, ...extra } }, at);
      ev = keyEvent('removed', { key, keyType: removed.key_type as KeyType, account: { participant: removed.participant_ispb, branch: removed.branch, accountNumber: removed.account_number, accountType: removed.account_type as 'CACC', openingDate: removed.account_opened_at } }, { reason, ...extra }, `${removed.request_id}:${at.getTime()}`);
      await writeOutbox(tx, ev, at);
      return removed;
    });
    if (ev) await outbox.publishCommitted([ev], who.traceId);
    return row;
  }

  return {
    async register(body, who) {
      const shape = checkRegistration({ keyType: body.keyType, key: body.key, ownerType: body.owner.type as OwnerType, taxIdNumber: body.owner.taxIdNumber });
      if (!shape.ok) return shape;
      const key = shape.value.key;
      if (key !== undefined) {
        const existing = await findKey(sql, key);
        if (existing) {
          return existing.owner_tax_id === body.owner.taxIdNumber
            ? fail('EntryAlreadyExists', 'the key is already registered with us')
            : fail('EntryKeyOwnedByDifferentPerson', 'the key is registered with us for another person (an OWNERSHIP claim can take it over)');
        }
      }
      const confirmation = key === undefined || !KEYS_NEEDING_CONFIRMATION.has(body.keyType)
        ? ok(null)
        : await proveOwnership(deps, { keyType: body.keyType, key, branch: body.account.branch, accountNumber: body.account.accountNumber, ownerTaxId: body.owner.taxIdNumber, confirmation: body.confirmation });
      if (!confirmation.ok) return confirmation;
      const account = { participant: config.ispb, branch: body.account.branch, accountNumber: body.account.accountNumber, accountType: body.account.accountType };
      const reason = body.reason ?? 'USER_REQUESTED';
      const requestId = randomUUID();
      // The account lock is held across the DICT call so two registrations cannot both pass the
      // limit; it only serialises registrations of one account.
      const created = await sql.begin(async (tx) => {
        await lockAccount(tx, account);
        const limit = checkAccountLimit(await countAccountKeys(tx, account), body.owner.type);
        if (!limit.ok) return limit;
        return dict.createEntry({
          key,
          keyType: body.keyType,
          account: { ...account, openingDate: new Date(body.account.openingDate) },
          owner: { type: body.owner.type, taxIdNumber: body.owner.taxIdNumber, name: body.owner.name, tradeName: body.owner.tradeName },
          reason,
          requestId,
        });
      });
      if (!created.ok) return created;
      try {
        return ok(await commitInsert(created.value, requestId, reason, who, confirmation.value));
      } catch (e) {
        if ((e as { code?: string }).code !== '23505') throw e;
        // reconciliation wrote the very entry DICT just created (same RequestId) before our commit
        const row = await findKey(sql, created.value.key);
        return row?.request_id === requestId ? ok(row) : fail('EntryAlreadyExists', 'the key was registered concurrently');
      }
    },

    async remove(key, reason, who) {
      const row = await findKey(sql, key);
      if (!row) return fail('EntryNotFound', 'no such key registered with us');
      const unlocked = checkNotLocked(row.status);
      if (!unlocked.ok) return unlocked;
      const deleted = await dict.deleteEntry(key, reason);
      // already absent in DICT: our row is the stale one, remove it all the same
      if (!deleted.ok && deleted.error.code !== 'EntryNotFound') return deleted;
      const removed = await commitRemove(key, reason, who);
      return removed ? ok(removed) : fail('EntryNotFound', 'the key was removed concurrently');
    },

    removeLocally: (key, reason, who, extra) => commitRemove(key, reason, who, extra),
    insertLocally: (entry, requestId, reason, who, extra) => commitInsert(entry, requestId, reason, who, null, extra),
  };
}
