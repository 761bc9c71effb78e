// A private key file must be readable by the service user only. Like ssh (and PostgreSQL for its TLS
// key), a service refuses to start on a key that group or others may read: whoever else can read it can
// sign SPI and DICT messages as us. One exception, also PostgreSQL's: a key owned by root may be
// group-readable (0640/0440) when the service is not root, which is how a Kubernetes secret volume with
// fsGroup (deploy/k8s: defaultMode 0400 becomes 0440) and Debian's ssl-cert group hand a key to a service.
import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from './config.ts';

/** What a private key file may allow beyond its owner: nothing. */
export const KEY_FILE_MODE_MAX = 0o600;
/** Group read, allowed only on a root-owned key read by a service that is not root (see above). */
const GROUP_READ = 0o040;

const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

/** Why this key file may not be used, as one line naming the file and its mode; null when it may. */
export function keyFileProblem(path: string): string | null {
  let st: { mode: number; uid: number };
  try {
    st = statSync(path);
  } catch (e) {
    return `cannot read private key ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  const loose = st.mode & 0o077;
  if (loose === 0) return null;
  const serviceUid = process.getuid?.() ?? -1;
  if (loose === GROUP_READ && st.uid === 0 && serviceUid !== 0) return null;
  return `private key ${path} has mode ${octal(st.mode)}: readable or writable by group or others; it must be readable by the service user only (chmod 600 ${path})`;
}

/** Throws ConfigError (printed as one line by the CLI) when the key file is too open. */
export function assertKeyFilePrivate(path: string): void {
  const problem = keyFileProblem(path);
  if (problem !== null) throw new ConfigError(problem);
}

/** A PEM private key, read only after its file mode is checked. */
export function readPrivateKeyPem(path: string): string {
  assertKeyFilePrivate(path);
  return readFileSync(path, 'utf8');
}
