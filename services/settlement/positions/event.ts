// SPI's payment events as settlement counts them. Pure. SPI publishes every status change of a payment
// on PIX_PAYMENTS (services/spi/payments/events.ts): `pix.payments.outbound.<status>` for ours,
// `pix.payments.inbound.<status>` for those paid to us, body {eventId, type, at, payment: PaymentView}.
// Only SETTLED moves money between participants, so only those become positions:
//   debtor   the payer's PSP: the ISPB inside the EndToEndId (E + ISPB + yyyyMMddHHmm + 11), which the
//            payer's PSP generates (PIX.md); PaymentView carries no debtor ISPB
//   creditor payment.creditor.ispb
//   window   the one holding payment.settledAt (the SPI settlement time)
import { parseAmount } from '../../../shared/money.ts';
import { fail, ok, type Result } from '../../../shared/result.ts';
import { windowAt } from '../windows/window.ts';

/** The part of SPI's event body read here (PaymentEvent in services/spi/payments/events.ts). */
export interface SpiPaymentEvent {
  eventId?: unknown;
  payment?: { endToEndId?: unknown; status?: unknown; amount?: unknown; creditor?: { ispb?: unknown }; settledAt?: unknown };
}

export interface PositionEvent {
  eventId: string;
  windowId: string;
  endToEndId: string;
  debtorIspb: string;
  creditorIspb: string;
  amountCentavos: bigint;
  settledAt: Date;
}

const END_TO_END_ID = /^E([0-9A-Z]{8})[0-9]{12}[a-zA-Z0-9]{11}$/;
const ISPB = /^[0-9A-Z]{8}$/;
const EVENT_ID_LENGTH_MAX = 128;

/** A settled payment's event as a position event; `undefined` for events that move no money (other statuses). */
export function positionEventOf(ev: SpiPaymentEvent): Result<PositionEvent | undefined> {
  const p = ev.payment;
  if (typeof ev.eventId !== 'string' || ev.eventId.length === 0 || ev.eventId.length > EVENT_ID_LENGTH_MAX) return fail('InvalidRequest', 'event without a usable eventId', 'eventId', 'format');
  if (p === undefined || p === null || typeof p !== 'object') return fail('InvalidRequest', `event ${ev.eventId} has no payment`, 'payment', 'required');
  if (p.status !== 'SETTLED') return ok(undefined);
  const e2e = typeof p.endToEndId === 'string' ? END_TO_END_ID.exec(p.endToEndId) : null;
  if (e2e === null) return fail('InvalidRequest', `event ${ev.eventId}: bad EndToEndId`, 'payment.endToEndId', 'format');
  const amount = parseAmount(typeof p.amount === 'string' ? p.amount : '', 'payment.amount');
  if (!amount.ok) return amount;
  const creditorIspb = p.creditor?.ispb;
  if (typeof creditorIspb !== 'string' || !ISPB.test(creditorIspb)) return fail('InvalidRequest', `event ${ev.eventId}: bad creditor ISPB`, 'payment.creditor.ispb', 'format');
  const debtorIspb = e2e[1]!;
  if (debtorIspb === creditorIspb) return fail('InvalidRequest', `event ${ev.eventId} is a book transfer within ${debtorIspb}; it does not settle in SPI`, 'payment.creditor.ispb', 'other-participant');
  const settledAt = typeof p.settledAt === 'string' ? new Date(p.settledAt) : new Date(NaN);
  if (Number.isNaN(settledAt.getTime())) return fail('InvalidRequest', `event ${ev.eventId}: a SETTLED payment without settledAt`, 'payment.settledAt', 'required');
  return ok({ eventId: ev.eventId, windowId: windowAt(settledAt).id, endToEndId: p.endToEndId as string, debtorIspb, creditorIspb, amountCentavos: amount.value, settledAt });
}

export interface PositionDelta {
  windowId: string;
  ispb: string;
  debitCentavos: bigint;
  creditCentavos: bigint;
  payments: number;
}

/** What a set of (distinct) events adds to each (window, participant) position. */
export function deltasOf(events: readonly PositionEvent[]): PositionDelta[] {
  const byKey = new Map<string, PositionDelta>();
  const delta = (windowId: string, ispb: string) => {
    const key = `${windowId}:${ispb}`;
    let d = byKey.get(key);
    if (d === undefined) byKey.set(key, (d = { windowId, ispb, debitCentavos: 0n, creditCentavos: 0n, payments: 0 }));
    return d;
  };
  for (const e of events) {
    const debtor = delta(e.windowId, e.debtorIspb);
    debtor.debitCentavos += e.amountCentavos;
    debtor.payments++;
    const creditor = delta(e.windowId, e.creditorIspb);
    creditor.creditCentavos += e.amountCentavos;
    creditor.payments++;
  }
  return [...byKey.values()];
}
