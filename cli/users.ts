// ./fluxiq users add USERNAME --scopes S,S [--tier T] [--account ISPB:BRANCH:NUMBER]...
//   the password is read from the first line of standard input (never from argv: it would show in ps)
// ./fluxiq users client CLIENT_ID --scopes S,S [--tier T]
//   creates a system client and prints its generated secret once (only its argon2id hash is kept)
import type { Config } from '../shared/config.ts';
import { createDb } from '../shared/db/client.ts';
import { addClient, addUser } from '../services/settlement/auth/credentials.ts';
import { isScope, SCOPES, type Scope } from '../services/settlement/auth/principal.ts';

const USAGE = `usage: fluxiq users add USERNAME --scopes S[,S] [--tier T] [--account ISPB:BRANCH:NUMBER]...  (password on stdin)
       fluxiq users client CLIENT_ID --scopes S[,S] [--tier T]
scopes: ${SCOPES.join(', ')}`;

function options(args: string[]): { scopes: Scope[]; tier: string | undefined; accounts: string[] } | string {
  let scopes: Scope[] = [];
  let tier: string | undefined;
  const accounts: string[] = [];
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) return `${flag} needs a value`;
    if (flag === '--scopes') {
      const asked = value.split(',');
      const unknown = asked.filter((s) => !isScope(s));
      if (unknown.length > 0) return `unknown scope ${unknown.join(', ')}`;
      scopes = asked as Scope[];
    } else if (flag === '--tier') tier = value;
    else if (flag === '--account') {
      if (!/^[0-9A-Z]{8}:[0-9]{0,4}:[0-9A-Za-z-]{1,20}$/.test(value)) return `--account ${value} is not ISPB:BRANCH:NUMBER`;
      accounts.push(value);
    } else return `unknown option ${flag}`;
  }
  return scopes.length === 0 ? '--scopes is required' : { scopes, tier, accounts };
}

async function readPassword(): Promise<string> {
  const text = await new Response(Bun.stdin.stream()).text();
  return text.split('\n')[0] ?? '';
}

export async function usersCommand(config: Config, args: string[]): Promise<number> {
  const [action, name, ...rest] = args;
  const opts = options(rest);
  if ((action !== 'add' && action !== 'client') || name === undefined || typeof opts === 'string') {
    console.error(typeof opts === 'string' && name !== undefined ? `fluxiq users: ${opts}\n${USAGE}` : USAGE);
    return 2;
  }
  const { sql, close } = createDb(config);
  try {
    if (action === 'add') {
      const password = await readPassword();
      if (password.length < 12) {
        console.error('fluxiq users: the password (first line of stdin) must have at least 12 characters');
        return 2;
      }
      const id = await addUser(sql, { username: name, password, scopes: opts.scopes, accounts: opts.accounts, ...(opts.tier ? { tier: opts.tier } : {}) });
      console.log(`user ${name} created (id ${id}, scopes ${opts.scopes.join(' ')})`);
    } else {
      const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
      await addClient(sql, { clientId: name, name, secret, scopes: opts.scopes, ...(opts.tier ? { tier: opts.tier } : {}) });
      console.log(`client ${name} created; its secret, shown only now:\n${secret}`);
    }
    return 0;
  } finally {
    await close();
  }
}
