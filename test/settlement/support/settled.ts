// A payment SPI settled, as SPI leaves it: the transactions row (what SPI's store writes) and the
// PIX_PAYMENTS event (published by SPI's own event emitter, services/spi/payments/events.ts), so the
// settlement tests feed the positions consumer exactly what SPI publishes.
import type { Sql } from 'postgres';
import type { Config } from '../../../shared/config.ts';
import { formatAmount } from '../../../shared/money.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import type { JetStreamClient } from 'nats';
import { createPaymentEvents, type PaymentEvents } from '../../../services/spi/payments/events.ts';
import type { PaymentView } from '../../../services/spi/payments/payment.ts';
import { transactionRow } from '../../db/support.ts';

export const OURS = '12345678';

export interface SettledPayment {
  endToEndId: string;
  view: PaymentView;
  direction: 'OUTBOUND' | 'INBOUND';
}

export function settledPayments(deps: { sql: Sql<{ bigint: bigint }>; js: JetStreamClient; config: Config; logger: Logger }) {
  const events: PaymentEvents = createPaymentEvents(deps.js, deps.config, deps.logger);
  let seq = 0;
  return {
    events,
    /** debtor pays creditor `amountCentavos`, settled at `settledAt`: row in transactions + SETTLED event */
    async settle(debtorIspb: string, creditorIspb: string, amountCentavos: bigint, settledAt: Date, opts: { event?: boolean } = {}): Promise<SettledPayment> {
      const createdAt = new Date(settledAt.getTime() - 1_000);
      const base = transactionRow(createdAt, `S${String(++seq).padStart(10, '0')}`, amountCentavos);
      const endToEndId = `E${debtorIspb}${base.end_to_end_id.slice(9)}`;
      const direction = debtorIspb === OURS ? 'OUTBOUND' : 'INBOUND';
      await deps.sql`insert into transactions ${deps.sql({ ...base, end_to_end_id: endToEndId, direction, debtor_ispb: debtorIspb, creditor_ispb: creditorIspb, status: 'SETTLED', pacs002_status: 'ACSC', settled_at: settledAt })}`;
      const view: PaymentView = {
        endToEndId, status: 'SETTLED', amount: formatAmount(amountCentavos), returnedAmount: '0.00',
        debtor: { branch: '0001', number: base.debtor_account },
        creditor: { ispb: creditorIspb, branch: '0001', number: base.creditor_account, accountType: 'CACC', name: base.creditor_name, taxId: '***.222.333-**' },
        initiationForm: base.initiation_form, createdAt: createdAt.toISOString(), settledAt: settledAt.toISOString(), statusUrl: `/payments/${endToEndId}`,
      };
      if (opts.event !== false) events.emit(view, settledAt, direction);
      return { endToEndId, view, direction };
    },
  };
}

/** Polls `check` every 20 ms until it holds, failing after `ms`. */
export async function until(what: string, check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}
