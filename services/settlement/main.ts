// Wires the real dependencies into createSettlementApp, serves it on SETTLEMENT_PORT and runs the
// workers: the partition maintainer (current and next two months, daily; alerts on rows in DEFAULT
// partitions), the settlement window ticker (closes and nets windows as their hour ends) and the
// liquidity monitor (PI balance from BACEN, alerts, automatic STR top-up) and the daily reconciliation.
import type { Config } from '../../shared/config.ts';
import { startPartitionMaintainer } from '../../shared/db/partitions.ts';
import { connectServiceDeps, serveApp } from '../../shared/service.ts';
import { createSettlementApp } from './app.ts';
import { connectGateway } from './gateway.ts';
import { createLiquidityMonitor } from './liquidity/monitor.ts';
import { startDailyReconciliation } from './recon/daily.ts';
import { wireSettlementBacen } from './str/wiring.ts';
import { startWindowTicker } from './windows/ticker.ts';

export async function run(config: Config): Promise<void> {
  const deps = await connectServiceDeps('settlement', config);
  const gateway = await connectGateway(deps);
  const bacen = await wireSettlementBacen(deps);
  const stopMaintainer = await startPartitionMaintainer({ sql: deps.sql, clock: deps.clock, logger: deps.logger, registry: deps.metrics.registry });
  const stopWindows = startWindowTicker({ sql: deps.sql, clock: deps.clock, logger: deps.logger });
  const stopLiquidity = createLiquidityMonitor({ sql: deps.sql, bacen: bacen.bacen, js: deps.js, config, clock: deps.clock, logger: deps.logger }).start();
  const stopRecon = startDailyReconciliation({ sql: deps.sql, bacen: bacen.bacen, clock: deps.clock, logger: deps.logger });
  serveApp(createSettlementApp({ ...deps, gateway, bacen: bacen.bacen }), deps, config.settlementPort, async () => {
    await stopRecon();
    await stopLiquidity();
    await stopWindows();
    await stopMaintainer();
    await gateway.close();
    await bacen.close();
  });
}
