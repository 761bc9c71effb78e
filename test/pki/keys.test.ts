// Private keys are readable by the service user only: the dev PKI writes them 0600 in 0700 directories,
// and a service refuses to start, with one line naming the file and its mode, on a key that group or
// others may read. Errors about an unusable key never carry the key's bytes.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBacenClient, defaultTlsPaths } from '../../shared/bacen/client.ts';
import { loadTlsMaterial } from '../../shared/bacen/material.ts';
import { ConfigError, ROOT_DIR } from '../../shared/config.ts';
import { keyFileProblem } from '../../shared/keyfile.ts';
import { createCa, issueCert, PKI_DIR_MODE, PKI_KEY_MODE, readPem } from '../../shared/pki.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { createXmlSigner } from '../../shared/xml/signer.ts';
import { createTestPki, type TestPki } from '../sandbox/support/harness.ts';
import { copyOfCachedPki } from '../support/pki.ts';

const IDS = { ispb: '12345678', bacenIspb: '00038166' };
const modeOf = (path: string) => statSync(path).mode & 0o777;

let dir: string;
let pki: TestPki;
beforeAll(() => {
  ({ dir, pki } = copyOfCachedPki(`sandbox-${IDS.ispb}-${IDS.bacenIspb}`, (d) => createTestPki(d, IDS), 'fluxiq-keys-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of `key` in its own file with `mode`. */
function keyWithMode(key: string, mode: number): string {
  const path = join(mkdtempSync(join(dir, 'loose-')), 'participant.key');
  copyFileSync(key, path);
  chmodSync(path, mode);
  return path;
}

describe('the dev PKI', () => {
  test('writes every private key 0600 and its directories 0700, whatever the umask', () => {
    const fresh = mkdtempSync(join(tmpdir(), 'fluxiq-umask-'));
    const previous = process.umask(0); // openssl would then create world-readable files
    try {
      const ca = createCa(join(fresh, 'pki'));
      const leaf = issueCert(ca, join(fresh, 'pki', 'leaf'), 'leaf', IDS.ispb);
      expect(modeOf(ca.key)).toBe(PKI_KEY_MODE);
      expect(modeOf(leaf.key)).toBe(PKI_KEY_MODE);
      expect(modeOf(join(fresh, 'pki'))).toBe(PKI_DIR_MODE);
      expect(modeOf(join(fresh, 'pki', 'leaf'))).toBe(PKI_DIR_MODE);
    } finally {
      process.umask(previous);
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  test('a copied PKI (tests) keeps those modes', () => {
    for (const key of [pki.ca.key, pki.participant.key, pki.bacen.key, pki.revoked.key, pki.rogue.key]) expect(modeOf(key)).toBe(PKI_KEY_MODE);
    expect(modeOf(dir)).toBe(PKI_DIR_MODE);
  });
});

describe('a key readable by group or others', () => {
  test('0600 is accepted; 0644, 0640 and 0604 are refused with one line naming the file and its mode', () => {
    expect(keyFileProblem(pki.participant.key)).toBeNull();
    for (const mode of [0o644, 0o640, 0o604]) {
      const path = keyWithMode(pki.participant.key, mode);
      const problem = keyFileProblem(path);
      expect(problem).toBe(`private key ${path} has mode 0${mode.toString(8)}: readable or writable by group or others; it must be readable by the service user only (chmod 600 ${path})`);
      expect(problem).not.toContain('\n');
    }
  });

  test('is refused when read as PEM (every signer key is read this way), certificates are not checked', () => {
    const path = keyWithMode(pki.participant.key, 0o644);
    expect(() => readPem(path)).toThrow(ConfigError);
    expect(() => readPem(path)).toThrow(`private key ${path} has mode 0644`);
    chmodSync(pki.participant.cert, 0o644);
    expect(readPem(pki.participant.cert)).toContain('BEGIN CERTIFICATE');
  });

  test('stops the BACEN client from starting', () => {
    const key = keyWithMode(pki.participant.key, 0o644);
    const start = () => createBacenClient({ baseUrl: 'https://127.0.0.1:1', timeoutMs: 1_000, tls: { ...defaultTlsPaths(dir), key }, logger: createLogger('t', 'silent') });
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(`BACEN client: private key ${key} has mode 0644`);
  });

  test('stops a service at start with one line on stderr: `fluxiq serve sandbox` over a PKI whose bacen.key is 0644', async () => {
    chmodSync(pki.bacen.key, 0o644);
    try {
      const child = Bun.spawn(['bun', join(ROOT_DIR, 'cli', 'main.ts'), 'serve', 'sandbox'], {
        env: { ...process.env, PKI_DIR: dir, SANDBOX_PORT: '1', SANDBOX_CONTROL_PORT: '1' },
        stdout: 'pipe',
        stderr: 'pipe',
      });
      const [err, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
      expect(code).toBe(1);
      expect(err.trim().split('\n')).toEqual([`fluxiq: private key ${pki.bacen.key} has mode 0644: readable or writable by group or others; it must be readable by the service user only (chmod 600 ${pki.bacen.key})`]);
    } finally {
      chmodSync(pki.bacen.key, PKI_KEY_MODE);
    }
  });
});

describe('an unusable key', () => {
  const pemLines = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));

  test('is reported by the TLS loader by file name and parser code, without its bytes', () => {
    const original = readFileSync(pki.participant.key, 'utf8').split('\n');
    const key = keyWithMode(pki.participant.key, 0o600);
    writeFileSync(key, [...original.slice(0, 8), ...original.slice(-2)].join('\n')); // truncated body
    const loaded = loadTlsMaterial({ ...defaultTlsPaths(dir), key });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.error).toStartWith(`${key} is not a PEM private key (`);
    for (const line of pemLines(key)) expect(loaded.error).not.toContain(line);
    expect(loaded.error).not.toContain('PRIVATE KEY-----');
  });

  test('is refused by the XML signer without its bytes in the error', async () => {
    const original = readFileSync(pki.participant.key, 'utf8').split('\n');
    const keyPem = [...original.slice(0, 8), ...original.slice(-2)].join('\n');
    const error = await createXmlSigner({ keyPem, certPem: readPem(pki.participant.cert), threads: 0 }).then(
      () => null,
      (e: Error) => e,
    );
    expect(error).not.toBeNull();
    for (const line of keyPem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'))) expect(String(error?.message)).not.toContain(line);
    expect(String(error?.message)).not.toContain('PRIVATE KEY-----');
  });
});
