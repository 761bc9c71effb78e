// POST /auth/token (OAuth 2.0-style, JSON body): grant_type password (portal users), client_credentials
// (systems) and refresh_token (rotation). POST /auth/logout revokes the caller's session family.
// GET /auth/me tells a caller who the gateway thinks it is.
import { Elysia, t } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import type { Result } from '../../../shared/result.ts';
import type { ServiceDeps } from '../../../shared/service.ts';
import type { Gateway } from '../gateway.ts';
import { verifyClient, verifyUser, type Account } from './credentials.ts';
import { authenticate, bearerOf, rateLimitHeaders } from './guard.ts';
import { ACCESS_TOKEN_TTL_S, issueAccessToken, isScope, type Principal, type Scope } from './principal.ts';

/** Login attempts per username (or client_id) in LOGIN_WINDOW_MS: a person mistypes a few times, a guesser many. */
export const LOGIN_ATTEMPTS_PER_ACCOUNT_MAX = 10;
/** Login attempts per source address in LOGIN_WINDOW_MS: room for an office behind one NAT. */
export const LOGIN_ATTEMPTS_PER_IP_MAX = 100;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;

/** The brute-force throttle's bounds (the defaults above; a deployment or a test may set others through connectGateway). */
export interface LoginLimits {
  perAccountMax: number;
  perIpMax: number;
  windowMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perAccountMax: LOGIN_ATTEMPTS_PER_ACCOUNT_MAX, perIpMax: LOGIN_ATTEMPTS_PER_IP_MAX, windowMs: LOGIN_WINDOW_MS };

const TokenRequest = t.Object({
  grant_type: t.Union([t.Literal('password'), t.Literal('client_credentials'), t.Literal('refresh_token')]),
  username: t.Optional(t.String({ minLength: 3, maxLength: 64 })),
  password: t.Optional(t.String({ minLength: 1, maxLength: 256 })),
  client_id: t.Optional(t.String({ minLength: 3, maxLength: 64 })),
  client_secret: t.Optional(t.String({ minLength: 1, maxLength: 256 })),
  refresh_token: t.Optional(t.String({ minLength: 1, maxLength: 128 })),
  /** space-separated subset of the principal's scopes; all of them when absent */
  scope: t.Optional(t.String({ maxLength: 256 })),
});

const TokenResponse = t.Object({
  access_token: t.String(),
  token_type: t.Literal('Bearer'),
  expires_in: t.Number(),
  scope: t.String(),
  refresh_token: t.Optional(t.String()),
});

const required = (value: string | undefined, field: string): string => {
  if (value === undefined) throw HttpProblem.of('InvalidRequest', `${field} is required for this grant_type`, [{ field, rule: 'required' }]);
  return value;
};

function narrow(held: Scope[], requested: string | undefined): Scope[] {
  if (requested === undefined || requested.trim() === '') return held;
  const asked = requested.trim().split(/\s+/);
  const refused = asked.filter((s) => !isScope(s) || !held.includes(s));
  if (refused.length > 0) throw HttpProblem.of('InvalidRequest', `scope not granted: ${refused.join(' ')}`, [{ field: 'scope', rule: 'granted' }]);
  return asked as Scope[];
}

export function authRoutes(deps: ServiceDeps, gw: Gateway) {
  const { clock, sql } = deps;

  async function throttle(accountKey: string, ip: string): Promise<void> {
    const nowMs = clock.nowMs();
    const { perAccountMax, perIpMax, windowMs } = gw.loginLimits;
    for (const [id, limit] of [[`acct:${accountKey}`, perAccountMax], [`ip:${ip}`, perIpMax]] as const) {
      const d = await gw.loginLimiter.limit(id, { limit, windowMs, nowMs });
      if (!d.allowed) {
        const headers = rateLimitHeaders({ ...d, limit }, nowMs);
        throw HttpProblem.of('RateLimited', `too many login attempts; retry in ${headers['retry-after']} s`, undefined, headers);
      }
    }
  }

  const unwrap = (r: Result<Account>): Account => {
    if (!r.ok) throw HttpProblem.of('Unauthorized', r.error.detail);
    return r.value;
  };

  async function grant(body: typeof TokenRequest.static, ip: string) {
    switch (body.grant_type) {
      case 'password': {
        const username = required(body.username, 'username');
        await throttle(username, ip);
        const account = unwrap(await verifyUser(sql, username, required(body.password, 'password')));
        const scopes = narrow(account.scopes, body.scope);
        const { refreshToken, family } = await gw.sessions.start({ kind: 'user', sub: account.sub, scopes, tier: account.tier });
        return issue({ kind: 'user', sub: account.sub, scopes, tier: account.tier, fam: family }, refreshToken);
      }
      case 'client_credentials': {
        const clientId = required(body.client_id, 'client_id');
        await throttle(clientId, ip);
        const account = unwrap(await verifyClient(sql, clientId, required(body.client_secret, 'client_secret')));
        return issue({ kind: 'client', sub: account.sub, scopes: narrow(account.scopes, body.scope), tier: account.tier }, undefined);
      }
      case 'refresh_token': {
        const rotated = await gw.sessions.rotate(required(body.refresh_token, 'refresh_token'));
        if (!rotated.ok) {
          const why = { unknown: 'the refresh token is not valid', revoked: 'the session was revoked', reused: 'the refresh token was already used: the session is revoked' }[rotated.reason];
          throw HttpProblem.of('Unauthorized', why);
        }
        const p = rotated.principal;
        return issue({ kind: p.kind, sub: p.sub, scopes: p.scopes, tier: p.tier, fam: rotated.family }, rotated.refreshToken);
      }
    }
  }

  async function issue(p: Omit<Principal, 'jti' | 'exp'>, refreshToken: string | undefined) {
    const { token } = await issueAccessToken(gw.keys, clock, p);
    return {
      access_token: token,
      token_type: 'Bearer' as const,
      expires_in: ACCESS_TOKEN_TTL_S,
      scope: p.scopes.join(' '),
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
    };
  }

  return new Elysia({ name: 'gateway-auth', prefix: '/auth', detail: { tags: ['auth'] } })
    .post('/token', ({ body, request, server, set }) => {
      set.headers['cache-control'] = 'no-store';
      return grant(body, server?.requestIP(request)?.address ?? 'unknown');
    }, {
      body: TokenRequest,
      response: { 200: TokenResponse },
      detail: { summary: 'Issue an access token (password, client_credentials or refresh_token grant)', security: [] },
    })
    .post('/logout', async ({ headers, set }) => {
      const p = await authenticate(gw, clock, bearerOf(headers.authorization));
      if (p.fam !== undefined) await gw.sessions.revoke(p.fam);
      set.status = 204;
    }, { detail: { summary: 'Revoke the session (its refresh tokens and access tokens)' } })
    .get('/me', async ({ headers }) => {
      const p = await authenticate(gw, clock, bearerOf(headers.authorization));
      return { kind: p.kind, sub: p.sub, scopes: p.scopes, tier: p.tier, expiresAt: new Date(p.exp * 1000).toISOString() };
    }, { detail: { summary: 'The authenticated principal' } });
}
