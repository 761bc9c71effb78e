// pino JSON logs that never carry a full key, tax id or account number; prom-client metrics; the
// /health, /ready and /metrics routes every service mounts.
import { Elysia } from 'elysia';
import pino, { type Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type { Logger };

/** Field names whose values are personal or account data: logged masked (first 2 and last 2 kept). */
const SENSITIVE_FIELDS = new Set([
  'key', 'pixKey', 'taxId', 'taxIdNumber', 'cpf', 'cnpj', 'document', 'account', 'accountNumber',
  'number', 'payerId', 'ownerTaxIdNumber', 'phone', 'email', 'name', 'ownerName', 'tradeName',
]);
const SECRET_FIELDS = new Set(['password', 'secret', 'token', 'accessToken', 'refreshToken', 'authorization', 'clientSecret', 'privateKey']);
const MASK_DEPTH_MAX = 6;

export function mask(value: string): string {
  if (value.length <= 4) return '*'.repeat(value.length);
  return value.slice(0, 2) + '*'.repeat(Math.min(value.length - 4, 12)) + value.slice(-2);
}

/** Digits runs that look like CPF (11), CNPJ (14), phone (+55...) or long account numbers inside free text. */
const SENSITIVE_IN_TEXT = /(\+?\d[\d.\-/]{9,}\d)|([A-Za-z0-9._-]+@[A-Za-z0-9.-]+\.[a-z]{2,})/g;

export function maskText(text: string): string {
  return text.replace(SENSITIVE_IN_TEXT, (m) => mask(m));
}

export function maskDeep(value: unknown, depth = 0): unknown {
  if (depth > MASK_DEPTH_MAX || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  if (value instanceof Error) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_FIELDS.has(k)) out[k] = '[redacted]';
    else if (SENSITIVE_FIELDS.has(k) && (typeof v === 'string' || typeof v === 'number')) out[k] = mask(String(v));
    else out[k] = maskDeep(v, depth + 1);
  }
  return out;
}

export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => maskDeep(obj) as Record<string, unknown>,
      },
      hooks: {
        // free-text messages are scanned too: a key pasted into a message must not leak
        logMethod(args, method) {
          if (typeof args[0] === 'string') args[0] = maskText(args[0]);
          else if (typeof args[1] === 'string') args[1] = maskText(args[1]);
          return method.apply(this, args as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  /**
   * A cheap http_requests_total counter for one route: the returned function adds one to a plain
   * per-status slot (no label hashing per request); the counts are folded into httpRequests when the
   * registry is scraped.
   */
  routeCounter(method: string, route: string): (status: number) => void;
  httpDuration: Histogram<'method' | 'route'>;
  ready: Gauge<'dependency'>;
}

/** Statuses above this are counted as status 0 by routeCounter (HTTP defines 100–599). */
const HTTP_STATUS_MAX = 599;

export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const routes: { method: string; route: string; counts: Float64Array }[] = [];
  const httpRequests: Counter<'method' | 'route' | 'status'> = new Counter({
    name: 'http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry],
    collect() {
      for (const r of routes) {
        for (let status = 0; status < r.counts.length; status++) {
          const n = r.counts[status]!;
          if (n === 0) continue;
          r.counts[status] = 0;
          httpRequests.inc({ method: r.method, route: r.route, status }, n);
        }
      }
    },
  });
  return {
    registry,
    httpRequests,
    routeCounter(method, route) {
      const counts = new Float64Array(HTTP_STATUS_MAX + 1);
      routes.push({ method, route, counts });
      return (status) => {
        counts[status >= 0 && status <= HTTP_STATUS_MAX ? status : 0]!++;
      };
    },
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    ready: new Gauge({ name: 'dependency_ready', help: '1 when the dependency answered its last readiness check', labelNames: ['dependency'], registers: [registry] }),
  };
}

/** A readiness check resolves when the dependency answers; it is raced against READY_CHECK_MS_MAX. */
export type ReadyCheck = () => Promise<unknown>;
export const READY_CHECK_MS_MAX = 1_000;

async function runCheck(check: ReadyCheck): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${READY_CHECK_MS_MAX} ms`)), READY_CHECK_MS_MAX);
      }),
    ]);
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    clearTimeout(timer);
  }
}

/** /health (the process answers), /ready (every dependency answers), /metrics (Prometheus text). */
export function opsPlugin(opts: { service: string; metrics: Metrics; checks: Record<string, ReadyCheck> }) {
  const { service, metrics, checks } = opts;
  const started = Date.now();
  // one routeCounter per (route, method), made on first use: a request costs two Map reads and an
  // array increment, not a label hash
  const counters = new Map<string, Map<string, (status: number) => void>>();
  const countOf = (method: string, route: string) => {
    let byMethod = counters.get(route);
    if (byMethod === undefined) counters.set(route, (byMethod = new Map()));
    let count = byMethod.get(method);
    if (count === undefined) byMethod.set(method, (count = metrics.routeCounter(method, route)));
    return count;
  };
  return new Elysia({ name: `fluxiq-ops-${service}` })
    .onAfterResponse({ as: 'global' }, ({ request, route, set }) => {
      countOf(request.method, route || 'unmatched')(typeof set.status === 'number' ? set.status : 200);
    })
    .get('/health', () => ({ status: 'up', service, pid: process.pid, uptimeS: Math.round((Date.now() - started) / 1000) }))
    .get('/ready', async ({ set }) => {
      const names = Object.keys(checks);
      const results = await Promise.all(names.map((n) => runCheck(checks[n]!)));
      const failing: Record<string, string> = {};
      names.forEach((n, i) => {
        const err = results[i];
        metrics.ready.set({ dependency: n }, err === null ? 1 : 0);
        if (err !== null && err !== undefined) failing[n] = err;
      });
      const readyNow = Object.keys(failing).length === 0;
      set.status = readyNow ? 200 : 503;
      return { status: readyNow ? 'ready' : 'not-ready', service, dependencies: Object.fromEntries(names.map((n) => [n, failing[n] ?? 'ok'])) };
    })
    .get('/metrics', async ({ set }) => {
      set.headers['content-type'] = metrics.registry.contentType;
      return metrics.registry.metrics();
    });
}
