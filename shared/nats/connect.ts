// One NATS connection per process. It reconnects forever: a payment platform must ride out a NATS
// restart, so the connection never gives up on its own; only the first connect fails fast, with one
// line the operator can act on.
import { connect, type NatsConnection } from 'nats';
import type { Config } from '../config.ts';
import type { Logger } from '../telemetry.ts';

/** Pause between reconnect attempts: a restarted NATS is picked up within ~1–2 s. */
export const NATS_RECONNECT_WAIT_MS = 250;
/** Random spread added to each reconnect wait so a fleet does not reconnect in lock-step. */
export const NATS_RECONNECT_JITTER_MS = 100;
/** How long the first connect may take before start-up fails. */
export const NATS_CONNECT_TIMEOUT_MS = 2_000;
/** Ping cadence; two missed pongs mark the connection stale and trigger a reconnect. */
export const NATS_PING_INTERVAL_MS = 10_000;

export class NatsUnreachableError extends Error {
  override name = 'NatsUnreachableError';
}

export async function connectNats(config: Pick<Config, 'natsUrl'>, logger: Logger, name = 'fluxiq'): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: config.natsUrl,
      name,
      maxReconnectAttempts: -1, // unlimited: after start-up the platform waits for NATS instead of exiting
      reconnectTimeWait: NATS_RECONNECT_WAIT_MS,
      reconnectJitter: NATS_RECONNECT_JITTER_MS,
      timeout: NATS_CONNECT_TIMEOUT_MS,
      pingInterval: NATS_PING_INTERVAL_MS,
    });
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new NatsUnreachableError(
      `cannot reach NATS at ${config.natsUrl} (${reason}): start nats-server with JetStream (-js) or set NATS_URL`,
    );
  }
  const log = logger.child({ component: 'nats', connection: name });
  log.info({ server: nc.getServer() }, 'nats connected');
  void watchStatus(nc, log);
  void nc.closed().then((err) => {
    if (err) log.error({ err }, 'nats connection closed with an error');
    else log.info('nats connection closed');
  });
  return nc;
}

/** Logs disconnects/reconnects; the loop ends when the connection closes. */
async function watchStatus(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const s of nc.status()) {
    switch (s.type) {
      case 'disconnect':
      case 'staleConnection':
      case 'error':
        log.warn({ event: s.type, data: String(s.data) }, 'nats connection degraded');
        break;
      case 'reconnect':
        log.info({ event: s.type, data: String(s.data) }, 'nats reconnected');
        break;
      default:
        log.debug({ event: s.type, data: String(s.data) }, 'nats status');
    }
  }
}
