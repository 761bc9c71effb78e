// Wires the real dependencies into createSpiApp and serves it on SPI_PORT.
import type { Config } from '../../shared/config.ts';
import { connectServiceDeps, serveApp } from '../../shared/service.ts';
import { createSpiApp } from './app.ts';

export async function run(config: Config): Promise<void> {
  const deps = await connectServiceDeps('spi', config);
  serveApp(createSpiApp(deps), deps, config.spiPort);
}
