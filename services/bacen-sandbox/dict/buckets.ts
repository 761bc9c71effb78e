// The sandbox's token buckets, in Postgres so a restart keeps them: the arithmetic is shared/dict/buckets.ts.
// A request runs only when every bucket it draws from holds a token, and is charged after its answer, by
// status (the spec's counting rules). An empty bucket answers 429 RateLimited with the PI-RateLimit headers.
import type { Sql } from 'postgres';
import type { Clock } from '../../../shared/clock.ts';
import { charge, costOfResponse, credit, fullBucket, hasTokens, refill, secondsToRefill, type Bucket, type BucketPolicy } from '../../../shared/dict/buckets.ts';
import { HttpProblem } from '../../../shared/errors.ts';
import { XmlReply } from '../signature/xml-reply.ts';

export interface Metered {
  scopeKey: string;
  policy: BucketPolicy;
}

export const pspScope = (ispb: string, policy: BucketPolicy): Metered => ({ scopeKey: `PSP:${ispb}:${policy.name}`, policy });
/** PI-PayerId is pseudonymous per participant, so the user scope includes the participant. */
export const userScope = (ispb: string, payerId: string, policy: BucketPolicy): Metered => ({ scopeKey: `USER:${ispb}:${payerId.toLowerCase()}:${policy.name}`, policy });

export function createBucketStore(sql: Sql<{ bigint: bigint }>, clock: Clock) {
  async function read(m: Metered): Promise<Bucket> {
    const now = clock.nowMs();
    const [row] = await sql<{ tokens: number; refilled_at_ms: bigint }[]>`select tokens, refilled_at_ms from dict_buckets where scope_key = ${m.scopeKey}`;
    return row ? refill({ tokens: row.tokens, refilledAtMs: Number(row.refilled_at_ms) }, m.policy, now) : fullBucket(m.policy, now);
  }

  async function update(m: Metered, f: (b: Bucket, now: number) => Bucket): Promise<Bucket> {
    return sql.begin(async (tx) => {
      const now = clock.nowMs();
      const [row] = await tx<{ tokens: number; refilled_at_ms: bigint }[]>`select tokens, refilled_at_ms from dict_buckets where scope_key = ${m.scopeKey} for update`;
      const before = row ? { tokens: row.tokens, refilledAtMs: Number(row.refilled_at_ms) } : fullBucket(m.policy, now);
      const after = f(before, now);
      await tx`insert into dict_buckets (scope_key, tokens, refilled_at_ms) values (${m.scopeKey}, ${after.tokens}, ${after.refilledAtMs})
               on conflict (scope_key) do update set tokens = excluded.tokens, refilled_at_ms = excluded.refilled_at_ms`;
      return after;
    }) as Promise<Bucket>;
  }

  function headers(m: Metered, b: Bucket): Record<string, string> {
    const prefix = m.policy.scope === 'USER' ? 'PI-RateLimit-Client' : 'PI-RateLimit-Participant';
    return { [`${prefix}Policy`]: m.policy.name, [`${prefix}Remaining`]: String(Math.floor(b.tokens)), [`${prefix}Reset`]: String(secondsToRefill(b, m.policy, clock.nowMs())) };
  }

  /** Refuses with 429 when any bucket is empty; nothing is charged for a refused request. All the scopes are
   *  read with one statement (a DICT lookup draws from two: the participant's and the end user's). */
  async function admit(scopes: readonly Metered[]): Promise<Bucket[]> {
    if (scopes.length === 0) return [];
    const now = clock.nowMs();
    const rows = await sql<{ scope_key: string; tokens: number; refilled_at_ms: bigint }[]>`
      select scope_key, tokens, refilled_at_ms from dict_buckets where scope_key = any(${scopes.map((m) => m.scopeKey)})`;
    const found = new Map(rows.map((r) => [r.scope_key, r]));
    const states: Bucket[] = [];
    for (const m of scopes) {
      const row = found.get(m.scopeKey);
      const b = row ? refill({ tokens: row.tokens, refilledAtMs: Number(row.refilled_at_ms) }, m.policy, now) : fullBucket(m.policy, now);
      if (!hasTokens(b)) throw HttpProblem.of('RateLimited', `bucket ${m.policy.name} is empty`, undefined, headers(m, b));
      states.push(b);
    }
    return states;
  }

  /** Charges every scope for an answer with `status`; returns the buckets after. The scopes that cost
   *  anything are locked (in key order: two requests never deadlock), charged and written back in one
   *  transaction of one read and one write, not one transaction per scope. */
  async function chargeFor(scopes: readonly Metered[], status: number, before: readonly Bucket[]): Promise<Bucket[]> {
    const charged = scopes.map((m, i) => ({ m, i, cost: costOfResponse(m.policy.name, status) })).filter((c) => c.cost > 0);
    if (charged.length === 0) return [...before];
    const after = [...before];
    await sql.begin(async (tx) => {
      const now = clock.nowMs();
      const keys = [...new Set(charged.map((c) => c.m.scopeKey))].sort();
      const rows = await tx<{ scope_key: string; tokens: number; refilled_at_ms: bigint }[]>`
        select scope_key, tokens, refilled_at_ms from dict_buckets where scope_key = any(${keys}) order by scope_key for update`;
      const current = new Map<string, Bucket>(rows.map((r) => [r.scope_key, { tokens: r.tokens, refilledAtMs: Number(r.refilled_at_ms) }]));
      for (const c of charged) {
        const b = current.get(c.m.scopeKey) ?? fullBucket(c.m.policy, now);
        const next = charge(b, c.m.policy, c.cost, now);
        current.set(c.m.scopeKey, next);
        after[c.i] = next;
      }
      const written = keys.map((k) => [k, current.get(k)!] as const);
      await tx`insert into dict_buckets (scope_key, tokens, refilled_at_ms)
        select * from unnest(${written.map(([k]) => k)}::text[], ${written.map(([, b]) => b.tokens)}::float8[], ${written.map(([, b]) => String(b.refilledAtMs))}::bigint[])
        on conflict (scope_key) do update set tokens = excluded.tokens, refilled_at_ms = excluded.refilled_at_ms`;
    });
    return after;
  }

  const headersOf = (scopes: readonly Metered[], states: readonly Bucket[]) => Object.assign({}, ...scopes.map((m, i) => headers(m, states[i]!))) as Record<string, string>;

  /** Runs `handler` under the buckets: admit, run, charge by the answer's status (also for problems),
   *  and tell the caller the buckets' state in the PI-RateLimit-* headers. */
  async function metered(scopes: readonly Metered[], handler: () => Promise<XmlReply>): Promise<XmlReply> {
    const before = await admit(scopes);
    try {
      const out = await handler();
      const after = await chargeFor(scopes, out.status, before);
      return new XmlReply(out.xml, out.profile, out.status, { ...out.headers, ...headersOf(scopes, after) });
    } catch (e) {
      const status = e instanceof HttpProblem ? e.problem.status : 500;
      const after = await chargeFor(scopes, status, before);
      if (e instanceof HttpProblem) Object.assign(e.headers, headersOf(scopes, after));
      throw e;
    }
  }

  return {
    read,
    metered,
    admit,
    chargeFor,
    credit: (m: Metered, amount: number) => update(m, (b, now) => credit(b, m.policy, amount, now)),
    headers,
  };
}

export type BucketStore = ReturnType<typeof createBucketStore>;
