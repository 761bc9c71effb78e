// Pure decisions about money arriving from SPI (a pacs.008 paying one of our customers, a pacs.004
// returning one of our payments). What the account authority then says (AC03, AC06) comes on top.
import type { Pacs004 } from '../../../shared/spi/pacs004.ts';
import type { Pacs008 } from '../../../shared/spi/pacs008.ts';
import type { RejectReason } from '../../../shared/spi/pacs002.ts';

export type InboundCheck = { ok: true; account: { branch: string; number: string } } | { ok: false; reason: RejectReason; detail: string };

/** Inbound payment states: ACCEPTED (we answered ACSP) → SETTLED (SPI's ACSC: credited) | REJECTED. */
export const INBOUND_TRANSITIONS = {
  ACCEPTED: ['SETTLED', 'REJECTED'],
  SETTLED: ['PARTIALLY_RETURNED', 'RETURNED'],
  PARTIALLY_RETURNED: ['PARTIALLY_RETURNED', 'RETURNED'],
  REJECTED: [],
  RETURNED: [],
} as const satisfies Record<string, readonly string[]>;
export type InboundState = keyof typeof INBOUND_TRANSITIONS;

export function canMoveInbound(from: InboundState, to: InboundState): boolean {
  return (INBOUND_TRANSITIONS[from] as readonly string[]).includes(to);
}

export function checkInboundPayment(p: Pacs008, ourIspb: string): InboundCheck {
  if (p.creditorAccount.ispb !== ourIspb) return { ok: false, reason: 'AC03', detail: `the creditor agent ${p.creditorAccount.ispb} is not us` };
  // our accounts all have a branch; an account without one cannot be ours
  if (p.creditorAccount.branch === undefined) return { ok: false, reason: 'AC03', detail: 'the creditor account has no branch' };
  return { ok: true, account: { branch: p.creditorAccount.branch, number: p.creditorAccount.number } };
}

/** The creditor named in the message must be the account holder (BE01), compared by tax id. */
export function holderMatches(p: Pacs008, holderTaxId: string): boolean {
  return holderTaxId === '' || p.creditor.taxId === holderTaxId;
}

/** A return of our payment: it must be ours, settled, and not more than what is left of it. */
export function checkInboundReturn(
  r: Pacs004,
  original: { state: string; amountCentavos: bigint; returnedCentavos: bigint } | null,
  ourIspb: string,
): { ok: true } | { ok: false; reason: RejectReason; detail: string } {
  if (r.receiverIspb !== ourIspb) return { ok: false, reason: 'AC03', detail: 'the return is not addressed to us' };
  if (!original) return { ok: false, reason: 'AC03', detail: `no payment ${r.originalEndToEndId} of ours` };
  if (original.state !== 'SETTLED' && original.state !== 'PARTIALLY_RETURNED') return { ok: false, reason: 'AM09', detail: `payment is ${original.state}, nothing to return` };
  if (r.amountCentavos > original.amountCentavos - original.returnedCentavos) return { ok: false, reason: 'AM09', detail: 'the return exceeds what is left of the payment' };
  return { ok: true };
}
