// Wires the real dependencies into createDictApp and serves it on DICT_PORT.
import type { Config } from '../../shared/config.ts';
import { connectServiceDeps, serveApp } from '../../shared/service.ts';
import { createDictApp } from './app.ts';

export async function run(config: Config): Promise<void> {
  const deps = await connectServiceDeps('dict', config);
  serveApp(createDictApp(deps), deps, config.dictPort);
}
