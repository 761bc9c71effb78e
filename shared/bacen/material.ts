// The client's TLS material (certificate, key, pinned CA) read from files, and a watcher that notices
// when the files are replaced so a renewed certificate is used without a restart.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ispbFromSubject } from '../pki.ts';

export interface TlsPaths {
  cert: string;
  key: string;
  ca: string;
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
}

/** fs.watch fires several events per replaced file (and cert and key are two files): wait for quiet. */
export const TLS_RELOAD_DEBOUNCE_MS = 100;

export type Loaded = { ok: true; value: TlsMaterial } | { ok: false; error: string };

/**
 * Reads and checks the three files. A key that does not match the certificate is refused: that is the
 * normal state for a moment while an operator copies a new pair in, and using it would fail every
 * handshake, so the previous material stays in use until the pair is whole.
 */
export function loadTlsMaterial(paths: TlsPaths): Loaded {
  let cert: string, key: string, ca: string;
  try {
    cert = readFileSync(paths.cert, 'utf8');
    key = readFileSync(paths.key, 'utf8');
    ca = readFileSync(paths.ca, 'utf8');
  } catch (e) {
    return { ok: false, error: `cannot read TLS files: ${(e as Error).message}` };
  }
  try {
    const x509 = new X509Certificate(cert);
    new X509Certificate(ca);
    if (!x509.checkPrivateKey(createPrivateKey(key))) return { ok: false, error: `${paths.key} does not match ${paths.cert}` };
    return {
      ok: true,
      value: { cert, key, ca, subject: x509.subject, ispb: ispbFromSubject(x509.subject), serialNumber: x509.serialNumber, validTo: x509.validTo, fingerprint256: x509.fingerprint256 },
    };
  } catch (e) {
    return { ok: false, error: `invalid TLS material: ${(e as Error).message}` };
  }
}

function stampOf(paths: TlsPaths): string {
  return [paths.cert, paths.key, paths.ca]
    .map((p) => {
      try {
        const s = statSync(p);
        return `${s.mtimeMs}:${s.size}:${s.ino}`;
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

  const names = new Set([basename(paths.cert), basename(paths.key), basename(paths.ca)]);
  const watchers: FSWatcher[] = [];
  for (const dir of new Set([dirname(paths.cert), dirname(paths.key), dirname(paths.ca)])) {
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
