// The dev PKI under var/pki/: a CA, the sandbox's `bacen` certificate, our `participant` certificate, one
// per simulated PSP and the CA's revocation list (ca.crl). Built with the system's openssl, idempotent:
// existing files are kept. Private keys are written 0600 in a 0700 directory (keyfile.ts refuses looser).
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadCrl } from './crl.ts';
import { assertKeyFilePrivate } from './keyfile.ts';
import { SANDBOX_PSPS } from './participants.ts';

export const PKI_KEY_BITS = 2048;
export const PKI_CA_DAYS = 3650;
export const PKI_CERT_DAYS = 825;
/** The dev CRL's validity. Past it every TLS peer refuses every certificate (CRL_HAS_EXPIRED). */
export const PKI_CRL_DAYS = 30;
/** `prepare` (every `up` and `test`) and `pki init` re-issue the CRL when fewer days than this remain. */
export const PKI_CRL_RENEW_DAYS = 7;
/** Private keys: owner read/write only. The PKI directories: owner only. */
export const PKI_KEY_MODE = 0o600;
export const PKI_DIR_MODE = 0o700;

export interface CertFiles {
  cert: string;
  key: string;
}

export interface DevPki {
  dir: string;
  ca: CertFiles;
  bacen: CertFiles;
  participant: CertFiles;
  psps: Record<string, CertFiles>;
  /** the CA's CRL (PEM), re-issued by revokeCert */
  crl: string;
}

function openssl(args: string[], cwd?: string): string {
  const proc = Bun.spawnSync(['openssl', ...args], { cwd, stdout: 'pipe', stderr: 'pipe' });
  if (proc.exitCode !== 0) {
    throw new Error(`openssl ${args[0]} failed: ${proc.stderr.toString().trim().split('\n').slice(-2).join(' ')}`);
  }
  return proc.stdout.toString();
}

export function subjectFor(name: string, ispb: string): string {
  return `/C=BR/O=FluxiQ Dev PKI/OU=ISPB-${ispb}/CN=${name}`;
}

/** The ISPB a certificate subject carries (OU=ISPB-xxxxxxxx), or null. */
export function ispbFromSubject(subject: string): string | null {
  const m = /ISPB-([0-9A-Z]{8})/.exec(subject);
  return m ? m[1]! : null;
}

/** A directory only its owner may enter (it holds private keys). */
function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PKI_DIR_MODE });
  chmodSync(dir, PKI_DIR_MODE);
}

export function createCa(dir: string, name = 'FluxiQ Dev CA'): CertFiles {
  privateDir(dir);
  const files = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  if (existsSync(files.cert) && existsSync(files.key)) return files;
  openssl(['genrsa', '-out', files.key, String(PKI_KEY_BITS)]);
  chmodSync(files.key, PKI_KEY_MODE); // openssl's own mode for a new key follows its version and the umask
  openssl([
    'req', '-x509', '-new', '-key', files.key, '-sha256', '-days', String(PKI_CA_DAYS), '-subj', `/C=BR/O=FluxiQ Dev PKI/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', files.cert,
  ]);
  return files;
}

export interface IssueOptions {
  /** certificate validity as `YYYYMMDDHHMMSSZ`; defaults to now .. now + PKI_CERT_DAYS */
  startDate?: string;
  endDate?: string;
}

/** Issues `<dir>/<name>.crt/.key` signed by `ca`, usable as TLS client and server (SAN localhost, 127.0.0.1). */
export function issueCert(ca: CertFiles, dir: string, name: string, ispb: string, opts: IssueOptions = {}): CertFiles {
  privateDir(dir);
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  if (existsSync(files.cert) && existsSync(files.key)) return files;
  const work = mkdtempSync(join(tmpdir(), 'fluxiq-pki-'));
  try {
    const csr = join(work, 'req.csr');
    openssl(['req', '-new', '-newkey', `rsa:${PKI_KEY_BITS}`, '-nodes', '-keyout', files.key, '-subj', subjectFor(name, ispb), '-out', csr]);
    chmodSync(files.key, PKI_KEY_MODE);
    // `openssl ca` rather than `x509 -req`: it is the one that takes explicit start and end dates
    // (needed for the expired certificate the mTLS tests present).
    writeFileSync(join(work, 'index.txt'), '');
    writeFileSync(join(work, 'serial'), BigInt.asUintN(63, BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000))).toString(16).padStart(16, '0'));
    writeFileSync(
      join(work, 'ca.cnf'),
      [
        '[ca]', 'default_ca = dev', '[dev]', `dir = ${work}`, 'database = $dir/index.txt', 'serial = $dir/serial', 'new_certs_dir = $dir',
        'default_md = sha256', 'policy = any', 'unique_subject = no', 'copy_extensions = none', 'x509_extensions = leaf',
        '[any]', 'C = optional', 'O = optional', 'OU = optional', 'CN = supplied',
        '[leaf]', 'basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage = serverAuth,clientAuth', 'subjectAltName = DNS:localhost,IP:127.0.0.1', 'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
      ].join('\n'),
    );
    const validity = opts.startDate && opts.endDate ? ['-startdate', opts.startDate, '-enddate', opts.endDate] : ['-days', String(PKI_CERT_DAYS)];
    openssl(['ca', '-batch', '-notext', '-config', join(work, 'ca.cnf'), '-cert', ca.cert, '-keyfile', ca.key, '-in', csr, '-out', files.cert, ...validity]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return files;
}

// Revocation: the CA keeps openssl's own database (index.txt of revoked serials, crlnumber) in
// <dir>/ca-db/, next to ca.crt. Certificates are issued from throw-away databases (issueCert), so this
// one lists only revocations; `openssl ca -revoke` adds an entry for a certificate it has not seen.

function caDb(ca: CertFiles): { dir: string; config: string; index: string; crl: string } {
  const home = dirname(ca.cert);
  const dir = join(home, 'ca-db');
  const files = { dir, config: join(dir, 'ca.cnf'), index: join(dir, 'index.txt'), crl: join(home, 'ca.crl') };
  privateDir(dir);
  if (!existsSync(files.index)) writeFileSync(files.index, '');
  if (!existsSync(join(dir, 'crlnumber'))) writeFileSync(join(dir, 'crlnumber'), '01\n');
  // it names its directory, so a copied PKI (tests) gets its own: it must not revoke in the original
  const config = [
    '[ca]', 'default_ca = dev', '[dev]', `dir = ${dir}`, 'database = $dir/index.txt', 'crlnumber = $dir/crlnumber',
    'default_md = sha256', `default_crl_days = ${PKI_CRL_DAYS}`, 'crl_extensions = crl_ext', 'unique_subject = no',
    '[crl_ext]', 'authorityKeyIdentifier = keyid',
  ].join('\n');
  if (!existsSync(files.config) || readFileSync(files.config, 'utf8') !== config) writeFileSync(files.config, config);
  return files;
}

/** Re-issues <ca dir>/ca.crl from the CA database; written aside and renamed so no reader sees half a file. */
export function writeCrl(ca: CertFiles, opts: { lastUpdate?: string; nextUpdate?: string } = {}): string {
  const db = caDb(ca);
  const next = `${db.crl}.${process.pid}.new`; // two services starting at once may both renew it
  const dates = opts.lastUpdate && opts.nextUpdate ? ['-crl_lastupdate', opts.lastUpdate, '-crl_nextupdate', opts.nextUpdate] : [];
  openssl(['ca', '-gencrl', '-batch', '-config', db.config, '-cert', ca.cert, '-keyfile', ca.key, ...dates, '-out', next]);
  renameSync(next, db.crl);
  return db.crl;
}

/** Revokes `certPath` (issued by `ca`) and re-issues the CRL; a certificate already revoked is left as is. */
export function revokeCert(ca: CertFiles, certPath: string): string {
  const db = caDb(ca);
  const serial = new X509Certificate(readFileSync(certPath)).serialNumber.toUpperCase();
  const listed = readFileSync(db.index, 'utf8').split('\n').some((line) => line.startsWith('R\t') && line.split('\t')[3]?.toUpperCase() === serial);
  if (!listed) {
    openssl(['ca', '-batch', '-config', db.config, '-cert', ca.cert, '-keyfile', ca.key, '-revoke', certPath]);
    writeCrl(ca);
  }
  return db.crl;
}

/** The CA's CRL, issued when missing, unreadable or within PKI_CRL_RENEW_DAYS of its Next Update. */
export function ensureCrl(ca: CertFiles, now = new Date()): string {
  const db = caDb(ca);
  const loaded = existsSync(db.crl) ? loadCrl(db.crl, ca.cert) : null;
  const renewBy = now.getTime() + PKI_CRL_RENEW_DAYS * 24 * 3600 * 1000;
  if (!loaded?.ok || (loaded.value.nextUpdate !== null && loaded.value.nextUpdate.getTime() < renewBy)) writeCrl(ca);
  return db.crl;
}

/** Creates whatever part of the dev PKI is missing; returns the file paths. */
export function ensureDevPki(dir: string, opts: { ispb: string; bacenIspb: string }): DevPki {
  const ca = createCa(dir);
  const bacen = issueCert(ca, dir, 'bacen', opts.bacenIspb);
  const participant = issueCert(ca, dir, 'participant', opts.ispb);
  const psps: Record<string, CertFiles> = {};
  for (const psp of SANDBOX_PSPS) psps[psp.ispb] = issueCert(ca, dir, `psp-${psp.ispb}`, psp.ispb);
  return { dir, ca, bacen, participant, psps, crl: ensureCrl(ca) };
}

/** A PEM file. A private key is read only when its file is private to the service user (keyfile.ts). */
export function readPem(path: string): string {
  const pem = readFileSync(path, 'utf8');
  if (pem.includes('PRIVATE KEY-----')) assertKeyFilePrivate(path);
  return pem;
}
