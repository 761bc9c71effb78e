// Signing throughput of the XML signer on realistic pacs.008 SPI messages, against the ceiling measured in
// the same run: `openssl speed rsa2048` (the same libcrypto our workers call). Every operation signs a
// distinct message (its own EndToEndId, MsgId, amount and text) through the public signSpi; a sample of
// the outputs is verified (xml-crypto, our verifier) after the timed part. Prints a table; the LAST
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
import { SIGN_BATCH_MAX, SIGN_INFLIGHT_PER_THREAD } from '../shared/xml/sign-pool.ts';
import { spiDom } from '../shared/xml/signer-dom.ts';
import { createXmlSigner } from '../shared/xml/signer.ts';
import { verifyXmlSignature } from '../shared/xml/verify.ts';
import { pacs008Stamper } from './support/pacs008.ts';
import { numberFlag } from './lib/args.ts';

/** Messages for the c14n micro-measure (the timed run stamps a new one per operation). */
const MESSAGES = 1024;
const OPENSSL_SECONDS = 5;
const PREPARE_ITERATIONS = 2000;
/** Untimed signing first, so the JIT and the worker threads are warm when the clock starts. */
const WARMUP_MS = 1000;
/** Signed outputs kept (evenly spread over the run) and verified after it. */
const VERIFY_SAMPLE = 32;


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

/**
 * Verifies each sampled output with the profile verifier and checks it is the message that was asked for
 * (its own EndToEndId): a benchmark whose outputs do not verify measures nothing. Throws on the first miss.
 */
function verifySample(samples: { n: number; xml: string }[], caPem: string, stamp: (n: number) => string): number {
  if (samples.length === 0) throw new Error('no signed output sampled');
  for (const { n, xml } of samples) {
    const r = verifyXmlSignature(xml, { trustedCaPem: caPem });
    if (!r.ok) throw new Error(`signed message ${n} does not verify: ${r.error.reason}`);
    const e2e = /<EndToEndId>([^<]+)<\/EndToEndId>/.exec(stamp(n))?.[1];
    if (!e2e || !xml.includes(`<EndToEndId>${e2e}</EndToEndId>`)) throw new Error(`signed message ${n} is not the message that was sent`);
  }
  return samples.length;
}

async function main(): Promise<void> {
  const seconds = numberFlag('seconds', 20, 3_600);
  const cores = availableParallelism();
  let threads = cores;
  try {
    threads = loadConfig().signerThreads || cores;
  } catch {}
  threads = numberFlag('threads', threads, 64);

  const dir = mkdtempSync(join(tmpdir(), 'fluxiq-sign-bench-'));
  try {
    const pki = ensureDevPki(dir, { ispb: '12345678', bacenIspb: '00038166' });
    const keyPem = readFileSync(pki.participant.key, 'utf8');
    const certPem = readFileSync(pki.participant.cert, 'utf8');
    const stamp = pacs008Stamper();
    const messages = Array.from({ length: MESSAGES }, (_, i) => stamp(i));
    const avgBytes = Math.round(messages.reduce((n, m) => n + m.length, 0) / messages.length);

    const opensslOne = opensslSpeed(1);
    const opensslAll = cores > 1 ? opensslSpeed(cores) : opensslOne;
    const prep = preparePerMessageUs(messages);

    const signer = await createXmlSigner({ keyPem, certPem, threads });
    // what the pool holds (every worker's running and waiting batch) and as much again queued, the way a
    // busy server has requests waiting: a full batch is ready whenever a worker takes one
    const inFlight = Math.max(1, threads) * SIGN_INFLIGHT_PER_THREAD * SIGN_BATCH_MAX * 2;
    let seq = 0;
    let done = 0;
    let signedBytes = 0;
    let sampleEvery = 1;
    const samples: { n: number; xml: string }[] = [];
    async function lane(until: number, keep: boolean): Promise<void> {
      while (performance.now() < until) {
        const n = seq++;
        const r = await signer.signSpi(stamp(n));
        if (!r.ok) throw new Error(r.error.detail);
        if (!keep) continue;
        done++;
        signedBytes += r.value.length;
        if (n % sampleEvery === 0) samples.push({ n, xml: r.value });
      }
    }
    const run = (until: number, keep: boolean) => Promise.all(Array.from({ length: inFlight }, () => lane(until, keep)));
    const warmStart = performance.now();
    await run(warmStart + WARMUP_MS, false);
    const warmRate = seq / ((performance.now() - warmStart) / 1000);
    sampleEvery = Math.max(1, Math.floor((warmRate * seconds) / VERIFY_SAMPLE));
    const start = performance.now();
    await run(start + seconds * 1000, true);
    const elapsedS = (performance.now() - start) / 1000;
    const stats = { ...signer.stats };
    await signer.close();
    const verified = verifySample(samples, readFileSync(pki.ca.cert, 'utf8'), stamp);

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
      ['distinct messages signed (timed)', String(done)],
      ['sampled outputs verified', `${verified} / ${samples.length}`],
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
        verified_samples: verified,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
