// `xml sign FILE [--key K --cert C]` and `xml verify FILE [--ca CA]`: sign in BACEN's profile (DICT or SPI
// form chosen by the root element) or verify any document signed in it. Exit codes: 0 done/valid,
// 1 signature refused (reason printed), 2 bad arguments or unreadable files (one line, no stack trace).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, ROOT_DIR } from '../shared/config.ts';
import { createXmlSigner } from '../shared/xml/signer.ts';
import { verifyXmlSignature } from '../shared/xml/verify.ts';

const USAGE = 'usage: xml sign FILE [--key KEY.pem --cert CERT.pem] | xml verify FILE [--ca CA.pem]';

class UsageError extends Error {}

function pkiDir(): string {
  try {
    return loadConfig().pkiDir;
  } catch {
    return join(ROOT_DIR, 'var/pki');
  }
}

function parseArgs(argv: string[], allowed: string[]): { file: string; flags: Record<string, string> } {
  const flags: Record<string, string> = {};
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const name = a.slice(2);
      const value = argv[i + 1];
      if (!allowed.includes(name)) throw new UsageError(`unknown option ${a}; ${USAGE}`);
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${a} needs a value`);
      flags[name] = value;
      i++;
    } else if (file === undefined) file = a;
    else throw new UsageError(`unexpected argument ${a}; ${USAGE}`);
  }
  if (file === undefined) throw new UsageError(USAGE);
  return { file, flags };
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${what} ${path}${code ? ` (${code})` : ''}`);
  }
}

async function sign(argv: string[]): Promise<number> {
  const { file, flags } = parseArgs(argv, ['key', 'cert']);
  const xml = readText(file, 'file');
  const keyPem = readText(flags.key ?? join(pkiDir(), 'participant.key'), 'key');
  const certPem = readText(flags.cert ?? join(pkiDir(), 'participant.crt'), 'certificate');
  let signer;
  try {
    signer = await createXmlSigner({ keyPem, certPem, threads: 0 });
  } catch (e) {
    throw new UsageError(`cannot use the key and certificate: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    const r = await signer.sign(xml);
    if (!r.ok) {
      console.error(`xml sign: ${r.error.detail}`);
      return 1;
    }
    process.stdout.write(r.value.endsWith('\n') ? r.value : `${r.value}\n`);
    return 0;
  } finally {
    await signer.close();
  }
}

function verify(argv: string[]): number {
  const { file, flags } = parseArgs(argv, ['ca']);
  const xml = readText(file, 'file');
  const ca = readText(flags.ca ?? join(pkiDir(), 'ca.crt'), 'CA certificate');
  const r = verifyXmlSignature(xml, { trustedCaPem: ca });
  const checks = r.ok ? r.value.checks : r.error.checks;
  for (const c of checks) console.log(`ok    ${c}`);
  if (!r.ok) {
    console.log(`FAIL  ${r.error.reason}`);
    return 1;
  }
  console.log(`valid ${r.value.form.toUpperCase()} signature by ${r.value.subject}${r.value.ispb ? ` (ISPB ${r.value.ispb})` : ''}`);
  return 0;
}

export async function xmlCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === 'sign') return await sign(rest);
    if (sub === 'verify') return verify(rest);
    throw new UsageError(USAGE);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`xml: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) process.exit(await xmlCommand(process.argv.slice(2)));
