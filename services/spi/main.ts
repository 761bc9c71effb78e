// Wires the real dependencies into createSpiApp, serves it on SPI_PORT and starts the workers
// (position load, recovery of open payments, inbox pollers, webhook delivery).
import type { Config } from '../../shared/config.ts';
import { connectServiceDeps, serveApp } from '../../shared/service.ts';
import { createSpiApp } from './app.ts';
import { wireSpiDeps } from './wiring.ts';

export async function run(config: Config): Promise<void> {
  const base = await connectServiceDeps('spi', config);
  const wiring = await wireSpiDeps(base);
  const app = createSpiApp(wiring.deps);
  // positions and open payments are loaded before the port opens: no order is decided on empty positions
  await app.runtime.start();
  serveApp(app, base, config.spiPort, async () => {
    await app.runtime.stop();
    await wiring.close();
  });
}
