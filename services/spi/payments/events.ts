// Payment status changes go to JetStream (PIX_PAYMENTS, subject pix.payments.<direction>.<status>) for the
// settlement service and the webhook fan-out. A book transfer (payee at our own ISPB, never in SPI) goes to
// pix.payments.book.outbound.<status>: webhooks (pix.payments.>) see it, settlement positions
// (pix.payments.*.settled, money between participants) do not. Each event has an idempotent id `<e2e>.<status>`: the
// stream stores a repeat once (Nats-Msg-Id) and webhook receivers see the same event id on every retry.
// Publishing happens after the change is durable in Postgres; a publish that fails is retried with a
// bound, then logged (the transactions table stays the record and can be replayed from).
import type { JetStreamClient } from 'nats';
import type { Config } from '../../../shared/config.ts';
import { publish, subject } from '../../../shared/nats/index.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import type { PaymentView } from './payment.ts';

export const EVENT_PUBLISH_ATTEMPTS_MAX = 5;
/** events being published at once; past this, emit waits (back-pressure on the status writers) */
export const EVENT_IN_FLIGHT_MAX = 1_024;

export interface PaymentEvent {
  eventId: string;
  type: string;
  at: string;
  payment: PaymentView;
}

export interface PaymentEvents {
  emit(view: PaymentView, at: Date, direction?: 'OUTBOUND' | 'INBOUND', opts?: { book?: boolean }): void;
  /** resolves when every emitted event was published (tests, shutdown) */
  drain(): Promise<void>;
}

export const eventIdOf = (e2e: string, status: string) => `${e2e}.${status}`;

export function createPaymentEvents(js: JetStreamClient, config: Pick<Config, 'natsPrefix'>, logger: Logger): PaymentEvents {
  const inFlight = new Set<Promise<void>>();
  const log = logger.child({ component: 'payment-events' });
  const send = async (subj: string, ev: PaymentEvent) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await publish(js, subj, ev, { msgId: ev.eventId });
        return;
      } catch (err) {
        if (attempt >= EVENT_PUBLISH_ATTEMPTS_MAX) {
          log.error({ err, eventId: ev.eventId }, 'payment event not published; the transactions table is the record');
          return;
        }
        await Bun.sleep(50 * 2 ** attempt);
      }
    }
  };
  return {
    emit(view, at, direction = 'OUTBOUND', opts = {}) {
      const type = `${direction === 'OUTBOUND' ? 'payment' : 'inbound'}.${view.status.toLowerCase()}`;
      const ev: PaymentEvent = { eventId: eventIdOf(view.endToEndId, view.status), type, at: at.toISOString(), payment: view };
      const scope = opts.book ? 'book.' : '';
      const p = send(subject(config, `pix.payments.${scope}${direction.toLowerCase()}.${view.status.toLowerCase()}`), ev).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size > EVENT_IN_FLIGHT_MAX) log.warn({ inFlight: inFlight.size }, 'payment events are publishing slower than they are produced');
    },
    async drain() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}
