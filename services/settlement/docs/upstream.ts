// The dict and spi services' own OpenAPI documents, merged into the gateway's under /dict and /spi.
// Each upstream serves its document at UPSTREAM_DOC_PATH (@elysiajs/openapi, path '/openapi'); the
// gateway fetches both at start and refreshes them on a timer. Every operation keeps its schemas and
// gains what the gateway adds: the scope it requires (from the route table), the gateway's own error
// answers, a prefixed operationId and its upstream as tag. Component schemas are renamed `<upstream>.<name>`
// (refs rewritten) so the two documents cannot collide.
// An upstream that never answered with a document is described from the static route table (one
// `/<upstream>/{path}` entry per method); one that answered before and is down now keeps its last document.
import type { Logger } from '../../../shared/telemetry.ts';
import type { Upstreams } from '../routing/proxy.ts';
import { matchRoute, type RouteRule, type UpstreamName } from '../routing/table.ts';

export const UPSTREAM_DOC_PATH = '/openapi/json';
/** One fetch of a document: an upstream slower than this is treated as down for this round. */
export const UPSTREAM_DOC_TIMEOUT_MS = 2_000;
/** Documents change with deployments; once a minute keeps the docs current at no real cost. */
export const UPSTREAM_DOC_REFRESH_MS = 60_000;
/** While an upstream has never answered (it starts after the gateway), it is asked again this often. */
export const UPSTREAM_DOC_RETRY_MS = 5_000;
/** A bigger document is refused (ours are a few hundred KB at most). */
export const UPSTREAM_DOC_BYTES_MAX = 4 * 1024 * 1024;
/** Nesting walked when rewriting $refs: JSON schemas here are a few levels deep. */
const REF_DEPTH_MAX = 64;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;
const GATEWAY_RESPONSES = {
  '401': { description: 'no, expired or invalid token (problem+json)' },
  '403': { description: 'the token lacks the scope' },
  '429': { description: 'rate limit reached; Retry-After and RateLimit-* headers' },
  '503': { description: 'the upstream is unavailable (circuit open)' },
  '504': { description: 'the upstream did not answer in time' },
};

type Json = Record<string, unknown>;
export type Paths = Record<string, Json>;

export interface MergedDocs {
  paths: Paths;
  schemas: Record<string, unknown>;
  /** where each upstream's paths come from now */
  sources: Record<UpstreamName, 'upstream' | 'static'>;
}

export interface UpstreamDocs {
  current(): MergedDocs;
  /** fetches every upstream's document now (each bounded by the timeout); never throws */
  refresh(): Promise<void>;
  /** refreshes on a timer until the returned function is called */
  start(): () => void;
}

/** `/<upstream>/{path}` per method, from the route table: what is known without the upstream's document. */
export function staticPaths(routes: readonly RouteRule[], upstream: UpstreamName): Paths {
  const paths: Paths = {};
  for (const r of routes.filter((x) => x.upstream === upstream)) {
    const path = `${r.prefix.replace(/\/$/, '')}/{path}`;
    paths[path] ??= { parameters: [{ name: 'path', in: 'path', required: true, schema: { type: 'string' }, description: `the ${r.upstream} service route` }] };
    for (const m of r.methods) {
      const method = m.toLowerCase();
      if (paths[path]![method] !== undefined) continue;
      paths[path]![method] = {
        tags: [r.upstream],
        summary: `Forwarded to the ${r.upstream} service (scope ${r.scope}, timeout ${r.timeoutMs} ms)`,
        security: [{ bearer: [r.scope] }],
        parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } }],
        responses: { '2XX': { description: 'the upstream answer, as it is' }, ...GATEWAY_RESPONSES },
      };
    }
  }
  return paths;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function renameRefs(value: unknown, upstream: UpstreamName, depth = 0): unknown {
  if (depth > REF_DEPTH_MAX) throw new Error(`the ${upstream} document nests deeper than ${REF_DEPTH_MAX}`);
  if (Array.isArray(value)) return value.map((v) => renameRefs(v, upstream, depth + 1));
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
      ? `#/components/schemas/${upstream}.${v.slice('#/components/schemas/'.length)}`
      : renameRefs(v, upstream, depth + 1);
  }
  return out;
}

/** An upstream's document as the gateway serves it: under its prefix, with scopes; operations the gateway does not forward are left out. */
export function prefixDocument(doc: Json, upstream: UpstreamName, routes: readonly RouteRule[]): { paths: Paths; schemas: Record<string, unknown> } {
  const paths: Paths = {};
  for (const [path, item] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
    if (!isObject(item)) continue;
    const publicPath = `/${upstream}${path === '/' ? '' : path}`;
    const out: Json = {};
    for (const [key, op] of Object.entries(renameRefs(item, upstream) as Json)) {
      const method = METHODS.find((m) => m === key);
      if (method === undefined) {
        out[key] = op; // path-level parameters, summary...
        continue;
      }
      // the route the gateway applies to a concrete path of this template ({key} → a segment)
      const rule = matchRoute(routes, method.toUpperCase(), publicPath.replace(/\{[^}]+\}/g, 'x'));
      if (rule === undefined || rule.upstream !== upstream || !isObject(op)) continue;
      out[key] = {
        ...op,
        tags: [upstream],
        ...(typeof op.operationId === 'string' ? { operationId: `${upstream}_${op.operationId}` } : {}),
        security: [{ bearer: [rule.scope] }],
        responses: { ...GATEWAY_RESPONSES, ...(isObject(op.responses) ? op.responses : {}) },
      };
    }
    if (METHODS.some((m) => out[m] !== undefined)) paths[publicPath] = out;
  }
  const schemas: Record<string, unknown> = {};
  const components = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {};
  for (const [name, schema] of Object.entries(components)) schemas[`${upstream}.${name}`] = renameRefs(schema, upstream);
  return { paths, schemas };
}

export function createUpstreamDocs(opts: { upstreams: Upstreams; routes: readonly RouteRule[]; logger: Logger; timeoutMs?: number; refreshMs?: number; retryMs?: number }): UpstreamDocs {
  const { upstreams, routes } = opts;
  const log = opts.logger.child({ component: 'upstream-docs' });
  const names = Object.keys(upstreams) as UpstreamName[];
  const fetched = new Map<UpstreamName, { paths: Paths; schemas: Record<string, unknown> }>();
  let merged: MergedDocs | undefined;

  async function fetchDoc(name: UpstreamName): Promise<void> {
    try {
      const res = await fetch(`${upstreams[name]}${UPSTREAM_DOC_PATH}`, { signal: AbortSignal.timeout(opts.timeoutMs ?? UPSTREAM_DOC_TIMEOUT_MS), redirect: 'manual' });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      if (text.length > UPSTREAM_DOC_BYTES_MAX) throw new Error(`document larger than ${UPSTREAM_DOC_BYTES_MAX} bytes`);
      const doc = JSON.parse(text) as unknown;
      if (!isObject(doc) || typeof doc.openapi !== 'string' || !isObject(doc.paths)) throw new Error('not an OpenAPI document');
      const wasStatic = !fetched.has(name);
      fetched.set(name, prefixDocument(doc, name, routes));
      merged = undefined;
      if (wasStatic) log.info({ upstream: name }, 'upstream OpenAPI document merged into /docs');
    } catch (err) {
      log.debug({ upstream: name, err: String((err as Error).message ?? err) }, fetched.has(name) ? 'upstream OpenAPI document not refreshed; keeping the last one' : 'upstream OpenAPI document unavailable; /docs lists its routes from the route table');
    }
  }

  return {
    current() {
      if (merged !== undefined) return merged;
      const paths: Paths = {};
      const schemas: Record<string, unknown> = {};
      const sources = {} as MergedDocs['sources'];
      for (const name of names) {
        const doc = fetched.get(name);
        Object.assign(paths, doc?.paths ?? staticPaths(routes, name));
        Object.assign(schemas, doc?.schemas ?? {});
        sources[name] = doc === undefined ? 'static' : 'upstream';
      }
      return (merged = { paths, schemas, sources });
    },
    async refresh() {
      await Promise.all(names.map(fetchDoc));
    },
    start() {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let stopped = false;
      const loop = () => {
        const all = names.every((n) => fetched.has(n));
        timer = setTimeout(() => void this.refresh().finally(() => { if (!stopped) loop(); }), all ? opts.refreshMs ?? UPSTREAM_DOC_REFRESH_MS : opts.retryMs ?? UPSTREAM_DOC_RETRY_MS);
      };
      loop();
      return () => {
        stopped = true;
        clearTimeout(timer);
      };
    },
  };
}
