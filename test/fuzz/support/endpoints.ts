// The endpoint fuzz harness: requests for any route an Elysia app lists (its path, params, query, headers
// and body schemas drive the generators), and the properties every answer must hold, checked against
// the service's real Postgres schema and Redis prefix:
//   - never a 5xx, never an unhandled rejection, never a polluted Object.prototype;
//   - a refusal (4xx) is application/problem+json (RFC 9457) with its own status, and a 400 names the
//     field and the rule it broke (violations) unless its type is one about state, not input;
//   - a refusal writes nothing: every table of the schema (row count and content hash) and the set of
//     Redis keys under the prefix are the same after it as before (a route may name keys a refusal is
//     meant to leave, e.g. a login throttle counting failures).
import { expect, test } from 'bun:test';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import type { Sql } from 'postgres';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE } from '../../../shared/errors.ts';
import { bodyOf, contentType, encodeSegment, headerText, idempotencyKey, oddSegment, queryOf, validOf, type Hints, type Schema } from './inputs.ts';

export interface RouteRef {
  method: string;
  path: string;
  hooks: { body?: Schema; params?: Schema; query?: Schema; headers?: Schema };
}

export const routeName = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

/** The routes as the app itself lists them, so a route added later is fuzzed without editing the test. */
export function routesOf(app: { routes: { method: string; path: string; hooks?: unknown }[] }): RouteRef[] {
  return app.routes.map((r) => {
    const h = (r.hooks ?? {}) as Record<string, Schema | undefined>;
    return { method: r.method, path: r.path, hooks: { body: h.body, params: h.params, query: h.query, headers: h.headers } };
  });
}

export interface Family {
  name: string;
  match(r: RouteRef): boolean;
  runs: number;
}

/**
 * Splits the routes into families (first match wins; the last family should match everything so a new
 * route lands somewhere) and checks the exclusions name routes that exist, so the list cannot go stale.
 */
export function planOf(routes: RouteRef[], families: Family[], excluded: Record<string, string>) {
  const byFamily = new Map<string, RouteRef[]>(families.map((f) => [f.name, []]));
  const unplanned: string[] = [];
  for (const r of routes) {
    if (excluded[routeName(r)] !== undefined) continue;
    const family = families.find((f) => f.match(r));
    if (family === undefined) unplanned.push(routeName(r));
    else byFamily.get(family.name)!.push(r);
  }
  const names = new Set(routes.map(routeName));
  const stale = Object.keys(excluded).filter((k) => !names.has(k));
  return { byFamily, unplanned, stale };
}

export interface FuzzRequest {
  route: string;
  method: string;
  /** path and query, percent-encoded as sent */
  target: string;
  headers: Record<string, string>;
  body?: string;
}

const ANY_METHOD = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface RequestContext {
  hints: Hints;
  /** headers every request of the service may carry (authorization, actor ...), valid or odd */
  headers: fc.Arbitrary<Record<string, string | undefined>>;
  /** what a wildcard (`*`) stands for */
  wildcard?: fc.Arbitrary<string>;
  /** longest path and query sent (cut there), where the service's own HTTP server would refuse longer ones */
  targetCharsMax?: number;
}

/** A request for one route: path parameters, query, headers and body each valid or odd. */
export function requestOf(route: RouteRef, ctx: RequestContext): fc.Arbitrary<FuzzRequest> {
  const params: Record<string, Schema> = route.hooks.params?.properties ?? {};
  const segments = route.path.split('/').map((seg) => {
    if (seg.startsWith(':')) {
      const name = seg.slice(1);
      const valid = validOf(params[name] ?? { type: 'string', minLength: 1 }, ctx.hints, name).map((v) => encodeSegment(String(v)));
      return fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: oddSegment });
    }
    if (seg === '*') return ctx.wildcard ?? fc.array(oddSegment, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));
    return fc.constant(seg);
  });
  const path = fc.tuple(...segments).map((s) => s.join('/') || '/');
  const methods = route.method === 'ALL' ? ANY_METHOD : [route.method];
  const routeHeaders = route.hooks.headers === undefined ? fc.constant({}) : fc.oneof(
    { weight: 4, arbitrary: validOf(route.hooks.headers, ctx.hints) as fc.Arbitrary<Record<string, unknown>> },
    { weight: 1, arbitrary: fc.record({ 'idempotency-key': idempotencyKey }) },
  );
  const extraHeaders = fc.record({
    'x-actor': fc.option(headerText(), { nil: undefined }),
    'x-trace-id': fc.option(headerText(), { nil: undefined }),
    'x-request-id': fc.option(headerText(), { nil: undefined }),
    'pi-payerid': fc.option(fc.oneof(ctx.hints.payerId ?? headerText(20), headerText(20)), { nil: undefined }),
    'pi-endtoendid': fc.option(headerText(40), { nil: undefined }),
  }, { requiredKeys: [] });
  return fc.record({
    method: fc.constantFrom(...methods),
    path,
    query: fc.oneof({ weight: 2, arbitrary: fc.constant('') }, { weight: 1, arbitrary: queryOf(route.hooks.query, ctx.hints) }),
    base: ctx.headers,
    routeHeaders,
    extraHeaders: fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extraHeaders }),
    contentType,
    body: bodyOf(route.hooks.body, ctx.hints),
  }).map((r) => {
    const withBody = WITH_BODY.has(r.method) && (route.hooks.body !== undefined || r.method !== 'DELETE');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...r.extraHeaders, ...r.base, ...r.routeHeaders, ...(withBody ? { 'content-type': r.contentType } : {}) })) {
      // a header carries visible ASCII and spaces (Fetch refuses the rest); a schema-drawn value is kept to them
      if (v !== undefined && v !== null) headers[k] = String(v).replace(/[^\x20-\x7e]/g, '?');
    }
    const target = (r.path + (r.query ? `?${r.query}` : '')).slice(0, ctx.targetCharsMax ?? Infinity);
    const req: FuzzRequest = { route: routeName(route), method: r.method, target, headers, ...(withBody ? { body: r.body } : {}) };
    // fast-check prints a counterexample through this: cut to readable size, as the failure message is
    return Object.defineProperty(req, fc.toStringMethod, { value: () => describeRequest(req), enumerable: false });
  });
}

/** The requests of a family: a route drawn first, then its request (shrinks towards the first route). */
export function familyRequests(routes: RouteRef[], ctx: RequestContext): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(...routes.map((r) => requestOf(r, ctx)));
}

// ---------------------------------------------------------------------------------------------------

/** Rows of every table (count and content hash) plus the Redis keys under the prefix. */
interface Snapshot {
  tables: Map<string, string>;
  keys: Set<string>;
}

export interface ProbeOptions {
  /** in-process: app.handle */
  handle(request: Request): Response | Promise<Response>;
  sql: Sql<any>;
  schema: string;
  redis: Redis;
  redisPrefix: string;
  /** Redis keys a refusal is meant to add or remove (a throttle counting failed logins, a rate limit spent) */
  refusalMayLeave?(key: string, status: number, change: 'added' | 'removed'): boolean;
  /**
   * A refusal whose rows are written on purpose (an outcome recorded, not an input refused), given the
   * tables it changed: true lets it pass
   */
  refusalMayWrite?(request: FuzzRequest, status: number, tables: string[]): boolean | Promise<boolean>;
  /** 400 problem types that are about state, not input: they need not name a field */
  stateProblems?: readonly string[];
  /**
   * An accepted request may go on writing after its answer (a payment waits for its pacs.002): the
   * state is read again every `settleQuietMs` until two reads agree, for at most `settleMsMax`.
   */
  settleQuietMs?: number;
  settleMsMax?: number;
}

export interface Outcome {
  status: number;
  type?: string;
}

/**
 * The fuzz files keep their Redis keys in a logical database of their own. Checking that a refusal left
 * no key is a SCAN for the test prefix, and in the shared database 0 that SCAN walks every key of every
 * other test and of a running platform (60 000 keys took 250 ms on a loaded box) for every request.
 */
export const FUZZ_REDIS_DB = 13;

/** Builds a fixture whose config (read from the environment while it is built) selects FUZZ_REDIS_DB. */
export async function inFuzzRedisDb<T>(build: () => Promise<T>): Promise<T> {
  const saved = process.env.REDIS_URL;
  const url = new URL(saved ?? 'redis://127.0.0.1:6379');
  url.pathname = `/${FUZZ_REDIS_DB}`;
  process.env.REDIS_URL = url.toString();
  try {
    return await build();
  } finally {
    if (saved === undefined) delete process.env.REDIS_URL;
    else process.env.REDIS_URL = saved;
  }
}

/** Keys SCAN asks for per step while listing the prefix. */
const SCAN_COUNT = 1_000;
/** Characters of a request or answer quoted in a failure message. */
const QUOTE_CHARS_MAX = 400;

const quote = (s: string | undefined) => (s === undefined ? '(none)' : s.length > QUOTE_CHARS_MAX ? `${s.slice(0, QUOTE_CHARS_MAX)}… (${s.length} chars)` : s);

export function describeRequest(r: FuzzRequest): string {
  return `${r.method} ${quote(r.target)}\n  headers ${quote(JSON.stringify(r.headers))}\n  body ${quote(r.body)}`;
}

export function createProbe(o: ProbeOptions) {
  const stateProblems = new Set((o.stateProblems ?? []).map((code) => PROBLEM_TYPE_BASE + code));
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => void rejections.push(reason);
  const onException = (error: unknown) => void rejections.push(error);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);

  // Each table is first read cheaply as its row count and newest xmin; only a table whose pair moved since
  // the last reading has its content hashed again. The reading compares count and hash, so an upsert that
  // rewrites a row to itself (a new xmin, the same content) is not taken for a write.
  let names: string[] | undefined;
  const hashed = new Map<string, { version: string; value: string }>();
  const q = (id: string) => `"${id.replaceAll('"', '""')}"`;
  const from = (t: string) => `${q(o.schema)}.${q(t)}`;
  async function tables(): Promise<Map<string, string>> {
    names ??= (await o.sql<{ relname: string }[]>`
      select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${o.schema} and c.relkind in ('r', 'p') and not c.relispartition order by c.relname`).map((r) => r.relname);
    const versions = await o.sql.unsafe<{ t: string; v: string }[]>(names.map((t) =>
      `select '${t}' as t, count(*)::text || ':' || coalesce(max(xmin::text::bigint), 0)::text as v from ${from(t)}`).join('\nunion all '));
    const moved = versions.filter((r) => hashed.get(r.t)?.version !== r.v);
    if (moved.length > 0) {
      const values = await o.sql.unsafe<{ t: string; v: string }[]>(moved.map(({ t }) =>
        `select '${t}' as t, count(*)::text || ':' || md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as v from ${from(t)} x`).join('\nunion all '));
      const byTable = new Map(values.map((r) => [r.t, r.v]));
      for (const { t, v } of moved) hashed.set(t, { version: v, value: byTable.get(t)! });
    }
    return new Map(versions.map((r) => [r.t, hashed.get(r.t)!.value]));
  }
  async function keys(): Promise<Set<string>> {
    const out = new Set<string>();
    const pattern = `${o.redisPrefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
    let cursor = '0';
    do {
      const [next, found] = await o.redis.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      cursor = next;
      for (const k of found) out.add(k);
    } while (cursor !== '0');
    return out;
  }
  let snapshots = 0;
  let snapshotMs = 0;
  const snapshot = async (): Promise<Snapshot> => {
    const t0 = performance.now();
    const [t, k] = await Promise.all([tables(), keys()]);
    snapshots++;
    snapshotMs += performance.now() - t0;
    return { tables: t, keys: k };
  };
  const same = (a: Snapshot, b: Snapshot) => a.keys.size === b.keys.size && [...a.keys].every((k) => b.keys.has(k)) && [...a.tables].every(([t, v]) => b.tables.get(t) === v);

  async function settle(): Promise<Snapshot> {
    const quiet = o.settleQuietMs ?? 0;
    const end = performance.now() + (o.settleMsMax ?? 3_000);
    let last = await snapshot();
    for (;;) {
      if (quiet > 0) await Bun.sleep(quiet);
      const now = await snapshot();
      if (same(last, now) || performance.now() > end) return now;
      last = now;
    }
  }

  let before: Snapshot | undefined;
  const stats = new Map<string, Map<number, number>>();

  /** Sends one request and checks every property; throws (for fast-check to shrink) on the first broken one. */
  async function check(r: FuzzRequest): Promise<Outcome> {
    const prior = before ?? (await snapshot());
    const request = new Request(`http://fuzz.test${r.target}`, { method: r.method, headers: r.headers, ...(r.body !== undefined ? { body: r.body } : {}) });
    const res = await o.handle(request);
    const text = await res.text();
    const fail = (why: string): never => {
      throw new Error(`${why}\n  request: ${describeRequest(r)}\n  answer: ${res.status} ${res.headers.get('content-type')} ${quote(text)}`);
    };
    const byStatus = stats.get(r.route) ?? new Map<number, number>();
    byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
    stats.set(r.route, byStatus);

    if (rejections.length > 0) fail(`unhandled rejection or exception: ${String(rejections.splice(0)[0])}`);
    if (({} as Record<string, unknown>).polluted !== undefined) fail('Object.prototype was polluted');
    if (res.status >= 500) fail(`a ${res.status}`);
    if (res.status < 400) {
      // a read answers after its writes, if any (GET /positions/pi keeps the camt.052): one reading will do
      before = r.method === 'GET' ? await snapshot() : await settle();
      return { status: res.status };
    }
    if (!(res.headers.get('content-type') ?? '').startsWith(PROBLEM_CONTENT_TYPE)) fail('a refusal that is not problem+json');
    let problem: { type?: unknown; title?: unknown; status?: unknown; detail?: unknown; violations?: unknown };
    try {
      problem = JSON.parse(text);
    } catch {
      return fail('a problem+json body that is not JSON');
    }
    if (typeof problem.type !== 'string' || typeof problem.title !== 'string' || typeof problem.detail !== 'string') fail('a problem without type, title or detail');
    if (problem.status !== res.status) fail('a problem whose status is not the answer\'s');
    if (res.status === 400 && !stateProblems.has(problem.type as string)) {
      const v = problem.violations;
      const named = Array.isArray(v) && v.length > 0 && v.every((x) => typeof x?.field === 'string' && x.field !== '' && typeof x?.rule === 'string' && x.rule !== '');
      if (!named) fail('a 400 that does not name the field and the rule');
    }
    const after = await snapshot();
    const tablesChanged = [...after.tables].filter(([t, v]) => prior.tables.get(t) !== v).map(([t]) => t);
    const keysAdded = [...after.keys].filter((k) => !prior.keys.has(k) && !(o.refusalMayLeave?.(k, res.status, 'added') ?? false));
    const keysRemoved = [...prior.keys].filter((k) => !after.keys.has(k) && !(o.refusalMayLeave?.(k, res.status, 'removed') ?? false));
    before = after;
    if (tablesChanged.length > 0 && !(await o.refusalMayWrite?.(r, res.status, tablesChanged))) fail(`a refusal wrote rows: ${tablesChanged.join(', ')}`);
    if (keysAdded.length > 0 || keysRemoved.length > 0) fail(`a refusal changed Redis keys: +${keysAdded.join(' +')} -${keysRemoved.join(' -')}`);
    return { status: res.status, type: problem.type as string };
  }

  return {
    check,
    /** a fresh reading before a family, once what setup or the last family started has settled */
    async reset() {
      before = await settle();
    },
    /** answers by route and status, for the run's summary */
    stats,
    /** state readings taken and their mean time, for the run's summary */
    readings: () => ({ count: snapshots, meanMs: snapshots === 0 ? 0 : snapshotMs / snapshots }),
    close() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

export type Probe = ReturnType<typeof createProbe>;

/** Runs the family's requests through the probe; a failure prints the shrunk request and the seed. */
export async function fuzzFamily(probe: Probe, routes: RouteRef[], ctx: RequestContext, runs: number): Promise<void> {
  expect(routes.length).toBeGreaterThan(0);
  await probe.reset();
  await fc.assert(fc.asyncProperty(familyRequests(routes, ctx), async (r) => {
    await probe.check(r);
  }), { numRuns: runs });
}

/** One line per route: how its answers were spread over statuses (is the fuzz reaching past validation?). */
export function summary(probe: Probe): string {
  const { count, meanMs } = probe.readings();
  return `  (${count} state readings, ${meanMs.toFixed(1)} ms each)\n` + [...probe.stats].sort(([a], [b]) => a.localeCompare(b))
    .map(([route, byStatus]) => `  ${route}: ${[...byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`).join('\n');
}

/** What one service's fuzz file declares; the getters read what its beforeAll built. */
export interface EndpointFuzzPlan {
  families: Family[];
  excluded: Record<string, string>;
  /** routes the enumeration must have seen (an empty list would prove nothing) */
  mustSee: string[];
  routes: () => RouteRef[];
  probe: () => Probe;
  context: () => RequestContext;
  familyTimeoutMs: number;
}

/** The tests every endpoint fuzz file runs: the coverage check, then one property per family. */
export function endpointFuzzTests(plan: EndpointFuzzPlan): void {
  test('every route the app lists is fuzzed by a family or excluded with a reason', () => {
    const routes = plan.routes();
    const planned = planOf(routes, plan.families, plan.excluded);
    expect(planned.unplanned).toEqual([]);
    expect(planned.stale).toEqual([]);
    const fuzzed = [...planned.byFamily.values()].flat().map(routeName);
    expect(fuzzed.length + Object.keys(plan.excluded).length).toBe(routes.length);
    expect(fuzzed).toEqual(expect.arrayContaining(plan.mustSee));
  });

  for (const family of plan.families) {
    test(`${family.name}: no 5xx, refusals are problem+json naming the field, and write nothing`, async () => {
      const members = planOf(plan.routes(), plan.families, plan.excluded).byFamily.get(family.name)!;
      await fuzzFamily(plan.probe(), members, plan.context(), family.runs);
    }, plan.familyTimeoutMs);
  }
}
