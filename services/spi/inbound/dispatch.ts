// Every message from our inbox passes here: bounds and parse (shared/spi), the signature (XMLDSig in
// BACEN's profile, by a certificate of our trusted CA, and of the party the message claims: SPI for its
// own reports, the payer PSP for a relayed pacs.008/pacs.004), then the handler of its kind. A message
// that fails any check is dropped with a log line and kept nowhere: it is not evidence of anything.
import type { Config } from '../../../shared/config.ts';
import { parseSpiMessage } from '../../../shared/spi/message.ts';
import { msgDefIdrOf } from '../../../shared/spi/envelope.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import { createSpiVerifier } from '../messages/verify.ts';
import type { InboxMessage } from '../messages/link.ts';
import type { PaymentEngine } from '../payments/engine.ts';
import type { SpiStore } from '../pipeline/store.ts';
import type { Returns } from '../returns/returns.ts';
import type { InboundPayments } from './payments.ts';

export interface DispatchDeps {
  config: Pick<Config, 'ispb' | 'bacenIspb'>;
  trustedCaPem: string;
  logger: Logger;
  engine: PaymentEngine;
  inbound: InboundPayments;
  returns: Returns;
  store: SpiStore;
  clock: { now(): Date };
}

export type DispatchOutcome = 'handled' | 'malformed' | 'bad-signature' | 'ignored';

export function createDispatcher(deps: DispatchDeps) {
  const { config, engine, inbound, returns } = deps;
  const log = deps.logger.child({ component: 'inbox' });
  const returnNmId = msgDefIdrOf('pacs.004');
  const verifier = createSpiVerifier(deps.trustedCaPem);

  return async function dispatch(m: InboxMessage): Promise<DispatchOutcome> {
    const parsed = parseSpiMessage(m.xml);
    if (!parsed.ok) {
      log.warn({ msgId: m.msgId, type: m.type, detail: parsed.error.detail }, 'inbox message refused: malformed');
      return 'malformed';
    }
    const msg = parsed.value;
    const verified = verifier.verify(m.xml);
    const expectedSigner = msg.type === 'pacs.008' || msg.type === 'pacs.004' ? msg.header.from : config.bacenIspb;
    if (!verified.ok || verified.ispb !== expectedSigner) {
      log.warn({ msgId: m.msgId, type: msg.type, why: verified.ok ? `signed by ${verified.ispb}, expected ${expectedSigner}` : verified.reason }, 'inbox message refused: signature');
      return 'bad-signature';
    }
    // SPI relays a payer PSP's pacs.008/pacs.004 unchanged (addressed to SPI, signed by the PSP); the
    // handlers check that we are the creditor agent. SPI's own messages are addressed to us.
    const relayed = msg.type === 'pacs.008' || msg.type === 'pacs.004';
    if (msg.header.to !== (relayed ? config.bacenIspb : config.ispb)) {
      log.warn({ msgId: m.msgId, to: msg.header.to }, 'inbox message addressed to someone else');
      return 'ignored';
    }
    switch (msg.type) {
      case 'pacs.008':
        await inbound.onPayment(msg, m.xml);
        return 'handled';
      case 'pacs.004':
        await returns.onInbound(msg, m.xml);
        return 'handled';
      case 'pacs.002': {
        const r = msg.message;
        if (r.originalMsgNmId === returnNmId) await returns.onReport(r, m.xml, msg.header.bizMsgIdr);
        else if (r.originalEndToEndId.slice(1, 9) === config.ispb) await engine.onPacs002(r, m.xml, msg.header.bizMsgIdr);
        else await inbound.onReport(r, m.xml, msg.header.bizMsgIdr);
        return 'handled';
      }
      default:
        // statements and balances are kept as evidence for reconciliation
        await deps.store.write({ kind: 'messages', messages: [{ msg_id: msg.header.bizMsgIdr, msg_type: msg.type, direction: 'IN', end_to_end_id: null, signed_xml: m.xml, created_at: deps.clock.now() }] });
        return 'handled';
    }
  };
}
