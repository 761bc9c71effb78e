// Rate-limit tiers from Postgres (rate_limit_tiers), held in a Map and reloaded whenever anything is
// published on the tiers subject (an operator changing a tier publishes it; so does `./fluxiq users`).
import type { NatsConnection, Subscription } from 'nats';
import type { Sql } from 'postgres';
import type { Logger } from '../../../shared/telemetry.ts';
import type { Tier } from './lease.ts';

/** Used when a token names a tier that no longer exists: the smallest published tier's figures. */
export const FALLBACK_TIER: Tier = { requestsMax: 100, windowMs: 60_000 };
export const TIERS_SUBJECT = 'gateway.tiers.changed';

export interface TierTable {
  get(name: string): Tier;
  reload(): Promise<void>;
  close(): void;
}

export async function createTierTable(opts: { sql: Sql<{ bigint: bigint }>; nc: NatsConnection; subject: string; logger: Logger }): Promise<TierTable> {
  const { sql, nc, subject, logger } = opts;
  let tiers = new Map<string, Tier>();
  const reload = async () => {
    const rows = await sql<{ name: string; requests_max: number; window_ms: number }[]>`select name, requests_max, window_ms from rate_limit_tiers`;
    tiers = new Map(rows.map((r) => [r.name, { requestsMax: r.requests_max, windowMs: r.window_ms }]));
  };
  await reload();
  const sub: Subscription = nc.subscribe(subject, {
    callback: (err) => {
      if (err) return logger.warn({ err }, 'tiers subscription error');
      reload().then(
        () => logger.info({ tiers: tiers.size }, 'rate-limit tiers reloaded'),
        (e: unknown) => logger.error({ err: e }, 'could not reload rate-limit tiers; keeping the previous ones'),
      );
    },
  });
  return {
    get: (name) => tiers.get(name) ?? tiers.get('standard') ?? FALLBACK_TIER,
    reload,
    close: () => sub.unsubscribe(),
  };
}
