// Wires the real dependencies into createSettlementApp, serves it on SETTLEMENT_PORT and runs the
// workers: the partition maintainer (current and next two months, daily; alerts on rows in DEFAULT
// partitions), the positions consumer (per-window gross positions from SPI's settled-payment events),
// the settlement window ticker (closes and nets windows as their hour ends, once the consumer caught up),
// the liquidity monitor (PI balance from BACEN, alerts, automatic STR top-up) with its webhook, and the
// daily reconciliation. The maintainer, the ticker, the monitor and the reconciliation run under one lease:
// in one instance at a time, another taking over within 2 s of a crash.
import type { Config } from '../../shared/config.ts';
import { startPartitionMaintainer } from '../../shared/db/partitions.ts';
import { startLease } from '../../shared/lease.ts';
import { connectServiceDeps, serveApp } from '../../shared/service.ts';
import { createSettlementApp } from './app.ts';
import { connectGateway } from './gateway.ts';
import { createLiquidityMonitor } from './liquidity/monitor.ts';
import { startLiquidityWebhook, webhookTargetOf } from './liquidity/webhook.ts';
import { startPositionConsumer } from './positions/consumer.ts';
import { startDailyReconciliation } from './recon/daily.ts';
import { wireSettlementBacen } from './str/wiring.ts';
import { startWindowTicker } from './windows/ticker.ts';

/** The lease under which one instance runs the partition maintainer, window ticker, liquidity monitor and reconciliation. */
export const SETTLEMENT_WORKERS_LEASE = 'settlement.workers';

export async function run(config: Config): Promise<void> {
  const deps = await connectServiceDeps('settlement', config);
  const gateway = await connectGateway(deps);
  const bacen = await wireSettlementBacen(deps);
  const positions = await startPositionConsumer({ js: deps.js, jsm: deps.jsm, sql: deps.sql, config, clock: deps.clock, logger: deps.logger, registry: deps.metrics.registry });
  // the timers run in one instance at a time (shared/lease.ts); the consumers share work through JetStream
  const workers = startLease(config, deps.logger, SETTLEMENT_WORKERS_LEASE, async () => {
    const stopMaintainer = await startPartitionMaintainer({ sql: deps.sql, clock: deps.clock, logger: deps.logger, registry: deps.metrics.registry });
    const stopWindows = startWindowTicker({ sql: deps.sql, clock: deps.clock, logger: deps.logger, positionsCaughtUp: (until) => positions.caughtUp(until) });
    const stopLiquidity = createLiquidityMonitor({ sql: deps.sql, bacen: bacen.bacen, js: deps.js, config, clock: deps.clock, logger: deps.logger }).start();
    const stopRecon = startDailyReconciliation({ sql: deps.sql, bacen: bacen.bacen, clock: deps.clock, logger: deps.logger });
    return async () => {
      await stopRecon();
      await stopLiquidity();
      await stopWindows();
      await stopMaintainer();
    };
  }, { registry: deps.metrics.registry });
  const webhookTarget = webhookTargetOf(config);
  const liquidityWebhook = webhookTarget === undefined ? undefined : await startLiquidityWebhook({ js: deps.js, config, clock: deps.clock, logger: deps.logger, registry: deps.metrics.registry }, webhookTarget);
  serveApp(createSettlementApp({ ...deps, gateway, bacen: bacen.bacen }), deps, config.settlementPort, async () => {
    await workers.stop();
    await liquidityWebhook?.stop();
    await positions.stop();
    await gateway.close();
    await bacen.close();
  });
}
