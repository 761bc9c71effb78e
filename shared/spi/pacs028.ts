// pacs.028 FIToFIPaymentStatusRequest, SPI profile: a participant asks SPI for the current status of one of
// its payments by EndToEndId (e.g. its pacs.002 never arrived). SPI answers with a pacs.002 of the state it
// holds: ACSC (settled), RJCT + reason, or ACSP (received, not decided yet). The sandbox serves it on
// POST /api/v1/out/:ispb/status (services/bacen-sandbox/spi/README.md).
import { parseEndToEndId } from '../ids.ts';
import type { Result } from '../result.ts';
import { el } from '../xml/build.ts';
import { buildEnvelope, groupHeader, msgDefIdrOf, parseEnvelopeOf, type AppHdr, type SpiEnvelope } from './envelope.ts';
import type { Reader } from './read.ts';

export interface Pacs028 {
  /** the payment asked about */
  originalEndToEndId: string;
}

export function buildPacs028(header: AppHdr, r: Pacs028): string {
  return buildEnvelope('pacs.028', header, el('FIToFIPmtStsReq', null,
    groupHeader(header),
    el('OrgnlGrpInf', null, el('OrgnlMsgNmId', null, msgDefIdrOf('pacs.008'))),
    el('TxInf', null, el('OrgnlEndToEndId', null, r.originalEndToEndId))));
}

export function readPacs028(body: Reader): Pacs028 {
  body.at('OrgnlGrpInf').oneOf('OrgnlMsgNmId', [msgDefIdrOf('pacs.008')]);
  return { originalEndToEndId: body.at('TxInf').id('OrgnlEndToEndId', parseEndToEndId) };
}

export function parsePacs028(xml: string): Result<SpiEnvelope<Pacs028>> {
  return parseEnvelopeOf(xml, 'pacs.028', readPacs028);
}
