// How the service reaches SPI: posts our signed messages and pulls our inbox. The transport details of
// the ICOM-style interface live in sandbox-link.ts (over the BACEN mTLS client).
export type SendOutcome =
  /** SPI took the message; its answer (pacs.002) arrives in our inbox */
  | { kind: 'accepted' }
  /** SPI refused the message itself (shape, signature, nothing awaiting it): it will never be processed */
  | { kind: 'refused'; status: number; detail: string }
  /** no answer or a 5xx: SPI may or may not have the message; re-send the same bytes later */
  | { kind: 'unknown'; detail: string };

export interface InboxMessage {
  type: string;
  msgId: string;
  /** the message exactly as received (signed XML) */
  xml: string;
}

/**
 * One poller's position in our inbox. Each pull acknowledges the batch the previous pull returned, so a
 * poller pulls again only after its batch is durable: a crash before that gets the batch redelivered.
 */
export interface InboxCursor {
  pull(max: number, signal?: AbortSignal): Promise<{ ok: true; messages: InboxMessage[] } | { ok: false; detail: string }>;
}

export type StatusOutcome =
  /** SPI's signed pacs.002 with the payment's current state (not yet verified) */
  | { kind: 'report'; xml: string }
  /** SPI has no such payment: it never received our pacs.008 */
  | { kind: 'unknown-payment' }
  /** no usable answer (transport, 5xx, refusal): ask again later */
  | { kind: 'failed'; detail: string };

export interface SpiLink {
  send(signedXml: string): Promise<SendOutcome>;
  /** a signed pacs.028 status request, answered synchronously */
  status(signedXml: string): Promise<StatusOutcome>;
  cursor(): InboxCursor;
}
