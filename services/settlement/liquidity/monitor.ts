// Watches our PI account: reads the balance from BACEN (camt.052) on a timer, applies the policy, and
// acts on its decision: the alert goes to NATS (PIX_SETTLEMENT, `pix.settlement.liquidity`), from where
// the WebSocket feed delivers it on the `liquidity` channel and liquidity/webhook.ts POSTs it, signed, to the
// treasury's webhook; the top-up is an STR transfer reserve → PI,
// recorded in str_transfers like a manual one.
// Alerts and top-ups are published with ids derived from the episode, so a retry never doubles them.
import type { JetStreamClient } from 'nats';
import type { Clock } from '../../../shared/clock.ts';
import type { Config } from '../../../shared/config.ts';
import { formatAmount } from '../../../shared/money.ts';
import { publish, subject } from '../../../shared/nats/index.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import type { Sql } from 'postgres';
import type { SettlementBacen } from '../str/client.ts';
import { strTransfer } from '../str/transfers.ts';
import { evaluate, initialLiquidity, type Decision, type LiquidityPolicy, type LiquidityState } from './policy.ts';

export const LIQUIDITY_SUBJECT = 'pix.settlement.liquidity';
/** Balance readings: every 10 s keeps the forecast current at one camt.052 per 10 s. */
export const LIQUIDITY_CHECK_MS = 10_000;

/** Development defaults (the sandbox opens our PI account with more than the warning mark). */
export const DEFAULT_LIQUIDITY_POLICY: LiquidityPolicy = {
  warningCentavos: 100_000_00n,
  criticalCentavos: 20_000_00n,
  topUpCentavos: 200_000_00n,
  topUpsPerDayMax: 3,
  forecastHorizonMs: 15 * 60 * 1000,
};

const signed = (c: bigint) => (c < 0n ? `-${formatAmount(-c)}` : formatAmount(c));

export interface LiquidityMonitor {
  /** one reading and its consequences; the decision taken, or why there was none */
  check(): Promise<Decision | { error: string }>;
  state(): LiquidityState;
  start(): () => Promise<void>;
}

export function createLiquidityMonitor(opts: { sql: Sql<{ bigint: bigint }>; bacen: SettlementBacen; js: JetStreamClient; config: Pick<Config, 'natsPrefix' | 'ispb'>; clock: Clock; logger: Logger; policy?: LiquidityPolicy }): LiquidityMonitor {
  const { bacen, js, config, clock, logger } = opts;
  const policy = opts.policy ?? DEFAULT_LIQUIDITY_POLICY;
  let state = initialLiquidity();
  const event = (kind: string, fields: Record<string, unknown>) => ({ channel: 'liquidity', kind, account: { ispb: config.ispb, accountNumber: 'PI' }, ...fields });

  async function check(): Promise<Decision | { error: string }> {
    const balance = await bacen.balance();
    if (!balance.ok) {
      logger.warn({ err: balance.error.detail }, 'could not read the PI balance');
      return { error: balance.error.detail };
    }
    const decision = evaluate(state, { atMs: clock.nowMs(), balanceCentavos: balance.value.balanceCentavos }, policy);
    state = decision.state;
    if (decision.alert) {
      const a = decision.alert;
      logger.warn({ level: a.level, episode: a.episode, forecasted: a.forecasted }, 'liquidity level changed');
      await publish(js, subject(config, LIQUIDITY_SUBJECT), event('alert', {
        level: a.level, episode: a.episode, balance: signed(a.balanceCentavos), forecasted: a.forecasted,
        ...(a.forecastCentavos === undefined ? {} : { forecast: signed(a.forecastCentavos) }), at: clock.now().toISOString(),
      }), { msgId: `${a.episode}:${a.level}` });
    }
    if (decision.topUp) {
      const { transferId, amountCentavos } = decision.topUp;
      const moved = await strTransfer({ sql: opts.sql, bacen, clock }, { id: transferId, direction: 'TO_PI', amountCentavos, origin: 'AUTO_TOPUP' });
      if (!moved.ok) {
        // not applied: the next reading decides again (same TransferId, so never twice)
        state = { ...state, toppedUpInEpisode: false, topUpsToday: state.topUpsToday - 1 };
        logger.error({ err: moved.error.detail, transferId }, 'automatic STR top-up failed');
        await publish(js, subject(config, LIQUIDITY_SUBJECT), event('topup-failed', { transferId, amount: formatAmount(amountCentavos), reason: moved.error.detail }), { msgId: `${transferId}:failed:${clock.nowMs()}` });
        return decision;
      }
      logger.info({ transferId, amount: formatAmount(amountCentavos), replayed: moved.value.replayed }, 'automatic STR top-up applied');
      await publish(js, subject(config, LIQUIDITY_SUBJECT), event('topup', {
        transferId, amount: formatAmount(amountCentavos), piBalance: formatAmount(moved.value.piCentavos), reserveBalance: formatAmount(moved.value.reserveCentavos),
      }), { msgId: `${transferId}:done` });
    }
    return decision;
  }

  return {
    check,
    state: () => state,
    start() {
      let running: Promise<unknown> | undefined;
      const tick = () => {
        if (running !== undefined) return;
        running = check().catch((err: unknown) => logger.error({ err }, 'liquidity check failed')).finally(() => { running = undefined; });
      };
      tick();
      const timer = setInterval(tick, LIQUIDITY_CHECK_MS);
      return async () => {
        clearInterval(timer);
        await running;
      };
    },
  };
}
