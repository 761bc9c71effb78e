// How the simulated PSPs behave, set through the control API (PUT /dict/rules) and kept in sandbox_meta so
// a restart keeps them. Defaults make them act like a diligent participant.
import type { Sql } from 'postgres';

export interface DictRules {
  /** as donor of a claim on one of their keys */
  donor: {
    acknowledge: boolean;
    /** USER_REQUESTED: confirm at once; DEFAULT: wait for ResolutionPeriodEnd, then confirm an ownership
     *  (DEFAULT_OPERATION) and cancel a portability for default; NEVER: do nothing after acknowledging */
    resolve: 'USER_REQUESTED' | 'DEFAULT' | 'NEVER';
  };
  /** as claimer: complete confirmed claims (ownership once CompletionPeriodEnd has passed) */
  claimer: { complete: boolean };
  infractions: { acknowledge: boolean; close: 'AGREED' | 'DISAGREED' | 'NEVER' };
  refunds: { close: 'TOTALLY_ACCEPTED' | 'REJECTED' | 'NEVER' };
}

export const DEFAULT_RULES: DictRules = {
  donor: { acknowledge: true, resolve: 'USER_REQUESTED' },
  claimer: { complete: true },
  infractions: { acknowledge: true, close: 'AGREED' },
  refunds: { close: 'TOTALLY_ACCEPTED' },
};

export async function readRules(sql: Sql<{ bigint: bigint }>): Promise<DictRules> {
  const [row] = await sql<{ value: string }[]>`select value from sandbox_meta where name = 'dict.rules'`;
  if (!row) return DEFAULT_RULES;
  const stored = JSON.parse(row.value) as Partial<DictRules>;
  return {
    donor: { ...DEFAULT_RULES.donor, ...stored.donor },
    claimer: { ...DEFAULT_RULES.claimer, ...stored.claimer },
    infractions: { ...DEFAULT_RULES.infractions, ...stored.infractions },
    refunds: { ...DEFAULT_RULES.refunds, ...stored.refunds },
  };
}

export async function writeRules(sql: Sql<{ bigint: bigint }>, patch: Partial<{ [K in keyof DictRules]: Partial<DictRules[K]> }>): Promise<DictRules> {
  const current = await readRules(sql);
  const next: DictRules = {
    donor: { ...current.donor, ...patch.donor },
    claimer: { ...current.claimer, ...patch.claimer },
    infractions: { ...current.infractions, ...patch.infractions },
    refunds: { ...current.refunds, ...patch.refunds },
  };
  await sql`insert into sandbox_meta (name, value) values ('dict.rules', ${JSON.stringify(next)}) on conflict (name) do update set value = excluded.value`;
  return next;
}
