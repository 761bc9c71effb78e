// The protected area: /dict/* and /spi/* forwarded to their services. Each request is authenticated,
// rate-limited and checked against the route table's scope before it is forwarded.
import { Elysia } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import { isTraceId, newTraceId, TRACE_ID_HEADER } from '../../../shared/nats/trace.ts';
import type { ServiceDeps } from '../../../shared/service.ts';
import { authenticate, bearerOf, requireScope, spend } from '../auth/guard.ts';
import { INTERNAL_TOKEN_TTL_S, issueInternalPrincipal, type Principal } from '../auth/principal.ts';
import type { Gateway } from '../gateway.ts';
import { matchRoute } from './table.ts';

export function traceIdFrom(request: Request): string {
  const given = request.headers.get(TRACE_ID_HEADER) ?? request.headers.get('x-request-id');
  return given !== null && isTraceId(given) ? given : newTraceId();
}

/** An internal principal header is reused while it has at least this long left (it lives INTERNAL_TOKEN_TTL_S). */
const INTERNAL_HEADER_REUSE_MS_MIN = 30_000;
/** Internal headers kept, one per access token in use. */
const INTERNAL_HEADERS_MAX = 10_000;

export function proxyRoutes(deps: ServiceDeps, gw: Gateway) {
  const { clock } = deps;
  const internal = new Map<string, { header: string; expMs: number }>();
  const internalHeader = async (principal: Principal): Promise<string> => {
    const hit = internal.get(principal.jti);
    if (hit !== undefined && hit.expMs - clock.nowMs() >= INTERNAL_HEADER_REUSE_MS_MIN) return hit.header;
    const header = await issueInternalPrincipal(gw.keys, clock, principal);
    if (internal.size >= INTERNAL_HEADERS_MAX) internal.delete(internal.keys().next().value!);
    internal.set(principal.jti, { header, expMs: clock.nowMs() + INTERNAL_TOKEN_TTL_S * 1000 });
    return header;
  };
  const forward = async ({ request, set }: { request: Request; set: { headers: Record<string, string | number> } }) => {
    const url = new URL(request.url);
    const rule = matchRoute(gw.routes, request.method, url.pathname);
    const principal = await authenticate(gw, clock, bearerOf(request.headers.get('authorization')));
    const limitHeaders = await spend(gw, clock, principal);
    Object.assign(set.headers, limitHeaders);
    if (rule === undefined) throw HttpProblem.of('MethodNotAllowed', `${request.method} is not routed for ${url.pathname}`);
    requireScope(principal, rule.scope);
    const response = await gw.proxy.forward({
      rule, request, path: url.pathname, search: url.search, traceId: traceIdFrom(request),
      principalHeader: await internalHeader(principal), actor: `${principal.kind}:${principal.sub}`,
    });
    for (const [k, v] of Object.entries(limitHeaders)) response.headers.set(k, v);
    return response;
  };
  const hook = { parse: 'none' as const, detail: { hide: true } };
  return new Elysia({ name: 'gateway-proxy' })
    .all('/dict/*', forward, hook)
    .all('/spi/*', forward, hook);
}
