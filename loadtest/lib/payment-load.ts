// The end-to-end payment load shared by payments.ts and burst.ts: a seeded user and payer account, open-
// model POST /spi/payments through the gateway (Bearer token, Idempotency-Key, creditor by a DICT key the
// sandbox seeded, so the SPI service resolves it through the DICT service), the WebSocket feed, the
// per-process CPU/RSS, and the loss audit (Postgres exactly once + final, ledgers agree to the centavo).
import { seededKeys } from '../support/dict-keys.ts';
import { auditPayments, type Audit } from './audit.ts';
import { ms, runOpen, type OpenRunResult, type Phase } from './open-model.ts';
import { fundSandboxPi, json, paymentFeed, requirePlatform, sandboxPiBalance, seedLoadUser, type Platform } from './platform.ts';
import { loadAverage, watchProcesses, type ProcUse } from './procstat.ts';

/** Each payment moves R$ 1.00..R$ 9.99 (varied so a ledger mismatch cannot hide in a multiple). */
const amountOf = (i: number) => `${1 + (i % 9)}.${String(i % 100).padStart(2, '0')}`;
/** DICT keys the load spreads over (seeded by the sandbox for its simulated PSPs). */
export const LOAD_KEYS = 5_000;
export const IN_FLIGHT_MAX = 20_000;
export const DRAIN_MS_MAX = 30_000;
/** Payers the DICT lookups are spread over (anti-scan buckets are per payer): valid CPFs. */
export const PAYERS = 2_000;

export function cpf(n: number): string {
  const base = String(100_000_000 + n * 7919).slice(-9);
  const digit = (s: string) => {
    let sum = 0;
    for (let i = 0; i < s.length; i++) sum += Number(s[i]) * (s.length + 1 - i);
    const r = (sum * 10) % 11;
    return r === 10 ? 0 : r;
  };
  const d1 = digit(base);
  return base + d1 + digit(base + d1);
}

export interface PaymentLoad {
  platform: Platform;
  run: OpenRunResult;
  audit: Audit;
  procs: ProcUse[];
  load: number[];
  ledgerOk: boolean;
  sandboxOk: boolean;
  wsEvents: number;
  wsP99Ms: number;
  accepted: string[];
  samples: { tS: number; inFlight: number }[];
}

export async function paymentLoad(phases: Phase[], opts: { warmupS: number; countMax: number; tag: string }): Promise<PaymentLoad> {
  const p = await requirePlatform();
  const run = `${opts.tag}-${Date.now().toString(36)}`;
  const total = phases.reduce((s, ph) => s + Math.round(ph.seconds * ph.ratePerS), 0);
  // enough for every payment at the largest amount, on both ledgers
  const needCentavos = BigInt(Math.min(total, opts.countMax)) * 1_000n + 100_000n;
  const user = await seedLoadUser(p, run, (needCentavos / 100n).toString() + '.00');
  await fundSandboxPi(p, needCentavos * 2n);
  const keys = seededKeys(LOAD_KEYS);
  const payers = Array.from({ length: PAYERS }, (_, i) => cpf(i + 1));
  const balance = async () => {
    const r = await json('GET', `${p.gatewayUrl}/spi/accounts/${user.account.branch}/${user.account.number}/balance`, undefined, user.auth);
    if (r.status !== 200 || typeof r.json?.balance !== 'string') throw new Error(`payer balance through the gateway: ${r.status} ${JSON.stringify(r.json)}`);
    return BigInt(r.json.balance.replace('.', ''));
  };
  const payerBefore = await balance();
  const piBefore = await sandboxPiBalance(p);
  const feed = paymentFeed(p, user.token);
  await feed.ready;

  const accepted: string[] = [];
  const sentAt = new Map<string, number>();
  const samples: { tS: number; inFlight: number }[] = [];
  const headers = { ...user.auth, 'content-type': 'application/json' };
  const watch = watchProcesses();
  const result = await runOpen({
    phases, warmupS: opts.warmupS, countMax: opts.countMax, inFlightMax: IN_FLIGHT_MAX, drainMsMax: DRAIN_MS_MAX,
    sampleMs: 100, onSample: (tS, inFlight) => samples.push({ tS, inFlight }),
    fire: async (i) => {
      const t0 = performance.now();
      const res = await fetch(`${p.gatewayUrl}/spi/payments`, {
        method: 'POST', headers: { ...headers, 'idempotency-key': `${run}-${i}` },
        body: JSON.stringify({ amount: amountOf(i), debtor: user.account, creditor: { key: keys[i % keys.length] }, payerId: payers[i % payers.length] }),
      });
      const body = (await res.json().catch(() => null)) as { endToEndId?: string; title?: string; detail?: string } | null;
      if ((res.status === 201 || res.status === 202) && body?.endToEndId) {
        accepted.push(body.endToEndId);
        sentAt.set(body.endToEndId, t0);
        return { ok: true };
      }
      return { ok: false, detail: `${res.status} ${body?.title ?? ''}${body?.detail ? `: ${body.detail.slice(0, 120)}` : ''}` };
    },
  });
  const procs = watch.stop();
  const load = loadAverage();
  const audit = await auditPayments(p.db.sql, accepted);
  await Bun.sleep(500); // the last events and postings
  const payerDelta = payerBefore - (await balance());
  const piDelta = piBefore - (await sandboxPiBalance(p));
  feed.close();
  const wsLat = [...sentAt].filter(([e2e]) => feed.seen.has(e2e)).map(([e2e, t]) => feed.seen.get(e2e)! - t).sort((a, b) => a - b);
  return {
    platform: p, run: result, audit, procs, load, accepted, samples,
    ledgerOk: payerDelta === audit.settledCentavos, sandboxOk: piDelta === audit.settledCentavos,
    wsEvents: wsLat.length, wsP99Ms: wsLat.length ? Math.round(wsLat[Math.min(wsLat.length - 1, Math.floor(wsLat.length * 0.99))]!) : 0,
  };
}

export const percentiles = (r: OpenRunResult) => ({
  p50_ms: ms(r.histogram.getValueAtPercentile(50)), p99_ms: ms(r.histogram.getValueAtPercentile(99)), p999_ms: ms(r.histogram.getValueAtPercentile(99.9)),
});
