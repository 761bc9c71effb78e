// A representative DICT run for the log scan (logscan.test.ts runs this as a child with LOG_LEVEL=debug and
// reads everything it writes): keys of every sensitive kind registered, looked up, refused, removed, with
// the sandbox over mTLS, and the client's key file broken and mended while it runs (the error path that
// reads a key). Prints one JSON line with the statuses so the parent knows the flow really ran, and
// writes the PEM of every private key it used to LOGSCAN_KEYS_FILE (not to the logs) for the scan.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { account, dictFixture, naturalPerson } from '../dict/support.ts';
import { SECRETS } from './secrets.ts';


const fx = await dictFixture('logscan');
try {
  const owner = naturalPerson(SECRETS.cpf, 'Cliente Secreto');
  const statuses: number[] = [];
  const call = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    const r = await fx.call(method, path, body, headers);
    statuses.push(r.status);
    return r;
  };
  await call('POST', '/keys', { keyType: 'CPF', key: SECRETS.cpf, account: account(SECRETS.accountNumber), owner }, { 'x-actor': 'portal:ana' });
  const c = await call('POST', '/keys/confirmations', { keyType: 'PHONE', key: SECRETS.phone, account: { branch: '0001', accountNumber: SECRETS.accountNumber }, owner: { taxIdNumber: SECRETS.cpf } });
  await call('POST', '/keys', { keyType: 'PHONE', key: SECRETS.phone, account: account(SECRETS.accountNumber), owner, confirmation: { id: c.json?.id, code: fx.sender.lastCode('PHONE', SECRETS.phone) } });
  // refused: wrong check digits, a key of another owner, an unknown key
  await call('POST', '/keys', { keyType: 'CPF', key: SECRETS.otherCpf.slice(0, 10) + '0', account: account(SECRETS.accountNumber), owner });
  await call('POST', '/keys', { keyType: 'EMAIL', key: SECRETS.email, account: account(SECRETS.accountNumber), owner });
  await call('GET', `/keys/${encodeURIComponent(SECRETS.cpf)}/lookup`, undefined, { 'pi-payerid': SECRETS.otherCpf });
  await call('GET', `/keys/${encodeURIComponent(SECRETS.email)}/lookup`, undefined, { 'pi-payerid': SECRETS.otherCpf });
  await call('GET', `/keys/${encodeURIComponent(SECRETS.phone)}`);
  await call('DELETE', `/keys/${encodeURIComponent(SECRETS.phone)}`, { reason: 'USER_REQUESTED' });
  // a truncated key file: the BACEN client's reload refuses it and logs why (it must not log the key)
  const keyPath = join(fx.sandbox.dir, 'participant.key');
  const key = readFileSync(keyPath, 'utf8');
  const lines = key.trimEnd().split('\n');
  writeFileSync(keyPath, [...lines.slice(0, 8), ...lines.slice(-1)].join('\n') + '\n');
  await Bun.sleep(1_000);
  writeFileSync(keyPath, key);
  await Bun.sleep(1_000);
  await call('GET', `/keys/${encodeURIComponent(SECRETS.cpf)}`);
  const keysFile = process.env.LOGSCAN_KEYS_FILE;
  if (keysFile) {
    const pems = [keyPath, fx.sandbox.pki.bacen.key, fx.sandbox.pki.ca.key].map((p) => readFileSync(p, 'utf8'));
    writeFileSync(keysFile, JSON.stringify(pems));
  }
  console.log(JSON.stringify({ flow: 'done', statuses }));
} finally {
  await fx.close();
}
