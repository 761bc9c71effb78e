// Pure decisions about outbound payments: the state machine lives in shared/spi/payment-states.ts; this
// file maps what arrives (a pacs.002, a deadline) onto its events, and a payment onto its public view.
import { formatAmount } from '../../../shared/money.ts';
import { applyPaymentEvent, type PaymentEvent, type PaymentSnapshot, type PaymentState } from '../../../shared/spi/payment-states.ts';
import type { Pacs002 } from '../../../shared/spi/pacs002.ts';

export type { PaymentState };

export interface PaymentRecord {
  endToEndId: string;
  createdAt: Date;
  state: PaymentState;
  amountCentavos: bigint;
  returnedCentavos: bigint;
  debtor: { branch: string; number: string; taxId: string; name: string; accountType: string };
  creditor: { ispb: string; branch: string | null; number: string; accountType: string; taxId: string; name: string };
  key: string | null;
  txid: string | null;
  initiationForm: string;
  rejectReason: string | null;
  settledAt: Date | null;
  /** the signed pacs.008 exactly as sent ('' once decided and kept in memory: read it from Postgres) */
  signedXml: string;
  msgId: string;
}

/** What an incoming pacs.002 means for a payment in `state`; null when it decides nothing. */
export function eventOfPacs002(state: PaymentState, report: Pick<Pacs002, 'status' | 'reason'>): PaymentEvent | null {
  if (report.status === 'ACSP') return null; // accepted, not settled yet: keep waiting
  if (report.status === 'RJCT' && report.reason === 'AM05') {
    // "duplicate EndToEndId": SPI already has this payment — our own re-send after a restart. The first
    // copy's outcome is the answer, so this report decides nothing.
    return null;
  }
  if (state !== 'SENT' && state !== 'TIMED_OUT') return null; // decided already: a duplicated report
  return report.status === 'ACSC' ? { type: 'settle' } : { type: 'reject', reason: report.reason ?? 'DS04' };
}

export function applyEvent(p: PaymentRecord, e: PaymentEvent): { ok: true; value: PaymentState } | { ok: false; detail: string } {
  const snap: PaymentSnapshot = { state: p.state, amountCentavos: p.amountCentavos, returnedCentavos: p.returnedCentavos };
  const r = applyPaymentEvent(snap, e);
  return r.ok ? { ok: true, value: r.value.state } : { ok: false, detail: r.error.detail };
}

/** Tax ids in answers show only the middle digits, as payer apps do (***.456.789-**). */
export function maskTaxId(taxId: string): string {
  if (taxId.length === 11) return `***.${taxId.slice(3, 6)}.${taxId.slice(6, 9)}-**`;
  if (taxId.length === 14) return `**.${taxId.slice(2, 5)}.${taxId.slice(5, 8)}/${taxId.slice(8, 12)}-**`;
  return '***';
}

export interface PaymentView {
  endToEndId: string;
  status: PaymentState;
  amount: string;
  returnedAmount: string;
  debtor: { branch: string; number: string };
  creditor: { ispb: string; branch: string | null; number: string; accountType: string; name: string; taxId: string };
  key?: string;
  txid?: string;
  initiationForm: string;
  rejectReason?: string;
  createdAt: string;
  settledAt?: string;
  statusUrl: string;
}

export function viewOf(p: PaymentRecord): PaymentView {
  return {
    endToEndId: p.endToEndId,
    status: p.state,
    amount: formatAmount(p.amountCentavos),
    returnedAmount: formatAmount(p.returnedCentavos),
    debtor: { branch: p.debtor.branch, number: p.debtor.number },
    creditor: { ispb: p.creditor.ispb, branch: p.creditor.branch, number: p.creditor.number, accountType: p.creditor.accountType, name: p.creditor.name, taxId: maskTaxId(p.creditor.taxId) },
    ...(p.key ? { key: p.key } : {}),
    ...(p.txid ? { txid: p.txid } : {}),
    initiationForm: p.initiationForm,
    ...(p.rejectReason ? { rejectReason: p.rejectReason } : {}),
    createdAt: p.createdAt.toISOString(),
    ...(p.settledAt ? { settledAt: p.settledAt.toISOString() } : {}),
    statusUrl: `/payments/${p.endToEndId}`,
  };
}

/** Decided: the client's synchronous wait ends (TIMED_OUT is not decided: a late answer still decides). */
export const isDecided = (s: PaymentState) => s !== 'CREATED' && s !== 'RESERVED' && s !== 'SENT' && s !== 'TIMED_OUT';
