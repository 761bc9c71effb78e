// Anti-fraud counters returned with a lookup and by owner statistics (spec getEntry "Dados anti-fraude"):
// settlements, reported frauds (infraction reports not cancelled) and confirmed frauds (closed AGREED),
// over the last 3 days (d3), 30 days (d30) and the 6 months before the current one (m6). Settlement
// counts are quantised up to 0, 1, 5, 10, 50, 100, 500 ...
import type { Sql } from 'postgres';
import type { Counter } from '../../../../shared/dict/messages.ts';

const DAY_MS = 86_400_000;

export function quantise(n: number): number {
  if (n <= 1) return n;
  let step = 1;
  for (;;) {
    if (n <= step * 5) return step * 5;
    if (n <= step * 10) return step * 10;
    step *= 10;
  }
}

interface Windows {
  d3: Date;
  d30: Date;
  m6From: Date;
  m6To: Date;
}

function windowsAt(now: Date): Windows {
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  return {
    d3: new Date(now.getTime() - 3 * DAY_MS),
    d30: new Date(now.getTime() - 30 * DAY_MS),
    m6From: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 6, 1)),
    m6To: monthStart,
  };
}

type Scope = { by: 'KEY'; key: string } | { by: 'OWNER'; taxId: string } | { by: 'ACCOUNT'; participant: string; branch: string | null; accountNumber: string };

async function countersFor(sql: Sql<{ bigint: bigint }>, scope: Scope, now: Date): Promise<Counter[]> {
  const w = windowsAt(now);
  // transactions credited to keys in the scope (by key, by the key's current owner, or by its account)
  const keys =
    scope.by === 'KEY'
      ? sql`select ${scope.key}::text as key`
      : scope.by === 'OWNER'
        ? sql`select key from dict_entries where owner_tax_id = ${scope.taxId}`
        : sql`select key from dict_entries where participant = ${scope.participant} and branch is not distinct from ${scope.branch} and account_number = ${scope.accountNumber}`;
  const [row] = await sql<Record<string, bigint>[]>`
    with tx as (select t.* from dict_transactions t where t.credited_key in (${keys})),
         ir as (select r.status, r.analysis_result, t.settled_at from dict_infraction_reports r join tx t on t.end_to_end_id = r.transaction_id where r.status <> 'CANCELLED')
    select
      (select count(*) from tx where settled_at >= ${w.d3}) as s3,
      (select count(*) from tx where settled_at >= ${w.d30}) as s30,
      (select count(*) from tx where settled_at >= ${w.m6From} and settled_at < ${w.m6To}) as s6,
      (select count(*) from ir where settled_at >= ${w.d3}) as r3,
      (select count(*) from ir where settled_at >= ${w.d30}) as r30,
      (select count(*) from ir where settled_at >= ${w.m6From} and settled_at < ${w.m6To}) as r6,
      (select count(*) from ir where analysis_result = 'AGREED' and settled_at >= ${w.d3}) as c3,
      (select count(*) from ir where analysis_result = 'AGREED' and settled_at >= ${w.d30}) as c30,
      (select count(*) from ir where analysis_result = 'AGREED' and settled_at >= ${w.m6From} and settled_at < ${w.m6To}) as c6`;
  const n = (k: string) => Number(row![k]);
  const s = (k: string) => String(quantise(n(k)));
  return [
    { type: 'SETTLEMENTS', by: scope.by, d3: s('s3'), d30: s('s30'), m6: s('s6') },
    { type: 'REPORTED_FRAUDS', by: scope.by, d3: String(n('r3')), d30: String(n('r30')), m6: String(n('r6')) },
    { type: 'CONFIRMED_FRAUDS', by: scope.by, d3: String(n('c3')), d30: String(n('c30')), m6: String(n('c6')) },
  ];
}

export async function entryCounters(
  sql: Sql<{ bigint: bigint }>,
  e: { key: string; owner_tax_id: string; participant: string; branch: string | null; account_number: string },
  now: Date,
): Promise<Counter[]> {
  const [byKey, byOwner, byAccount] = await Promise.all([
    countersFor(sql, { by: 'KEY', key: e.key }, now),
    countersFor(sql, { by: 'OWNER', taxId: e.owner_tax_id }, now),
    countersFor(sql, { by: 'ACCOUNT', participant: e.participant, branch: e.branch, accountNumber: e.account_number }, now),
  ]);
  return [...byKey, ...byOwner, ...byAccount];
}

export async function ownerCounters(sql: Sql<{ bigint: bigint }>, taxId: string, now: Date): Promise<Counter[]> {
  return (await countersFor(sql, { by: 'OWNER', taxId }, now)).map(({ by: _by, ...c }) => c);
}
