// Inbound traffic to us: simulated PSPs pay our customers (pacs.008, signed with the PSP's own key) and
// return part of payments we made to them (pacs.004), at a configured rate for a configured time. Each
// message goes through the same intake as one posted over mTLS.
import { newEndToEndId, newMsgId, newReturnId } from '../../../shared/ids.ts';
import { SANDBOX_PSPS } from '../../../shared/participants.ts';
import { parseSpiMessage } from '../../../shared/spi/message.ts';
import { buildPacs004 } from '../../../shared/spi/pacs004.ts';
import { buildPacs008 } from '../../../shared/spi/pacs008.ts';
import type { SandboxDeps } from '../deps.ts';
import type { SpiEngine } from './engine.ts';

export const TRAFFIC_RATE_PER_S_MAX = 5_000;
export const TRAFFIC_SECONDS_MAX = 3_600;
/** the generator ticks this often and sends rate × tick worth of messages per tick */
export const TRAFFIC_TICK_MS = 50;

export interface TrafficPlan {
  ratePerS: number;
  seconds: number;
  /** fraction of messages that are returns (when there is a payment of ours to return) */
  returnsShare: number;
}

export interface TrafficRun {
  plan: TrafficPlan;
  sent: { pacs008: number; pacs004: number };
  done: Promise<void>;
  stop(): void;
}

export function startTraffic(deps: SandboxDeps, engine: SpiEngine, plan: TrafficPlan): TrafficRun {
  const total = Math.round(plan.ratePerS * plan.seconds);
  const sent = { pacs008: 0, pacs004: 0 };
  let stopped = false;
  let seq = 0;
  const started = performance.now();
  const ours = deps.config.ispb;
  const spi = deps.config.bacenIspb;

  async function one(): Promise<void> {
    const psp = SANDBOX_PSPS[seq++ % SANDBOX_PSPS.length]!.ispb;
    const signer = await engine.pspSigner(psp);
    const now = deps.clock.now();
    const header = { from: psp, to: spi, bizMsgIdr: newMsgId(psp), creDt: now };
    if (deps.random() < plan.returnsShare) {
      // a payment of ours to this PSP with something left to return
      const [p] = await deps.sql<{ end_to_end_id: string; left: bigint }[]>`
        select end_to_end_id, amount_centavos - returned_centavos as left from spi_payments
        where debtor_ispb = ${ours} and creditor_ispb = ${psp} and status = 'SETTLED' and returned_centavos < amount_centavos limit 1`;
      if (p) {
        const amountCentavos = p.left > 1n ? p.left / 2n : p.left;
        const xml = buildPacs004(header, { returnId: newReturnId(psp, now), originalEndToEndId: p.end_to_end_id, amountCentavos, reason: 'MD06', returnerIspb: psp, receiverIspb: ours });
        const signed = await signer.signSpi(xml);
        const msg = signed.ok ? parseSpiMessage(signed.value) : null;
        if (signed.ok && msg?.ok && msg.value.type === 'pacs.004') {
          sent.pacs004++;
          engine.stats.generated.pacs004++;
          await engine.intakeReturn(msg.value, signed.value, false);
          return;
        }
      }
    }
    const xml = buildPacs008(header, {
      endToEndId: newEndToEndId(psp, now), amountCentavos: BigInt(100 + Math.floor(deps.random() * 100_000)), acceptedAt: now,
      initiationForm: 'MANU', priority: 'HIGH',
      debtor: { name: 'Pagador Simulado', taxId: '52998224725' },
      debtorAccount: { ispb: psp, branch: '0001', number: String(100000 + (seq % 900000)), type: 'CACC' },
      creditor: { name: 'Cliente FluxiQ', taxId: '11144477735' },
      creditorAccount: { ispb: ours, branch: '0001', number: String(1 + (seq % 1000)), type: 'CACC' },
    });
    const signed = await signer.signSpi(xml);
    if (!signed.ok) throw new Error(`simulated PSP could not sign: ${signed.error.detail}`);
    const msg = parseSpiMessage(signed.value);
    if (!msg.ok || msg.value.type !== 'pacs.008') throw new Error('generated pacs.008 does not parse');
    sent.pacs008++;
    engine.stats.generated.pacs008++;
    await engine.intakePayment(msg.value, signed.value, false);
  }

  const done = (async () => {
    let issued = 0;
    while (!stopped && issued < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * plan.ratePerS) + 1);
      const batch: Promise<void>[] = [];
      for (; issued < due; issued++) batch.push(one().catch((e) => deps.logger.error({ err: e }, 'traffic message failed')));
      await Promise.all(batch);
      if (issued < total) await Bun.sleep(TRAFFIC_TICK_MS);
    }
  })();
  return { plan, sent, done, stop: () => (stopped = true) };
}
