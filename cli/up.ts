// `./fluxiq up`: prepare, then run the three services and the BACEN sandbox under one supervisor in the
// foreground; Ctrl-C (SIGINT) or SIGTERM stops everything cleanly.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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

/** Most instances of one service `--instances` starts (each holds DB_POOL_MAX connections). */
export const UP_INSTANCES_MAX = 8;
/**
 * Services that may run as several instances: dict is stateless between requests and its BACEN pollers run
 * under a lease; settlement's timers run under a lease and its consumers share a durable JetStream consumer;
 * spi runs active/standby (services/spi/main.ts: its holds and open payments live in the active instance's
 * memory, so one instance holding the spi.active lease serves and the others wait to take over). The
 * sandbox is BACEN: one of it.
 */
export const SCALABLE_SERVICES: readonly ServiceName[] = ['dict', 'spi', 'settlement'];

/**
 * Linux (≥ 5.14): when a listener of a SO_REUSEPORT group closes, the connections in its accept queue move
 * to a sibling instead of being reset. Set (best effort) when several instances share a port, so a rolling
 * restart drops nothing the kernel had already accepted; deployers running instances on one host set it too.
 */
export const TCP_MIGRATE_REQ_PATH = '/proc/sys/net/ipv4/tcp_migrate_req';

/** Turns on tcp_migrate_req; says what happened (needs root in the network namespace; absent on old kernels). */
export function enableTcpMigrateReq(path = TCP_MIGRATE_REQ_PATH): { ok: boolean; detail: string } {
  try {
    if (!existsSync(path)) return { ok: false, detail: `${path} does not exist (kernel older than 5.14): a closing instance's accept queue is reset, the drain window is all there is` };
    if (readFileSync(path, 'utf8').trim() === '1') return { ok: true, detail: 'net.ipv4.tcp_migrate_req was already 1' };
    writeFileSync(path, '1');
    return { ok: true, detail: 'set net.ipv4.tcp_migrate_req=1: a closing instance hands its accept queue to a sibling' };
  } catch (e) {
    return { ok: false, detail: `could not set net.ipv4.tcp_migrate_req (${(e as Error).message}): relying on the drain window` };
  }
}

/** `--instances N` from the arguments (1 when absent), or why it is refused. */
export function instancesArg(args: string[]): { ok: true; value: number } | { ok: false; error: string } {
  const at = args.indexOf('--instances');
  if (at < 0) return { ok: true, value: 1 };
  const raw = args[at + 1] ?? '';
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > UP_INSTANCES_MAX) {
    return { ok: false, error: `--instances takes a number 1..${UP_INSTANCES_MAX}, got '${raw}'` };
  }
  return { ok: true, value: Number(raw) };
}

/** The supervisor's children: one per service, N of each scalable one (named dict#1, dict#2 ...) sharing its port. */
export function childSpecs(instances: number): ChildSpec[] {
  return SERVICES.flatMap((name): ChildSpec[] => {
    if (instances === 1 || !SCALABLE_SERVICES.includes(name)) return [{ name, cmd: serviceCommand(name) }];
    return Array.from({ length: instances }, (_, i) => ({ name: `${name}#${i + 1}`, cmd: serviceCommand(name), env: { LISTEN_REUSE_PORT: 'on' } }));
  });
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
  const instances = instancesArg(args);
  if (!instances.ok) {
    console.error(`fluxiq up: ${instances.error}`);
    return 2;
  }
  if (!args.includes('--no-prepare')) await prepare(config, (m) => logger.info(m));
  const specs = childSpecs(instances.value);
  if (instances.value > 1) {
    logger.info({ instances: instances.value, services: SCALABLE_SERVICES }, 'running several instances of dict, spi (one active, the others standby) and settlement');
    const migrate = enableTcpMigrateReq();
    if (migrate.ok) logger.info(migrate.detail);
    else logger.warn(migrate.detail);
  }
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
