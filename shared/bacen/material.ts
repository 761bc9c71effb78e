// The client's TLS material (certificate, key, pinned CA, the CA's revocation list) read from files, and
// a watcher that notices when the files are replaced so a renewed certificate or CRL is used without a
// restart.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { loadCrl, type RevocationList } from '../crl.ts';
import { keyFileProblem } from '../keyfile.ts';
import { ispbFromSubject } from '../pki.ts';

export interface TlsPaths {
  cert: string;
  key: string;
  ca: string;
  /** the CA's CRL; without it the server's certificate is not checked for revocation */
  crl?: string;
}

export interface TlsMaterial {
  cert: string;
  key: string;
  ca: string;
  subject: string;
  ispb: string | null;
  serialNumber: string;
  validTo: string;
  fingerprint256: string;
  revocation: RevocationList | null;
}

/** fs.watch fires several events per replaced file (and cert and key are two files): wait for quiet. */
export const TLS_RELOAD_DEBOUNCE_MS = 100;

export type Loaded = { ok: true; value: TlsMaterial } | { ok: false; error: string };

/** The parser's code only: an error message about a key must never carry the key's bytes. */
const reason = (e: unknown) => (e as { code?: string }).code ?? 'unparseable';

/**
 * Reads and checks the files. A key that does not match the certificate is refused: that is the
 * normal state for a moment while an operator copies a new pair in, and using it would fail every
 * handshake, so the previous material stays in use until the pair is whole. So is a key file that
 * group or others may read (keyfile.ts), and a CRL not signed by the pinned CA.
 */
export function loadTlsMaterial(paths: TlsPaths): Loaded {
  const keyProblem = keyFileProblem(paths.key);
  if (keyProblem !== null) return { ok: false, error: keyProblem };
  let cert: string, key: string, ca: string;
  try {
    cert = readFileSync(paths.cert, 'utf8');
    key = readFileSync(paths.key, 'utf8');
    ca = readFileSync(paths.ca, 'utf8');
  } catch (e) {
    return { ok: false, error: `cannot read TLS files: ${(e as Error).message}` };
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
    new X509Certificate(ca);
  } catch (e) {
    return { ok: false, error: `${paths.cert} or ${paths.ca} is not a PEM certificate (${reason(e)})` };
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch (e) {
    return { ok: false, error: `${paths.key} is not a PEM private key (${reason(e)})` };
  }
  if (!matches) return { ok: false, error: `${paths.key} does not match ${paths.cert}` };
  let revocation: RevocationList | null = null;
  if (paths.crl !== undefined) {
    const crl = loadCrl(paths.crl, paths.ca);
    if (!crl.ok) return { ok: false, error: crl.error };
    revocation = crl.value;
  }
  return {
    ok: true,
    value: {
      cert, key, ca, revocation,
      subject: x509.subject, ispb: ispbFromSubject(x509.subject), serialNumber: x509.serialNumber, validTo: x509.validTo, fingerprint256: x509.fingerprint256,
    },
  };
}

function stampOf(paths: TlsPaths): string {
  return [paths.cert, paths.key, paths.ca, paths.crl]
    .map((p) => {
      if (p === undefined) return 'none';
      try {
        const s = statSync(p);
        return `${s.mtimeMs}:${s.size}:${s.ino}:${s.mode}`; // mode: a key chmod-ed to 0600 after a refusal is retried
      } catch {
        return 'missing';
      }
    })
    .join('|');
}

export interface TlsWatcher {
  /** Compares the files with what was last loaded; loads them if they changed. */
  check(): void;
  close(): void;
}

/**
 * fs.watch on the parent directories (a file watch is lost when the file is replaced by a rename, as
 * `mv` and most deploy tools do), plus a periodic mtime/size/inode check because fs.watch is not
 * reliable on every filesystem (network mounts, some container overlays).
 */
export function watchTlsMaterial(
  paths: TlsPaths,
  opts: { checkMs: number; onChange: (material: TlsMaterial) => void; onError: (detail: string) => void },
): TlsWatcher {
  let loadedStamp = stampOf(paths);
  let failedStamp = '';
  let debounce: ReturnType<typeof setTimeout> | undefined;

  const check = () => {
    const stamp = stampOf(paths);
    if (stamp === loadedStamp || stamp === failedStamp) return;
    const loaded = loadTlsMaterial(paths);
    if (!loaded.ok) {
      failedStamp = stamp; // report a broken set once, retry when the files change again
      opts.onError(loaded.error);
      return;
    }
    loadedStamp = stamp;
    failedStamp = '';
    opts.onChange(loaded.value);
  };

  const files = [paths.cert, paths.key, paths.ca, ...(paths.crl === undefined ? [] : [paths.crl])];
  const names = new Set(files.map((f) => basename(f)));
  const watchers: FSWatcher[] = [];
  for (const dir of new Set(files.map((f) => dirname(f)))) {
    try {
      const w = watch(dir, { persistent: false }, (_event, file) => {
        if (file !== null && !names.has(basename(String(file)))) return;
        clearTimeout(debounce);
        debounce = setTimeout(check, TLS_RELOAD_DEBOUNCE_MS);
      });
      w.on('error', () => {}); // the periodic check still covers this directory
      watchers.push(w);
    } catch {
      // directory not watchable here: the periodic check alone will notice changes
    }
  }
  const timer = setInterval(check, opts.checkMs);
  timer.unref();

  return {
    check,
    close() {
      clearInterval(timer);
      clearTimeout(debounce);
      for (const w of watchers) w.close();
    },
  };
}
