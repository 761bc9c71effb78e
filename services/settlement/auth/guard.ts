// Per-request checks of the protected area, in this order: a valid access token (401), a family not
// revoked (401), the principal's rate limit (429), then the route's scope (403, in the route).
// Everything here is in-process (HMAC verify, Map lookups) except a rate-limit lease every few requests.
import type { Clock } from '../../../shared/clock.ts';
import { HttpProblem } from '../../../shared/errors.ts';
import type { Gateway } from '../gateway.ts';
import type { LimitDecision } from '../ratelimit/lease.ts';
import { hasScope, verifyAccessToken, type Principal, type Scope } from './principal.ts';

const UNAUTHORIZED_HEADERS = { 'www-authenticate': 'Bearer realm="fluxiq"' };

export function bearerOf(authorization: string | null | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization.trim());
  return m?.[1];
}

/**
 * Tokens already verified, by their exact text: a portal sends the same token for 15 minutes, and
 * re-running the HMAC for each request is the gateway's largest per-request cost after the forward
 * itself. An entry is only used before the token's exp; revocation is checked on every request anyway.
 */
export const VERIFIED_TOKENS_MAX = 10_000;
const verified = new WeakMap<Gateway, Map<string, Principal>>();

async function verifiedPrincipal(gw: Gateway, clock: Clock, token: string): Promise<Principal> {
  let cache = verified.get(gw);
  if (cache === undefined) verified.set(gw, (cache = new Map()));
  const cached = cache.get(token);
  if (cached !== undefined && cached.exp * 1000 > clock.nowMs()) return cached;
  if (cached !== undefined) cache.delete(token);
  const v = await verifyAccessToken(gw.keys, clock, token);
  if (!v.ok) throw HttpProblem.of('Unauthorized', v.reason, undefined, { 'www-authenticate': 'Bearer realm="fluxiq", error="invalid_token"' });
  if (cache.size >= VERIFIED_TOKENS_MAX) cache.delete(cache.keys().next().value!); // oldest first
  cache.set(token, v.principal);
  return v.principal;
}

/** The principal of a valid, unrevoked access token, or a 401 problem thrown. */
export async function authenticate(gw: Gateway, clock: Clock, token: string | undefined): Promise<Principal> {
  if (token === undefined) throw HttpProblem.of('Unauthorized', 'an access token is required (Authorization: Bearer ...)', undefined, UNAUTHORIZED_HEADERS);
  const principal = await verifiedPrincipal(gw, clock, token);
  if (principal.fam !== undefined && gw.sessions.isRevoked(principal.fam)) {
    throw HttpProblem.of('Unauthorized', 'the session was revoked', undefined, { 'www-authenticate': 'Bearer realm="fluxiq", error="invalid_token"' });
  }
  return principal;
}

export function rateLimitHeaders(d: LimitDecision, nowMs: number): Record<string, string> {
  const resetS = Math.max(0, Math.ceil((d.resetMs - nowMs) / 1000));
  const headers: Record<string, string> = { 'ratelimit-limit': String(d.limit), 'ratelimit-remaining': String(Math.max(0, d.remaining)), 'ratelimit-reset': String(resetS) };
  if (!d.allowed) headers['retry-after'] = String(Math.max(1, Math.ceil(d.retryAfterMs / 1000)));
  return headers;
}

/** Spends one request of the principal's tier; throws 429 with Retry-After when the window is full. */
export async function spend(gw: Gateway, clock: Clock, p: Principal): Promise<Record<string, string>> {
  const nowMs = clock.nowMs();
  const d = await gw.limiter.take(`${p.kind}:${p.sub}`, gw.tiers.get(p.tier), nowMs);
  const headers = rateLimitHeaders(d, nowMs);
  if (!d.allowed) throw HttpProblem.of('RateLimited', `rate limit of ${d.limit} requests per window reached; retry in ${headers['retry-after']} s`, undefined, headers);
  return headers;
}

export function requireScope(p: Principal, scope: Scope): void {
  if (!hasScope(p, scope)) throw HttpProblem.of('Forbidden', `this route needs the scope ${scope}`);
}

/**
 * A transform hook for a protected plugin: the token is checked before the request's parameters and
 * body are validated, so a caller without a valid token learns nothing about a route's input rules
 * (401, never 400/422). The route's admitRequest then finds the token in the verified cache.
 */
export function tokenFirst(gw: Gateway, clock: Clock) {
  return async ({ headers }: { headers: Record<string, string | undefined> }): Promise<void> => {
    await authenticate(gw, clock, bearerOf(headers.authorization));
  };
}

/** The whole check for a route served here: token, rate limit (headers set on the answer), scope. */
export async function admitRequest(gw: Gateway, clock: Clock, authorization: string | undefined, set: { headers: Record<string, string | number> }, scope: Scope): Promise<Principal> {
  const principal = await authenticate(gw, clock, bearerOf(authorization));
  Object.assign(set.headers, await spend(gw, clock, principal));
  requireScope(principal, scope);
  return principal;
}
