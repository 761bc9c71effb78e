// Shared by the XML tests: one dev PKI per test process in a temp dir (ensureDevPki), a foreign CA for
// the "untrusted signer" cases, and xmlsec1 as the independent verifier.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, ensureDevPki, issueCert, type DevPki } from '../../shared/pki.ts';
import { copyOfCachedPki } from '../support/pki.ts';

export interface TestPki {
  dir: string;
  pki: DevPki;
  caPem: string;
  keyPem: string;
  certPem: string;
  /** a certificate for ISPB 66666666 issued by a CA nobody trusts */
  rogue: { keyPem: string; certPem: string; key: string; cert: string };
}

let cached: TestPki | undefined;

export function testPki(): TestPki {
  if (cached) return cached;
  const { dir, pki: built } = copyOfCachedPki('xml', (d) => {
    const pki = ensureDevPki(join(d, 'pki'), { ispb: '12345678', bacenIspb: '00038166' });
    const rogueCa = createCa(join(d, 'rogue'), 'Rogue CA');
    return { pki, rogue: issueCert(rogueCa, join(d, 'rogue'), 'rogue', '66666666') };
  }, 'fluxiq-xml-test-');
  const { pki, rogue } = built;
  cached = {
    dir,
    pki,
    caPem: readFileSync(pki.ca.cert, 'utf8'),
    keyPem: readFileSync(pki.participant.key, 'utf8'),
    certPem: readFileSync(pki.participant.cert, 'utf8'),
    rogue: { ...rogue, keyPem: readFileSync(rogue.key, 'utf8'), certPem: readFileSync(rogue.cert, 'utf8') },
  };
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return cached;
}

let fileSeq = 0;

/** Writes `xml` to a temp file in the test PKI dir and returns its path. */
export function tempFile(xml: string, name = 'doc'): string {
  const path = join(testPki().dir, `${name}-${process.pid}-${fileSeq++}.xml`);
  writeFileSync(path, xml);
  return path;
}

/** The exact command this profile is verified with (signer.ts header); true when xmlsec1 says OK. */
export function xmlsecVerify(xml: string): boolean {
  const file = tempFile(xml, 'verify');
  const p = Bun.spawnSync(['xmlsec1', '--verify', '--trusted-pem', testPki().pki.ca.cert, '--id-attr:Id', 'AppHdr', '--id-attr:Id', 'Document', file], {
    stdout: 'pipe',
    stderr: 'pipe',
  });
  rmSync(file, { force: true });
  return p.exitCode === 0;
}

export function xmlsecSign(template: string, keyPath: string, certPath: string, extra: string[] = []): string {
  const file = tempFile(template, 'tmpl');
  const p = Bun.spawnSync(['xmlsec1', '--sign', '--privkey-pem', `${keyPath},${certPath}`, ...extra, file], { stdout: 'pipe', stderr: 'pipe' });
  rmSync(file, { force: true });
  if (p.exitCode !== 0) throw new Error(`xmlsec1 --sign failed: ${p.stderr.toString()}`);
  return p.stdout.toString();
}
