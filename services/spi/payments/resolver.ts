// Resolves payments stuck in TIMED_OUT (their pacs.002 lost for good): after a named delay it asks SPI for
// the payment's state with a signed pacs.028 and lets the answer decide, once:
//   pacs.002 ACSC → SETTLED · RJCT → REJECTED (both through engine.onPacs002, the same path as an inbox
//   report, so a late inbox pacs.002 and this answer cannot both decide) · SPI never received it (404)
//   → RELEASED, the hold released · ACSP (still in process), no answer, or an answer that does not verify
//   → asked again after STATUS_QUERY_RETRY_MS.
// One query per payment at a time; at most STATUS_QUERIES_IN_FLIGHT_MAX at once (the rest wait a tick).
import type { Clock } from '../../../shared/clock.ts';
import type { Config } from '../../../shared/config.ts';
import { newMsgId } from '../../../shared/ids.ts';
import { parsePacs002 } from '../../../shared/spi/pacs002.ts';
import { buildPacs028 } from '../../../shared/spi/pacs028.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import type { SpiLink } from '../messages/link.ts';
import type { SpiVerifier } from '../messages/verify.ts';
import type { EngineSigner, PaymentEngine } from './engine.ts';

/**
 * How long a payment stays TIMED_OUT before we ask SPI. A late pacs.002 normally arrives well within it
 * (SPI's own receiver deadline is 10 s, inbox polling adds little), and our re-sends of the pacs.008
 * (engine.ts: 4 × 500 ms) are long over, so "SPI does not know it" then means it never will.
 */
export const TIMED_OUT_QUERY_DELAY_MS = 30_000;
/** An undecided query (ACSP, transport failure, bad answer) is asked again after this. */
export const STATUS_QUERY_RETRY_MS = 5_000;
/** Status queries awaiting SPI at once; the others wait for a later tick. */
export const STATUS_QUERIES_IN_FLIGHT_MAX = 16;
/** How often the resolver looks for payments to query. */
export const RESOLVER_TICK_MS = 250;

export interface ResolverOptions {
  delayMs?: number;
  retryMs?: number;
  tickMs?: number;
}

export type ResolverOutcome = 'settled' | 'rejected' | 'released' | 'in-process' | 'failed' | 'unverified' | 'already-decided';

export interface TimeoutResolver {
  /** one pass: queries what is due now; resolves when those queries are answered */
  tick(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
  readonly stats: Record<ResolverOutcome, number>;
}

export function createTimeoutResolver(deps: {
  config: Pick<Config, 'ispb' | 'bacenIspb'>;
  clock: Clock;
  logger: Logger;
  engine: PaymentEngine;
  link: SpiLink;
  signer: EngineSigner;
  verifier: Pick<SpiVerifier, 'verify'>;
  options?: ResolverOptions;
}): TimeoutResolver {
  const { config, clock, engine, link, signer, verifier } = deps;
  const delayMs = deps.options?.delayMs ?? TIMED_OUT_QUERY_DELAY_MS;
  const retryMs = deps.options?.retryMs ?? STATUS_QUERY_RETRY_MS;
  const tickMs = deps.options?.tickMs ?? RESOLVER_TICK_MS;
  const log = deps.logger.child({ component: 'timeout-resolver' });
  const stats: Record<ResolverOutcome, number> = { settled: 0, rejected: 0, released: 0, 'in-process': 0, failed: 0, unverified: 0, 'already-decided': 0 };
  const inFlight = new Set<string>();
  /** payments asked once without a decision: not before this instant again */
  const retryAtMs = new Map<string, number>();
  let timer: ReturnType<typeof setInterval> | null = null;
  let running: Promise<number> | null = null;

  async function query(e2e: string): Promise<ResolverOutcome> {
    const now = clock.now();
    const header = { from: config.ispb, to: config.bacenIspb, bizMsgIdr: newMsgId(config.ispb), creDt: now };
    const signed = await signer.signSpi(buildPacs028(header, { originalEndToEndId: e2e }));
    if (!signed.ok) throw new Error(`could not sign our pacs.028: ${signed.error.detail}`);
    const answer = await link.status(signed.value);
    if (answer.kind === 'failed') {
      log.warn({ e2e, detail: answer.detail }, 'status query failed; will ask again');
      return 'failed';
    }
    if (answer.kind === 'unknown-payment') return (await engine.releaseUnknown(e2e)) ? 'released' : 'already-decided';
    // SPI's answer decides money: it must be SPI's signature, on this payment
    const verified = verifier.verify(answer.xml);
    const report = parsePacs002(answer.xml);
    if (!verified.ok || verified.ispb !== config.bacenIspb || !report.ok || report.value.message.originalEndToEndId !== e2e) {
      log.error({ e2e, why: !verified.ok ? verified.reason : !report.ok ? report.error.detail : 'not SPI or not this payment' }, 'status answer refused');
      return 'unverified';
    }
    const { message, header: reply } = report.value;
    if (message.status === 'ACSP') return 'in-process';
    await engine.onPacs002(message, answer.xml, reply.bizMsgIdr);
    const state = (await engine.get(e2e))?.status;
    if (state === 'SETTLED' && message.status === 'ACSC') return 'settled';
    if (state === 'REJECTED' && message.status === 'RJCT') return 'rejected';
    return state === 'TIMED_OUT' ? 'failed' : 'already-decided';
  }

  async function pass(): Promise<number> {
    const nowMs = clock.nowMs();
    if (retryAtMs.size > 0) {
      // forget payments decided meanwhile by other means (a late inbox pacs.002)
      const stillOut = new Set(engine.timedOut(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
      for (const e2e of retryAtMs.keys()) if (!stillOut.has(e2e)) retryAtMs.delete(e2e);
    }
    const room = STATUS_QUERIES_IN_FLIGHT_MAX - inFlight.size;
    if (room <= 0) return 0;
    const due = engine.timedOut(nowMs - delayMs, STATUS_QUERIES_IN_FLIGHT_MAX * 4)
      .filter((e2e) => !inFlight.has(e2e) && (retryAtMs.get(e2e) ?? 0) <= nowMs)
      .slice(0, room);
    await Promise.all(due.map(async (e2e) => {
      inFlight.add(e2e);
      try {
        const outcome = await query(e2e);
        stats[outcome]++;
        if (outcome === 'in-process' || outcome === 'failed' || outcome === 'unverified') retryAtMs.set(e2e, clock.nowMs() + retryMs);
        else {
          retryAtMs.delete(e2e);
          log.info({ e2e, outcome }, 'timed-out payment resolved by a status query');
        }
      } catch (err) {
        stats.failed++;
        retryAtMs.set(e2e, clock.nowMs() + retryMs);
        log.error({ err, e2e }, 'status query crashed; will ask again');
      } finally {
        inFlight.delete(e2e);
      }
    }));
    return due.length;
  }

  return {
    stats,
    tick() {
      // one pass at a time: a slow SPI must not pile passes up
      running ??= pass().finally(() => (running = null));
      return running;
    },
    start() {
      timer ??= setInterval(() => void this.tick(), tickMs);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
