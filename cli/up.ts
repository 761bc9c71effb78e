// `./fluxiq up`: prepare, then run the three services and the BACEN sandbox under one supervisor in the
// foreground; Ctrl-C (SIGINT) or SIGTERM stops everything cleanly.
import { resolve } from 'node:path';
import type { Config } from '../shared/config.ts';
import { createLogger } from '../shared/telemetry.ts';
import { SERVICES, type ServiceName } from './main.ts';
import { prepare } from './prepare.ts';
import { startSupervisor, type ChildSpec } from './supervisor.ts';

/** How long `up` waits for every service's /ready before it says which one is not. */
export const UP_READY_MS_MAX = 30_000;

/** The command that runs one service: the binary itself when compiled, `bun cli/main.ts` otherwise. */
export function serviceCommand(name: ServiceName): string[] {
  const compiled = import.meta.path.startsWith('/$bunfs') || import.meta.path.includes('~BUN');
  return compiled ? [process.execPath, 'serve', name] : [process.execPath, resolve(import.meta.dir, 'main.ts'), 'serve', name];
}

export function readyUrl(config: Config, name: ServiceName): string {
  const port = { sandbox: config.sandboxControlPort, dict: config.dictPort, spi: config.spiPort, settlement: config.settlementPort }[name];
  return `http://127.0.0.1:${port}/ready`;
}

async function waitReady(url: string, deadlineMs: number): Promise<boolean> {
  while (Date.now() < deadlineMs) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  return false;
}

export async function up(config: Config, args: string[]): Promise<number> {
  const logger = createLogger('supervisor', config.logLevel);
  if (!args.includes('--no-prepare')) await prepare(config, (m) => logger.info(m));
  const specs: ChildSpec[] = SERVICES.map((name) => ({ name, cmd: serviceCommand(name) }));
  const supervisor = startSupervisor(specs, logger);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping all services');
    await supervisor.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const deadline = Date.now() + UP_READY_MS_MAX;
  const ready = await Promise.all(SERVICES.map((name) => waitReady(readyUrl(config, name), deadline)));
  const notReady = SERVICES.filter((_, i) => !ready[i]);
  if (notReady.length > 0) {
    logger.error({ notReady }, `not ready after ${UP_READY_MS_MAX / 1000} s: ${notReady.join(', ')} (see their logs above); still supervising`);
  } else {
    logger.info(
      { dict: config.dictPort, spi: config.spiPort, gateway: config.settlementPort, sandbox: config.sandboxPort, sandboxControl: config.sandboxControlPort },
      'FluxiQ PIX is up: gateway on http://127.0.0.1:' + config.settlementPort + ' (Ctrl-C stops everything)',
    );
  }
  await new Promise(() => {}); // the supervisor runs until a signal arrives
  return 0;
}
