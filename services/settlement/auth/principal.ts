// Who is calling: a user (password grant) or a system (client credentials), with its scopes and tier.
// Access tokens are short-lived JWTs carrying exactly this; the gateway trusts nothing else per request.
import type { Clock } from '../../../shared/clock.ts';
import type { KeyRing } from './keys.ts';

export const SCOPES = ['dict:read', 'dict:write', 'payments:read', 'payments:write', 'settlement:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Access tokens live 15 min: short enough that a disabled user loses access quickly, long enough to batch. */
export const ACCESS_TOKEN_TTL_S = 15 * 60;
/** The public API's audience; the signed principal header sent to dict/spi uses INTERNAL_AUDIENCE. */
export const PUBLIC_AUDIENCE = 'fluxiq-api';
export const INTERNAL_AUDIENCE = 'fluxiq-internal';
/** An internal principal header is valid this long: it only has to cover one forwarded request. */
export const INTERNAL_TOKEN_TTL_S = 60;

export type PrincipalKind = 'user' | 'client';

export interface Principal {
  kind: PrincipalKind;
  /** user id (uuid) or client_id */
  sub: string;
  scopes: Scope[];
  tier: string;
  /** refresh-token family of a user session; logout and reuse detection revoke it */
  fam?: string;
  jti: string;
  /** epoch seconds */
  exp: number;
}

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

/** `admin` holds every scope. */
export function hasScope(p: Pick<Principal, 'scopes'>, scope: Scope): boolean {
  return p.scopes.includes(scope) || p.scopes.includes('admin');
}

export async function issueAccessToken(keys: KeyRing, clock: Clock, p: Omit<Principal, 'jti' | 'exp'>, audience = PUBLIC_AUDIENCE, ttlS = ACCESS_TOKEN_TTL_S): Promise<{ token: string; principal: Principal }> {
  const principal: Principal = { ...p, jti: crypto.randomUUID(), exp: Math.floor(clock.nowMs() / 1000) + ttlS };
  const token = await keys.sign({
    sub: principal.sub,
    kind: principal.kind,
    scope: principal.scopes.join(' '),
    tier: principal.tier,
    fam: principal.fam,
    jti: principal.jti,
    exp: principal.exp,
    aud: audience,
  });
  return { token, principal };
}

export async function verifyAccessToken(keys: KeyRing, clock: Clock, token: string, audience = PUBLIC_AUDIENCE): Promise<{ ok: true; principal: Principal } | { ok: false; reason: string }> {
  const v = await keys.verify(token, clock.now(), audience);
  if (!v.ok) return v;
  const c = v.claims;
  const kind = c.kind;
  if (typeof c.sub !== 'string' || (kind !== 'user' && kind !== 'client') || typeof c.scope !== 'string' || typeof c.tier !== 'string' || typeof c.jti !== 'string' || typeof c.exp !== 'number') {
    return { ok: false, reason: 'token lacks the gateway claims' };
  }
  const scopes = c.scope === '' ? [] : c.scope.split(' ').filter(isScope);
  return {
    ok: true,
    principal: { kind, sub: c.sub, scopes, tier: c.tier, jti: c.jti, exp: c.exp, ...(typeof c.fam === 'string' ? { fam: c.fam } : {}) },
  };
}

/**
 * The header dict and spi receive instead of the caller's token: a 60 s JWT for INTERNAL_AUDIENCE signed
 * with the same keyring, so an upstream verifies it with `verifyInternalPrincipal` and the same JWT_KEYS.
 * A public token is never accepted as an internal one (different audience), and vice versa.
 */
export const PRINCIPAL_HEADER = 'x-fluxiq-principal';

export function issueInternalPrincipal(keys: KeyRing, clock: Clock, p: Principal): Promise<string> {
  return issueAccessToken(keys, clock, { kind: p.kind, sub: p.sub, scopes: p.scopes, tier: p.tier, ...(p.fam ? { fam: p.fam } : {}) }, INTERNAL_AUDIENCE, INTERNAL_TOKEN_TTL_S).then((r) => r.token);
}

export function verifyInternalPrincipal(keys: KeyRing, clock: Clock, header: string) {
  return verifyAccessToken(keys, clock, header, INTERNAL_AUDIENCE);
}
