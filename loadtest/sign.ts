// Signing throughput of the XML signer on realistic pacs.008 SPI messages, against the ceiling measured in
// the same run: `openssl speed rsa2048` (the same libcrypto our workers call). Prints a table; the LAST
// line is one JSON object:
//   signs_per_s          our signed messages per second (worker pool, enough in flight)
//   openssl_signs_per_s  `openssl speed -seconds 5 rsa2048` sign/s on ONE core
//   cores                CPU cores (the pool runs one thread per core unless SIGNER_THREADS says otherwise)
//   ratio                (signs_per_s / cores) / openssl_signs_per_s — per-core efficiency, 1.0 = openssl
// Usage: bun loadtest/sign.ts [--seconds 20] [--threads N]
import { CryptoHasher } from 'bun';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../shared/config.ts';
import { ensureDevPki } from '../shared/pki.ts';
import { canonicalSubtree, scanCanonical } from '../shared/xml/c14n-fast.ts';
import { SIGN_BATCH_MAX } from '../shared/xml/sign-pool.ts';
import { spiDom } from '../shared/xml/signer-dom.ts';
import { createXmlSigner } from '../shared/xml/signer.ts';
import { pacs008 } from '../test/xml/fixtures.ts';

/** Distinct messages cycled through (distinct ids and amounts, like real traffic). */
const MESSAGES = 1024;
const OPENSSL_SECONDS = 5;
const PREPARE_ITERATIONS = 2000;

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) {
    console.error(`--${name} needs a non-negative number`);
    process.exit(2);
  }
  return v;
}

function opensslSpeed(multi: number): number {
  const args = ['speed', '-seconds', String(OPENSSL_SECONDS), ...(multi > 1 ? ['-multi', String(multi)] : []), 'rsa2048'];
  const p = Bun.spawnSync(['openssl', ...args], { stdout: 'pipe', stderr: 'pipe' });
  const out = p.stdout.toString();
  // single: "rsa 2048 bits 0.000272s 0.000014s   3670.6  69188.3"; multi: "rsa 2048 bits ... 6700.1 ..." too
  const line = out.split('\n').find((l) => /^rsa\s+2048 bits/.test(l.trim()));
  const nums = line?.trim().split(/\s+/).filter((t) => /^\d+(\.\d+)?$/.test(t)) ?? [];
  // the columns are: 2048, sign s, verify s, sign/s, verify/s (times end in 's' and are filtered out)
  const signPerS = Number(nums[1]);
  if (!Number.isFinite(signPerS)) throw new Error(`cannot read sign/s from openssl speed output:\n${out}`);
  return signPerS;
}

const sha = (s: string) => new CryptoHasher('sha256').update(s).digest('base64');

/** Canonicalisation + digests only (no RSA): the fast path vs the DOM path, per message. */
function preparePerMessageUs(messages: string[]): { fastUs: number; domUs: number } {
  let t = performance.now();
  for (let i = 0; i < PREPARE_ITERATIONS; i++) {
    const xml = messages[i % messages.length]!;
    const scan = scanCanonical(xml)!;
    const [, appHdr, , document] = scan.elements.filter((e) => e.depth <= 1 || e.name === 'Sgntr');
    sha(canonicalSubtree(xml, appHdr!));
    sha(canonicalSubtree(xml, document ?? scan.elements.find((e) => e.name === 'Document')!));
  }
  const fastUs = ((performance.now() - t) * 1000) / PREPARE_ITERATIONS;
  t = performance.now();
  for (let i = 0; i < PREPARE_ITERATIONS; i++) {
    const r = spiDom(messages[i % messages.length]!, { appHdr: 'a', document: 'd' });
    if (!r.ok) throw new Error(r.error.detail);
    sha(r.value.appHdrCanonical);
    sha(r.value.documentCanonical);
  }
  return { fastUs, domUs: ((performance.now() - t) * 1000) / PREPARE_ITERATIONS };
}

async function main(): Promise<void> {
  const seconds = flag('seconds', 20);
  const cores = availableParallelism();
  let threads = cores;
  try {
    threads = loadConfig().signerThreads || cores;
  } catch {}
  threads = flag('threads', threads);

  const dir = mkdtempSync(join(tmpdir(), 'fluxiq-sign-bench-'));
  try {
    const pki = ensureDevPki(dir, { ispb: '12345678', bacenIspb: '00038166' });
    const keyPem = readFileSync(pki.participant.key, 'utf8');
    const certPem = readFileSync(pki.participant.cert, 'utf8');
    const messages = Array.from({ length: MESSAGES }, (_, i) => pacs008(i));
    const avgBytes = Math.round(messages.reduce((n, m) => n + m.length, 0) / messages.length);

    const opensslOne = opensslSpeed(1);
    const opensslAll = cores > 1 ? opensslSpeed(cores) : opensslOne;
    const prep = preparePerMessageUs(messages);

    const signer = await createXmlSigner({ keyPem, certPem, threads });
    // enough in flight to fill every worker's current and next batch
    const inFlight = Math.max(1, threads) * SIGN_BATCH_MAX * 2;
    let done = 0;
    let signedBytes = 0;
    const start = performance.now();
    const end = start + seconds * 1000;
    async function lane(offset: number): Promise<void> {
      for (let i = offset; performance.now() < end; i += inFlight) {
        const r = await signer.signSpi(messages[i % MESSAGES]!);
        if (!r.ok) throw new Error(r.error.detail);
        done++;
        signedBytes += r.value.length;
      }
    }
    await Promise.all(Array.from({ length: inFlight }, (_, k) => lane(k)));
    const elapsedS = (performance.now() - start) / 1000;
    const stats = { ...signer.stats };
    await signer.close();

    const signsPerS = done / elapsedS;
    const ratio = signsPerS / cores / opensslOne;
    const rows: [string, string][] = [
      ['message', `pacs.008.spi.1.13 envelope, ${avgBytes} B unsigned, ${Math.round(signedBytes / Math.max(1, done))} B signed`],
      ['cores / signer threads / in flight', `${cores} / ${threads} / ${inFlight}`],
      ['openssl speed rsa2048 sign/s, 1 core', opensslOne.toFixed(0)],
      [`openssl speed rsa2048 sign/s, -multi ${cores}`, opensslAll.toFixed(0)],
      ['c14n + digests per message, fast path', `${prep.fastUs.toFixed(1)} µs`],
      ['c14n + digests per message, DOM path', `${prep.domUs.toFixed(1)} µs`],
      [`signed messages/s (${elapsedS.toFixed(1)} s)`, signsPerS.toFixed(0)],
      ['paths taken (fast / DOM)', `${stats.fast} / ${stats.general}`],
      ['vs openssl -multi (all cores)', `${(signsPerS / opensslAll).toFixed(2)}×`],
      ['ratio per core vs openssl 1 core', `${ratio.toFixed(2)}×`],
    ];
    const w = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
    console.log(
      JSON.stringify({
        signs_per_s: Math.round(signsPerS),
        openssl_signs_per_s: Math.round(opensslOne),
        openssl_multi_signs_per_s: Math.round(opensslAll),
        cores,
        threads,
        ratio: Number(ratio.toFixed(3)),
        fast_path_us: Number(prep.fastUs.toFixed(1)),
        dom_path_us: Number(prep.domUs.toFixed(1)),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
