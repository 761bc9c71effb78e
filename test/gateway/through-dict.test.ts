// One path through the real dict service (its app, Postgres schema and the BACEN sandbox over mTLS):
// the gateway authenticates, checks the scope, forwards, and dict records who did it.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { account, dictFixture, naturalPerson, type DictFixture } from '../dict/support.ts';
import { startGateway, type GatewayHarness } from './support.ts';

let dict: DictFixture;
let dictServer: ReturnType<typeof Bun.serve>;
let gw: GatewayHarness;
let userId: string;
let token: string;

beforeAll(async () => {
  dict = await dictFixture('via-gateway');
  dictServer = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (req) => dict.app.handle(req) });
  gw = await startGateway('through-dict', { upstreams: { dict: `http://127.0.0.1:${dictServer.port}`, spi: 'http://127.0.0.1:9' } });
  userId = await gw.addUser('key.manager', 'key-manager-password', ['dict:read', 'dict:write']);
  token = ((await (await gw.token({ grant_type: 'password', username: 'key.manager', password: 'key-manager-password' })).json()) as { access_token: string }).access_token;
}, 30_000);
afterAll(async () => {
  await gw?.stop();
  dictServer?.stop(true);
  await dict?.close();
});

describe('through the real dict service', () => {
  test('a key registered through the gateway is in DICT, readable through the gateway, and audited under the portal user', async () => {
    const body = { keyType: 'CPF', key: '52998224725', account: account('7001'), owner: naturalPerson('52998224725') };
    const created = await gw.fetch('/dict/keys', { method: 'POST', token, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ key: '52998224725', keyType: 'CPF' });

    const read = await gw.fetch('/dict/keys/52998224725', { token });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ key: '52998224725' });

    const [audit] = await dict.deps.sql<{ actor: string }[]>`select actor from audit_log where entity_id like ${'%52998224725%'} or detail::text like ${'%52998224725%'} order by at desc limit 1`;
    expect(audit?.actor).toBe(`user:${userId}`);
  });

  test('dict\'s own problem answers come back through the gateway unchanged', async () => {
    const res = await gw.fetch('/dict/keys/11144477735', { token });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(((await res.json()) as { type: string }).type).toEndWith('/EntryNotFound');
  });
});
