// The public routes the gateway forwards: which upstream, which scope, how long to wait. First match wins.
// Reads are short; a payment waits for BACEN's pacs.002 (the sandbox answers within 10 s), so it gets more.
import type { Scope } from '../auth/principal.ts';

export type UpstreamName = 'dict' | 'spi';
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteRule {
  methods: readonly Method[];
  /** public path prefix the rule matches (`/dict/` covers every dict route) */
  prefix: string;
  upstream: UpstreamName;
  scope: Scope;
  timeoutMs: number;
}

const READ_TIMEOUT_MS = 2_000;
const WRITE_TIMEOUT_MS = 5_000;
/** pacs.008 → pacs.002 round trip through SPI (10 s in the sandbox) plus signing and queueing. */
const PAYMENT_TIMEOUT_MS = 15_000;
const READS = ['GET'] as const;
const WRITES = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;

export const ROUTES: readonly RouteRule[] = [
  { methods: WRITES, prefix: '/spi/payments', upstream: 'spi', scope: 'payments:write', timeoutMs: PAYMENT_TIMEOUT_MS },
  { methods: WRITES, prefix: '/spi/returns', upstream: 'spi', scope: 'payments:write', timeoutMs: PAYMENT_TIMEOUT_MS },
  { methods: WRITES, prefix: '/spi/', upstream: 'spi', scope: 'payments:write', timeoutMs: WRITE_TIMEOUT_MS },
  { methods: READS, prefix: '/spi/', upstream: 'spi', scope: 'payments:read', timeoutMs: READ_TIMEOUT_MS },
  { methods: WRITES, prefix: '/dict/', upstream: 'dict', scope: 'dict:write', timeoutMs: WRITE_TIMEOUT_MS },
  { methods: READS, prefix: '/dict/', upstream: 'dict', scope: 'dict:read', timeoutMs: READ_TIMEOUT_MS },
];

export function matchRoute(routes: readonly RouteRule[], method: string, path: string): RouteRule | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  return routes.find((r) => (r.methods as readonly string[]).includes(m) && path.startsWith(r.prefix));
}

/** `/dict/keys/x` → `/keys/x` on the dict service: each service mounts its routes at its root. */
export function upstreamPath(path: string, upstream: UpstreamName): string {
  return path.slice(upstream.length + 1) || '/';
}
