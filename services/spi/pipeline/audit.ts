// What the SPI service records in audit_log (issue 9: "the original signed bytes of every BACEN message and
// every money change"). Pure: the store (store.ts) builds these from what a batch actually applied and
// writes them as ONE insert, last in the batch's transaction, so a row exists exactly when its change
// committed. One rule per kind:
//   every message kept in spi_messages    → message.in / message.out, detail.signedXml = the stored bytes
//   a payment reaching a state that moves  → payment.<state>, with the ledger posting written with it
//   or releases money
//   a return settled or rejected          → return.<state>, likewise
//   any other posting written (deposits)  → ledger.posted
import type { AuditRecord } from '../../../shared/audit.ts';
import type { Posting } from '../positions/posting.ts';
import type { MessageRow } from './store.ts';

export const SPI_AUDIT_ACTOR = 'spi';

/**
 * Payment states that move or release money: SETTLED debits/credits, REJECTED and RELEASED free the hold,
 * (PARTIALLY_)RETURNED follow a settled return. SENT, TIMED_OUT and ACCEPTED only wait (the hold is taken in
 * memory, nothing is booked), so they are not audited; their messages are.
 */
export const AUDITED_PAYMENT_STATES: ReadonlySet<string> = new Set(['SETTLED', 'REJECTED', 'RELEASED', 'PARTIALLY_RETURNED', 'RETURNED']);
/** Return states that move money (SETTLED) or give the held amount back (REJECTED); SENT only holds it. */
export const AUDITED_RETURN_STATES: ReadonlySet<string> = new Set(['SETTLED', 'REJECTED']);

export interface PaymentChange {
  endToEndId: string;
  direction: string;
  amountCentavos: bigint;
  /** null: the row was created in this state */
  from: string | null;
  to: string;
  rejectReason: string | null;
  traceId: string | null;
}

export interface ReturnChange {
  returnId: string;
  endToEndId: string;
  direction: string;
  amountCentavos: bigint;
  reason: string;
  from: string | null;
  to: string;
  rejectReason: string | null;
}

export function messageAudit(m: MessageRow): AuditRecord {
  return {
    actor: SPI_AUDIT_ACTOR, action: m.direction === 'OUT' ? 'message.out' : 'message.in', entityType: 'spi_message', entityId: m.msg_id,
    detail: { msgId: m.msg_id, msgType: m.msg_type, direction: m.direction, endToEndId: m.end_to_end_id, signedXml: m.signed_xml },
  };
}

/** The posting as it was booked; null when none was written with the change (none, or already in the ledger). */
function postingDetail(p: Posting | null) {
  if (p === null) return null;
  return { ref: p.ref, kind: p.kind, entries: p.entries.map((e) => ({ accountId: e.accountId.toString(), amountCentavos: e.amountCentavos.toString() })) };
}

export function paymentAudit(c: PaymentChange, posting: Posting | null): AuditRecord {
  return {
    actor: SPI_AUDIT_ACTOR, action: `payment.${c.to.toLowerCase()}`, entityType: 'transaction', entityId: c.endToEndId, traceId: c.traceId ?? undefined,
    detail: {
      direction: c.direction, amountCentavos: c.amountCentavos.toString(), from: c.from, to: c.to,
      ...(c.rejectReason ? { rejectReason: c.rejectReason } : {}), posting: postingDetail(posting),
    },
  };
}

export function returnAudit(c: ReturnChange, posting: Posting | null): AuditRecord {
  return {
    actor: SPI_AUDIT_ACTOR, action: `return.${c.to.toLowerCase()}`, entityType: 'return', entityId: c.returnId,
    detail: {
      endToEndId: c.endToEndId, direction: c.direction, amountCentavos: c.amountCentavos.toString(), reason: c.reason, from: c.from, to: c.to,
      ...(c.rejectReason ? { rejectReason: c.rejectReason } : {}), posting: postingDetail(posting),
    },
  };
}

export function postingAudit(p: Posting): AuditRecord {
  return { actor: SPI_AUDIT_ACTOR, action: 'ledger.posted', entityType: 'ledger_transaction', entityId: p.ref, detail: postingDetail(p)! };
}
