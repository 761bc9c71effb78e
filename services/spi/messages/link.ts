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

export interface SpiLink {
  send(signedXml: string): Promise<SendOutcome>;
  cursor(): InboxCursor;
}
