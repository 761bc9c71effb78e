// Wires the real dependencies into createDictApp, serves it on DICT_PORT and starts the workers.
import type { Config } from '../../shared/config.ts';
import { connectServiceDeps, serveApp } from '../../shared/service.ts';
import { createDictApp } from './app.ts';
import { LogSender } from './confirmations/sender.ts';
import { loadParticipantCategory } from './lookup/participants.ts';
import { createDictServices } from './services.ts';
import { wireDictDeps } from './wiring.ts';

export async function run(config: Config): Promise<void> {
  const base = await connectServiceDeps('dict', config);
  // dev: codes go to the log; production plugs an SMS/e-mail ConfirmationSender in here
  const wiring = await wireDictDeps(base, new LogSender(base.logger));
  const services = createDictServices(wiring.deps, { category: await loadParticipantCategory(wiring.deps) });
  serveApp(createDictApp(wiring.deps, services), base, config.dictPort, async () => {
    await services.stop();
    await wiring.close();
  });
  await services.start();
}
