// Entries of the simulated PSPs, generated deterministically (entry i is always the same) and inserted in
// batches with their CID events, so a load test finds at least 100,000 keys. Seeding only adds the
// entries not yet there (sandbox_meta 'dict.seeded' counts them), so restarts and repeats are cheap.
import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import { computeCid } from '../../../../shared/dict/cid.ts';
import { cnpjCheckDigits, cpfCheckDigits, type KeyType } from '../../../../shared/dict/keys.ts';
import type { Entry } from '../../../../shared/dict/messages.ts';
import { SANDBOX_PSPS } from '../../../../shared/participants.ts';
import { cidEntryOf } from '../entries/store.ts';

/** Entries `./fluxiq up` seeds for the load test. */
export const DICT_SEED_DEFAULT = 100_000;
/** One call never seeds more than this (a typo should not fill the disk). */
export const DICT_SEED_MAX = 1_000_000;
/** Rows per INSERT: big enough to amortise the round trip, small enough for postgres.js parameters. */
const SEED_BATCH_ROWS = 10_000;
const SEED_KEY_TYPES: readonly KeyType[] = ['CPF', 'CNPJ', 'PHONE', 'EMAIL', 'EVP'];

function uuidFrom(label: string): string {
  const h = createHash('sha256').update(label).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const cpf = (base9: string) => base9 + cpfCheckDigits(base9);

/** The i-th seeded entry and the RequestId that "created" it. */
export function seedEntryAt(i: number): { entry: Entry; requestId: string } {
  const psp = SANDBOX_PSPS[i % SANDBOX_PSPS.length]!.ispb;
  const keyType = SEED_KEY_TYPES[i % SEED_KEY_TYPES.length]!;
  // number ranges chosen so no seeded CPF is all-equal and none collides with another type's tax ids
  const naturalTaxId = cpf(String(300_000_000 + i));
  const account = { participant: psp, branch: '0001', accountNumber: String(i).padStart(10, '0'), accountType: 'CACC' as const, openingDate: '2020-01-02T03:00:00.000Z' };
  const natural = { type: 'NATURAL_PERSON' as const, taxIdNumber: naturalTaxId, name: `Cliente Simulado ${i}` };
  let entry: Entry;
  switch (keyType) {
    case 'CPF': {
      const key = cpf(String(100_000_000 + i));
      entry = { key, keyType, account, owner: { ...natural, taxIdNumber: key } };
      break;
    }
    case 'CNPJ': {
      const base = String(200_000_000_000 + i);
      const key = base + cnpjCheckDigits(base);
      entry = { key, keyType, account, owner: { type: 'LEGAL_PERSON', taxIdNumber: key, name: `Empresa Simulada ${i} Ltda`, tradeName: `Simulada ${i}` } };
      break;
    }
    case 'PHONE':
      entry = { key: `+5511${900_000_000 + i}`, keyType, account, owner: natural };
      break;
    case 'EMAIL':
      entry = { key: `cliente${i}@psp${psp}.sandbox.pix`, keyType, account, owner: natural };
      break;
    case 'EVP':
      entry = { key: uuidFrom(`evp:${i}`), keyType, account, owner: natural };
      break;
  }
  return { entry, requestId: uuidFrom(`request:${i}`) };
}

export async function seededCount(sql: Sql<{ bigint: bigint }>): Promise<number> {
  const [row] = await sql<{ value: string }[]>`select value from sandbox_meta where name = 'dict.seeded'`;
  return row ? Number(row.value) : 0;
}

/** Seeds entries [already seeded, count); returns how many were inserted and the total. */
export async function seedDict(sql: Sql<{ bigint: bigint }>, count: number, now: Date): Promise<{ inserted: number; total: number }> {
  if (!Number.isInteger(count) || count < 0 || count > DICT_SEED_MAX) throw new Error(`seed count must be 0..${DICT_SEED_MAX}`);
  const from = await seededCount(sql);
  let inserted = 0;
  for (let start = from; start < count; start += SEED_BATCH_ROWS) {
    const end = Math.min(count, start + SEED_BATCH_ROWS);
    const cols = { key: [] as string[], keyType: [] as string[], participant: [] as string[], accountNumber: [] as string[], ownerType: [] as string[], taxId: [] as string[], name: [] as string[], tradeName: [] as (string | null)[], requestId: [] as string[], cid: [] as string[] };
    for (let i = start; i < end; i++) {
      const { entry, requestId } = seedEntryAt(i);
      cols.key.push(entry.key);
      cols.keyType.push(entry.keyType);
      cols.participant.push(entry.account.participant);
      cols.accountNumber.push(entry.account.accountNumber);
      cols.ownerType.push(entry.owner.type);
      cols.taxId.push(entry.owner.taxIdNumber);
      cols.name.push(entry.owner.name);
      cols.tradeName.push(entry.owner.tradeName ?? null);
      cols.requestId.push(requestId);
      cols.cid.push(computeCid(requestId, cidEntryOf(entry)));
    }
    await sql.begin(async (tx) => {
      // one statement: the rows actually inserted (not already there) get their ADDED events
      const [row] = await tx<{ n: bigint }[]>`
        with ins as (
          insert into dict_entries (key, key_type, participant, branch, account_number, account_type, opening_date, owner_type, owner_tax_id,
                                    owner_name, owner_trade_name, request_id, cid, created_at, key_ownership_date, updated_at)
          select k, t, p, '0001', a, 'CACC', '2020-01-02T03:00:00Z', ot, tax, n, tn, r::uuid, c, ${now}, ${now}, ${now}
          from unnest(${cols.key}::text[], ${cols.keyType}::text[], ${cols.participant}::text[], ${cols.accountNumber}::text[], ${cols.ownerType}::text[],
                      ${cols.taxId}::text[], ${cols.name}::text[], ${cols.tradeName as string[]}::text[], ${cols.requestId}::text[], ${cols.cid}::text[])
               as s(k, t, p, a, ot, tax, n, tn, r, c)
          on conflict (key) do nothing
          returning participant, key_type, cid),
        ev as (insert into dict_cid_events (participant, key_type, type, cid, at) select participant, key_type, 'ADDED', cid, ${now} from ins)
        select count(*) as n from ins`;
      await tx`insert into sandbox_meta (name, value) values ('dict.seeded', ${String(end)}) on conflict (name) do update set value = excluded.value`;
      inserted += Number(row!.n);
    });
  }
  return { inserted, total: Math.max(from, count) };
}
