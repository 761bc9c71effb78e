// Password and client-secret checks against Postgres. Both are argon2id hashes (Bun.password). An unknown
// username or client still costs one hash verification, so response time does not reveal which exist.
import type { Sql } from 'postgres';
import { fail, ok, type Result } from '../../../shared/result.ts';
import { isScope, type Scope } from './principal.ts';

export interface Account {
  kind: 'user' | 'client';
  sub: string;
  scopes: Scope[];
  tier: string;
  /** accounts a user may follow on the WebSocket ('ISPB:branch:number'); none for clients */
  accounts: string[];
}

/** Longest password or secret accepted: argon2 input past this only burns CPU for an attacker. */
export const SECRET_LENGTH_MAX = 256;

let dummyHash: Promise<string> | undefined;
const dummy = () => (dummyHash ??= Bun.password.hash('fluxiq-no-such-principal', { algorithm: 'argon2id' }));

async function check(secret: string, hash: string | undefined): Promise<boolean> {
  if (secret.length === 0 || secret.length > SECRET_LENGTH_MAX) return false;
  const valid = await Bun.password.verify(secret, hash ?? (await dummy()), 'argon2id').catch(() => false);
  return hash !== undefined && valid;
}

const scopesOf = (raw: string[]) => raw.filter(isScope);

export async function verifyUser(sql: Sql<{ bigint: bigint }>, username: string, password: string): Promise<Result<Account>> {
  const [row] = await sql<{ id: string; password_hash: string; scopes: string[]; tier: string; accounts: string[] }[]>`
    select id, password_hash, scopes, tier, accounts from users where username = ${username} and status = 'ACTIVE'`;
  if (!(await check(password, row?.password_hash)) || row === undefined) return fail('Unauthorized', 'invalid username or password');
  return ok({ kind: 'user', sub: row.id, scopes: scopesOf(row.scopes), tier: row.tier, accounts: row.accounts });
}

export async function verifyClient(sql: Sql<{ bigint: bigint }>, clientId: string, secret: string): Promise<Result<Account>> {
  const [row] = await sql<{ client_id: string; secret_hash: string; scopes: string[]; tier: string }[]>`
    select client_id, secret_hash, scopes, tier from api_clients where client_id = ${clientId} and status = 'ACTIVE'`;
  if (!(await check(secret, row?.secret_hash)) || row === undefined) return fail('Unauthorized', 'invalid client credentials');
  return ok({ kind: 'client', sub: row.client_id, scopes: scopesOf(row.scopes), tier: row.tier, accounts: [] });
}

/** The accounts a user may follow; read when a WebSocket opens (not carried in tokens). */
export async function accountsOfUser(sql: Sql<{ bigint: bigint }>, userId: string): Promise<string[]> {
  const [row] = await sql<{ accounts: string[] }[]>`select accounts from users where id = ${userId} and status = 'ACTIVE'`;
  return row?.accounts ?? [];
}

export async function addUser(sql: Sql<{ bigint: bigint }>, u: { username: string; password: string; scopes: Scope[]; tier?: string; accounts?: string[] }): Promise<string> {
  const hash = await Bun.password.hash(u.password, { algorithm: 'argon2id' });
  const [row] = await sql<{ id: string }[]>`
    insert into users (username, password_hash, scopes, tier, accounts)
    values (${u.username}, ${hash}, ${u.scopes}, ${u.tier ?? 'standard'}, ${u.accounts ?? []}) returning id`;
  return row!.id;
}

export async function addClient(sql: Sql<{ bigint: bigint }>, c: { clientId: string; name: string; secret: string; scopes: Scope[]; tier?: string }): Promise<void> {
  const hash = await Bun.password.hash(c.secret, { algorithm: 'argon2id' });
  await sql`insert into api_clients (client_id, name, secret_hash, scopes, tier) values (${c.clientId}, ${c.name}, ${hash}, ${c.scopes}, ${c.tier ?? 'standard'})`;
}
