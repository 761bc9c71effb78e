// JSON views of entries. Dates leave as ISO strings.
import type { DictEntry } from '../dictapi/types.ts';
import type { EntryView } from './model.ts';
import { entryOfRow, type KeyRow } from './store.ts';

export function viewOfEntry(e: DictEntry, status?: string): EntryView {
  return {
    key: e.key,
    keyType: e.keyType,
    account: { participant: e.account.participant, branch: e.account.branch, accountNumber: e.account.accountNumber, accountType: e.account.accountType, openingDate: e.account.openingDate.toISOString() },
    owner: { type: e.owner.type, taxIdNumber: e.owner.taxIdNumber, name: e.owner.name, ...(e.owner.tradeName ? { tradeName: e.owner.tradeName } : {}) },
    creationDate: e.creationDate.toISOString(),
    keyOwnershipDate: e.keyOwnershipDate.toISOString(),
    ...(status ? { status } : {}),
  };
}

export const viewOfRow = (r: KeyRow): EntryView => viewOfEntry(entryOfRow(r), r.status);
