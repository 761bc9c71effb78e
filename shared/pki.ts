// The dev PKI under var/pki/: a CA, the sandbox's `bacen` certificate, our `participant` certificate and
// one per simulated PSP. Built with the system's openssl, idempotent: existing files are kept.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SANDBOX_PSPS } from './participants.ts';

export const PKI_KEY_BITS = 2048;
export const PKI_CA_DAYS = 3650;
export const PKI_CERT_DAYS = 825;

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

export function createCa(dir: string, name = 'FluxiQ Dev CA'): CertFiles {
  mkdirSync(dir, { recursive: true });
  const files = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  if (existsSync(files.cert) && existsSync(files.key)) return files;
  openssl(['genrsa', '-out', files.key, String(PKI_KEY_BITS)]);
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
  mkdirSync(dir, { recursive: true });
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  if (existsSync(files.cert) && existsSync(files.key)) return files;
  const work = mkdtempSync(join(tmpdir(), 'fluxiq-pki-'));
  try {
    const csr = join(work, 'req.csr');
    openssl(['req', '-new', '-newkey', `rsa:${PKI_KEY_BITS}`, '-nodes', '-keyout', files.key, '-subj', subjectFor(name, ispb), '-out', csr]);
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

/** Creates whatever part of the dev PKI is missing; returns the file paths. */
export function ensureDevPki(dir: string, opts: { ispb: string; bacenIspb: string }): DevPki {
  const ca = createCa(dir);
  const bacen = issueCert(ca, dir, 'bacen', opts.bacenIspb);
  const participant = issueCert(ca, dir, 'participant', opts.ispb);
  const psps: Record<string, CertFiles> = {};
  for (const psp of SANDBOX_PSPS) psps[psp.ispb] = issueCert(ca, dir, `psp-${psp.ispb}`, psp.ispb);
  return { dir, ca, bacen, participant, psps };
}

export function readPem(path: string): string {
  return readFileSync(path, 'utf8');
}
