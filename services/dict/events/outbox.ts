// pix.keys.* events through a transactional outbox: the event row is written in the same transaction
// as the change (pix_keys + audit_log), published right after commit, and the relay re-publishes rows
// a crash or a NATS outage left behind. The row id is the Nats-Msg-Id, so a re-publish inside the
// stream's duplicate window is stored once; consumers must be idempotent past it anyway.
import type { JetStreamClient } from 'nats';
import type { Sql, TransactionSql } from 'postgres';
import type { Clock } from '../../../shared/clock.ts';
import type { Config } from '../../../shared/config.ts';
import { publish, subject } from '../../../shared/nats/index.ts';
import type { Logger } from '../../../shared/telemetry.ts';

type Q = Sql<{ bigint: bigint }> | TransactionSql<{ bigint: bigint }>;

/** Rows the relay publishes per pass; more wait for the next pass (bounded work per tick). */
export const OUTBOX_RELAY_BATCH_MAX = 256;
/** How often the relay looks for rows the immediate publish missed. */
export const OUTBOX_RELAY_INTERVAL_MS = 2_000;
/** A row this young is left to the immediate publish that follows its commit. */
export const OUTBOX_RELAY_GRACE_MS = 1_000;

export interface OutboxEvent {
  /** idempotent event id: `<event>:<entity>:<request id or version>` */
  id: string;
  /** unprefixed subject, e.g. `pix.keys.created` */
  subject: string;
  payload: Record<string, unknown>;
}

export async function writeOutbox(sql: Q, ev: OutboxEvent, at: Date): Promise<void> {
  await sql`insert into dict_outbox (id, subject, payload, created_at) values (${ev.id}, ${ev.subject}, ${sql.json(ev.payload as never)}, ${at})
    on conflict (id) do nothing`;
}

export interface Outbox {
  /** publishes events whose transaction has committed; failures stay in the table for the relay */
  publishCommitted(events: OutboxEvent[], traceId?: string): Promise<void>;
  /** one relay pass; returns how many rows it published (services.ts runs it every OUTBOX_RELAY_INTERVAL_MS) */
  relayOnce(): Promise<number>;
}

export function createOutbox(deps: { sql: Sql<{ bigint: bigint }>; js: JetStreamClient; config: Config; clock: Clock; logger: Logger }): Outbox {
  const { sql, js, config, clock, logger } = deps;
  const log = logger.child({ component: 'dict-outbox' });

  const send = async (ev: OutboxEvent, traceId?: string): Promise<boolean> => {
    try {
      await publish(js, subject(config, ev.subject), ev.payload, { msgId: ev.id, ...(traceId ? { traceId } : {}) });
      await sql`update dict_outbox set published_at = ${clock.now()} where id = ${ev.id} and published_at is null`;
      return true;
    } catch (err) {
      log.warn({ err, event: ev.id }, 'event not published yet; the relay will retry');
      return false;
    }
  };

  const relayOnce = async (): Promise<number> => {
    const before = new Date(clock.nowMs() - OUTBOX_RELAY_GRACE_MS);
    const rows = await sql<{ id: string; subject: string; payload: Record<string, unknown> }[]>`
      select id, subject, payload from dict_outbox where published_at is null and created_at < ${before}
      order by created_at limit ${OUTBOX_RELAY_BATCH_MAX}`;
    let published = 0;
    for (const r of rows) if (await send(r)) published++;
    return published;
  };

  return {
    async publishCommitted(events, traceId) {
      for (const ev of events) await send(ev, traceId);
    },
    relayOnce,
  };
}
