// Ceilings measured in the same run as the scenario (figures here vary ±25 % from run to run, so a
// scenario reports ratios to these): OpenSSL RSA-2048 signs/s on all cores, Bun.serve hello req/s.
import { cpus } from 'node:os';

/** `openssl speed` runs this long per measurement. */
export const OPENSSL_SECONDS = 3;
export const HELLO_SECONDS = 2;
export const HELLO_CONCURRENCY = 64;

/** `openssl speed -multi <cores> rsa2048`: RSA-2048 signs per second over all cores. */
export function opensslRsaSignsPerS(cores = cpus().length): number {
  const p = Bun.spawnSync(['openssl', 'speed', '-multi', String(cores), '-seconds', String(OPENSSL_SECONDS), 'rsa2048'], { stdout: 'pipe', stderr: 'pipe' });
  const out = p.stdout.toString();
  // "rsa 2048 bits 0.000285s 0.000008s   3508.8 118305.4": sign s, verify s, sign/s, verify/s
  const m = /rsa\s+2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`cannot read openssl speed output: ${out.slice(-300)} ${p.stderr.toString().slice(-300)}`);
  return Math.round(Number(m[1]));
}

/** A hello-world Bun.serve driven by fetch from this process, keep-alive, HELLO_CONCURRENCY in flight. */
export async function bunHelloPerS(): Promise<number> {
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('hello') });
  const url = `http://127.0.0.1:${server.port}/`;
  let n = 0;
  const end = performance.now() + HELLO_SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: HELLO_CONCURRENCY }, async () => {
    while (performance.now() < end) {
      await (await fetch(url)).text();
      n++;
    }
  }));
  const s = (performance.now() - t0) / 1000;
  server.stop(true);
  return Math.round(n / s);
}
