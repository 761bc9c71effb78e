// Generating a dev PKI costs ~3 s of RSA key generation; the suite would pay it in every file that
// starts a sandbox. One template per run id is generated once under var/test-pki/ and each caller gets
// its own copy (tests replace certificate files, so they must not share one directory).
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_DIR } from '../../shared/config.ts';

const TEMPLATE_ROOT = join(ROOT_DIR, 'var', 'test-pki');

/**
 * A fresh directory holding a copy of the cached PKI built by `build(dir)` (which must be idempotent:
 * it finds its files present in the copy and creates nothing). `key` names the template.
 */
export function copyOfCachedPki<T>(key: string, build: (dir: string) => T, prefix = 'fluxiq-pki-'): { dir: string; pki: T } {
  const template = join(TEMPLATE_ROOT, key.replace(/[^A-Za-z0-9_-]/g, '_'));
  mkdirSync(template, { recursive: true });
  build(template);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(template, dir, { recursive: true });
  return { dir, pki: build(dir) };
}
