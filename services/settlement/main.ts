// Wires the real dependencies into createSettlementApp, serves it on SETTLEMENT_PORT and runs the
// partition maintainer (current and next two months, daily; alerts on rows in DEFAULT partitions).
import type { Config } from '../../shared/config.ts';
import { startPartitionMaintainer } from '../../shared/db/partitions.ts';
import { connectServiceDeps, serveApp } from '../../shared/service.ts';
import { createSettlementApp } from './app.ts';

export async function run(config: Config): Promise<void> {
  const deps = await connectServiceDeps('settlement', config);
  const stopMaintainer = await startPartitionMaintainer({ sql: deps.sql, clock: deps.clock, logger: deps.logger, registry: deps.metrics.registry });
  serveApp(createSettlementApp(deps), deps, config.settlementPort, stopMaintainer);
}
