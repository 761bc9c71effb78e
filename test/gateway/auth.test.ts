import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createKeyRing, parseKeys } from '../../services/settlement/auth/keys.ts';
import { ACCESS_TOKEN_TTL_S, issueAccessToken } from '../../services/settlement/auth/principal.ts';
import { LOGIN_ATTEMPTS_PER_ACCOUNT_MAX } from '../../services/settlement/auth/routes.ts';
import { startGateway, TEST_JWT_KEYS, type GatewayHarness } from './support.ts';

let gw: GatewayHarness;
let userId: string;

beforeAll(async () => {
  gw = await startGateway('auth');
  userId = await gw.addUser('ana.portal', 'correct horse battery staple', ['dict:read', 'payments:read']);
  await gw.addClient('erp-system', 'client-secret-0123456789', ['payments:write', 'payments:read']);
});
afterAll(async () => { await gw.stop(); });

const login = () => gw.token({ grant_type: 'password', username: 'ana.portal', password: 'correct horse battery staple' });
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

async function expectProblem(res: Response, status: number, type: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  const body = (await res.json()) as { type: string; status: number; detail: string };
  expect(body.type).toEndWith(type);
  expect(body.status).toBe(status);
  return body;
}

describe('login and token use', () => {
  test('a user logs in with a password and gets a short-lived bearer token with their scopes and a refresh token', async () => {
    const res = await login();
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_S, scope: 'dict:read payments:read' });
    expect(typeof body.refresh_token).toBe('string');
    const header = JSON.parse(Buffer.from(String(body.access_token).split('.')[0]!, 'base64url').toString()) as Record<string, string>;
    expect(header).toMatchObject({ alg: 'HS256', kid: 'k2026b' }); // the first key of JWT_KEYS signs
    const me = await gw.fetch('/auth/me', { token: String(body.access_token) });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ kind: 'user', sub: userId, scopes: ['dict:read', 'payments:read'], tier: 'standard' });
  });

  test('a wrong password and an unknown user get the same 401 problem', async () => {
    await expectProblem(await gw.token({ grant_type: 'password', username: 'ana.portal', password: 'wrong' }), 401, 'Unauthorized');
    await expectProblem(await gw.token({ grant_type: 'password', username: 'nobody.here', password: 'wrong' }), 401, 'Unauthorized');
  });

  test('a system gets a token with client credentials, and no refresh token', async () => {
    const res = await gw.token({ grant_type: 'client_credentials', client_id: 'erp-system', client_secret: 'client-secret-0123456789', scope: 'payments:read' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.scope).toBe('payments:read');
    expect(body.refresh_token).toBeUndefined();
    expect(await (await gw.fetch('/auth/me', { token: String(body.access_token) })).json()).toMatchObject({ kind: 'client', sub: 'erp-system', scopes: ['payments:read'] });
  });

  test('asking for a scope the principal does not hold is refused', async () => {
    const body = await expectProblem(await gw.token({ grant_type: 'client_credentials', client_id: 'erp-system', client_secret: 'client-secret-0123456789', scope: 'admin' }), 400, 'InvalidRequest');
    expect(body).toMatchObject({ violations: [{ field: 'scope', rule: 'granted' }] });
  });

  test('a grant without its fields is a 400 naming the missing field', async () => {
    const body = await expectProblem(await gw.token({ grant_type: 'password', username: 'ana.portal' }), 400, 'InvalidRequest');
    expect(body).toMatchObject({ violations: [{ field: 'password', rule: 'required' }] });
  });
});

describe('refresh tokens rotate, and a replayed one revokes the family', () => {
  test('each refresh returns a new refresh token; the previous one is spent', async () => {
    const first = (await (await login()).json()) as { refresh_token: string; access_token: string };
    const second = await gw.token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(second.status).toBe(200);
    const secondBody = (await second.json()) as { refresh_token: string; access_token: string; scope: string };
    expect(secondBody.refresh_token).not.toBe(first.refresh_token);
    expect(secondBody.scope).toBe('dict:read payments:read');
    const third = await gw.token({ grant_type: 'refresh_token', refresh_token: secondBody.refresh_token });
    expect(third.status).toBe(200);
  });

  test('replaying a rotated refresh token revokes the whole family: its newest refresh and access tokens stop working', async () => {
    const first = (await (await login()).json()) as { refresh_token: string };
    const rotated = (await (await gw.token({ grant_type: 'refresh_token', refresh_token: first.refresh_token })).json()) as { refresh_token: string; access_token: string };
    expect((await gw.fetch('/auth/me', { token: rotated.access_token })).status).toBe(200);

    const replay = await expectProblem(await gw.token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }), 401, 'Unauthorized');
    expect(replay.detail).toContain('already used');
    await expectProblem(await gw.token({ grant_type: 'refresh_token', refresh_token: rotated.refresh_token }), 401, 'Unauthorized');
    await expectProblem(await gw.fetch('/auth/me', { token: rotated.access_token }), 401, 'Unauthorized');
    // another session of the same user is untouched
    const other = (await (await login()).json()) as { access_token: string };
    expect((await gw.fetch('/auth/me', { token: other.access_token })).status).toBe(200);
  });

  test('logout revokes the session: the access token and the refresh token are refused afterwards', async () => {
    const s = (await (await login()).json()) as { refresh_token: string; access_token: string };
    const out = await gw.fetch('/auth/logout', { method: 'POST', token: s.access_token });
    expect(out.status).toBe(204);
    await expectProblem(await gw.fetch('/auth/me', { token: s.access_token }), 401, 'Unauthorized');
    await expectProblem(await gw.token({ grant_type: 'refresh_token', refresh_token: s.refresh_token }), 401, 'Unauthorized');
  });

  test('a made-up refresh token is refused', async () => {
    await expectProblem(await gw.token({ grant_type: 'refresh_token', refresh_token: `${'A'.repeat(22)}.${'B'.repeat(43)}` }), 401, 'Unauthorized');
  });
});

describe('tokens that are not ours or no longer valid are 401 problem+json', () => {
  const claims = () => ({ sub: userId, kind: 'user', scope: 'dict:read', tier: 'standard', jti: crypto.randomUUID(), aud: 'fluxiq-api', iss: 'fluxiq-gateway' });

  test('an expired token', async () => {
    const { token } = await issueAccessToken(gw.gateway.keys, gw.clock, { kind: 'user', sub: userId, scopes: ['dict:read'], tier: 'standard' });
    expect((await gw.fetch('/auth/me', { token })).status).toBe(200);
    gw.clock.advance(ACCESS_TOKEN_TTL_S * 1000 + 1_000);
    const body = await expectProblem(await gw.fetch('/auth/me', { token }), 401, 'Unauthorized');
    expect(body.detail).toContain('expired');
  });

  test('a token signed with a secret we do not know (forged), under a kid we do know', async () => {
    const forger = createKeyRing([{ kid: 'k2026b', secret: 'forged-secret-0123456789abcdefghijklmnopqrstu' }]);
    const token = await forger.sign({ ...claims(), exp: Math.floor(gw.clock.nowMs() / 1000) + 60 });
    await expectProblem(await gw.fetch('/auth/me', { token }), 401, 'Unauthorized');
  });

  test('an unsigned token (alg none)', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT', kid: 'k2026b' })}.${b64({ ...claims(), exp: Math.floor(gw.clock.nowMs() / 1000) + 60 })}.`;
    const body = await expectProblem(await gw.fetch('/auth/me', { token }), 401, 'Unauthorized');
    expect(body.detail).toContain('algorithm');
  });

  test('a token under a kid the keyring does not hold', async () => {
    const other = createKeyRing([{ kid: 'k1999', secret: 'test-secret-b-0123456789abcdefghijklmnopqrstuv' }]);
    const token = await other.sign({ ...claims(), exp: Math.floor(gw.clock.nowMs() / 1000) + 60 });
    const body = await expectProblem(await gw.fetch('/auth/me', { token }), 401, 'Unauthorized');
    expect(body.detail).toContain('key id');
  });

  test('no token at all', async () => {
    const res = await gw.fetch('/auth/me');
    await expectProblem(res, 401, 'Unauthorized');
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
  });

  test('key rotation: a token signed by the older key is still accepted while that key is in JWT_KEYS', async () => {
    const older = createKeyRing(parseKeys(TEST_JWT_KEYS).slice(1));
    expect(older.currentKid).toBe('k2026a');
    const token = await older.sign({ ...claims(), exp: Math.floor(gw.clock.nowMs() / 1000) + 60 });
    expect((await gw.fetch('/auth/me', { token })).status).toBe(200);
  });
});

describe('brute force', () => {
  test(`after ${LOGIN_ATTEMPTS_PER_ACCOUNT_MAX} attempts on one account further attempts are 429 with Retry-After, even with the right password`, async () => {
    await gw.addUser('target.user', 'the-right-password', ['dict:read']);
    for (let i = 0; i < LOGIN_ATTEMPTS_PER_ACCOUNT_MAX; i++) {
      expect((await gw.token({ grant_type: 'password', username: 'target.user', password: `guess-${i}` })).status).toBe(401);
    }
    const blocked = await gw.token({ grant_type: 'password', username: 'target.user', password: 'the-right-password' });
    await expectProblem(blocked, 429, 'RateLimited');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // the throttle is per account: another user logs in normally
    expect((await login()).status).toBe(200);
  });
});
