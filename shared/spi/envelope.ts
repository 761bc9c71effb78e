// The SPI envelope every message travels in (catalog § "Estrutura básica das mensagens"):
//
//   <Envelope xmlns="https://www.bcb.gov.br/pi/pacs.008/1.13">
//     <AppHdr>Fr/FIId/FinInstnId/Othr/Id, To/…, BizMsgIdr, MsgDefIdr, CreDt, Sgntr</AppHdr>   (head.001.001.01)
//     <Document>…</Document>
//   </Envelope>
//
// One default namespace per message type and version on the Envelope; AppHdr and Document inherit it (BACEN's
// published examples do this; PIX.md's `urn:…:tech:xsd:pacs.008.spi.1.13` is the MsgDefIdr, not a namespace:
// the parser accepts a Document in that urn namespace too, as older fixtures write it). The builder writes
// exclusive-canonical XML with an empty <Sgntr></Sgntr>, so shared/xml/signer.ts signSpi takes its fast path
// and puts ds:Signature in AppHdr/Sgntr, adding Id="app-hdr-id" / Id="document-id" for the references.
import { parseIspb, parseMsgId } from '../ids.ts';
import type { Result } from '../result.ts';
import { buildCanonicalXml, el, type XmlElement } from '../xml/build.ts';
import { parseXml } from '../xml/parse.ts';
import { readMessage, Reader, refuse, type Node } from './read.ts';

/** The message versions this platform speaks (SPI catalog); one place to move when BACEN publishes a new one. */
export const SPI_VERSIONS = {
  'pacs.008': '1.13',
  'pacs.002': '1.14',
  'pacs.004': '1.5',
  // status request (pacs.028.ts); FluxiQ's choice of version: the sandbox is its only counterpart so far
  'pacs.028': '1.3',
  'camt.052': '1.3',
  'camt.053': '1.3',
} as const;

export type SpiMessageType = keyof typeof SPI_VERSIONS;
export const SPI_MESSAGE_TYPES = Object.keys(SPI_VERSIONS) as SpiMessageType[];

/** ISO 20022 root element of each message's Document. */
export const SPI_DOCUMENT_ROOTS: Record<SpiMessageType, string> = {
  'pacs.008': 'FIToFICstmrCdtTrf',
  'pacs.002': 'FIToFIPmtStsRpt',
  'pacs.004': 'PmtRtr',
  'pacs.028': 'FIToFIPmtStsReq',
  'camt.052': 'BkToCstmrAcctRpt',
  'camt.053': 'BkToCstmrStmt',
};

/** `pacs.008.spi.1.13` */
export const msgDefIdrOf = (type: SpiMessageType) => `${type}.spi.${SPI_VERSIONS[type]}`;
/** `https://www.bcb.gov.br/pi/pacs.008/1.13` */
export const envelopeNamespaceOf = (type: SpiMessageType) => `https://www.bcb.gov.br/pi/${type}/${SPI_VERSIONS[type]}`;

export interface AppHdr {
  /** ISPB of the sender (Fr) */
  from: string;
  /** ISPB of the addressee (To) */
  to: string;
  /** BizMsgIdr; the Document's GrpHdr/MsgId carries the same value */
  bizMsgIdr: string;
  /** CreDt; the Document's GrpHdr/CreDtTm carries the same instant */
  creDt: Date;
}

export interface SpiEnvelope<T> {
  type: SpiMessageType;
  msgDefIdr: string;
  header: AppHdr;
  message: T;
  /** AppHdr/Sgntr holds a signature (checked by shared/xml/verify.ts, not here) */
  signed: boolean;
}

const fiid = (ispb: string) => el('FIId', null, el('FinInstnId', null, el('Othr', null, el('Id', null, ispb))));

/** Unsigned canonical envelope around `documentRoot` (the ISO message element, e.g. FIToFICstmrCdtTrf). */
export function buildEnvelope(type: SpiMessageType, header: AppHdr, documentRoot: XmlElement): string {
  // identifiers built by code: a malformed one here is a bug in the caller, not input
  if (!parseIspb(header.from).ok || !parseIspb(header.to).ok) throw new Error(`AppHdr: bad ISPB ${header.from} → ${header.to}`);
  if (!parseMsgId(header.bizMsgIdr).ok) throw new Error(`AppHdr: bad BizMsgIdr ${header.bizMsgIdr}`);
  return buildCanonicalXml({
    name: 'Envelope',
    ns: envelopeNamespaceOf(type),
    children: [
      el('AppHdr', null,
        el('Fr', null, fiid(header.from)),
        el('To', null, fiid(header.to)),
        el('BizMsgIdr', null, header.bizMsgIdr),
        el('MsgDefIdr', null, msgDefIdrOf(type)),
        el('CreDt', null, header.creDt.toISOString()),
        el('Sgntr', null)),
      el('Document', null, documentRoot),
    ],
  });
}

/** GrpHdr with MsgId/CreDtTm taken from the AppHdr (the catalog requires them equal). */
export function groupHeader(header: AppHdr, ...rest: XmlElement[]): XmlElement {
  return el('GrpHdr', null, el('MsgId', null, header.bizMsgIdr), el('CreDtTm', null, header.creDt.toISOString()), ...rest);
}

const ENVELOPE_NS_RE = /^(?:\s|<\?[^]*?\?>)*<Envelope\b[^>]*?\sxmlns="([^"]*)"/;
const MSG_DEF_IDR_RE = /^([a-z]{4}\.\d{3})\.spi\.(\d+\.\d+)$/;

export interface RawEnvelope {
  type: SpiMessageType;
  msgDefIdr: string;
  header: AppHdr;
  /** reader on the Document's ISO root (FIToFICstmrCdtTrf…) */
  body: Reader;
  signed: boolean;
}

/** Parses the envelope and header, checks the version and namespace, and hands back the Document root. */
export function readEnvelope(xml: string, expected?: SpiMessageType): Result<RawEnvelope> {
  const parsed = parseXml(xml);
  if (!parsed.ok) return parsed;
  return readMessage(() => {
    const root = parsed.value as Node;
    const rootNames = Object.keys(root).filter((k) => !k.startsWith('?'));
    if (rootNames.length !== 1 || rootNames[0] !== 'Envelope') refuse('Envelope', 'root', 'the root element must be Envelope');
    const env = new Reader(root, '').at('Envelope');
    const hdr = env.at('AppHdr');
    const msgDefIdr = hdr.text('MsgDefIdr', MSG_DEF_IDR_RE);
    const [, kind, version] = MSG_DEF_IDR_RE.exec(msgDefIdr)!;
    const type = kind as SpiMessageType;
    if (!(type in SPI_VERSIONS)) refuse('Envelope.AppHdr.MsgDefIdr', 'message-type', `${kind} is not a message this platform exchanges`);
    if (SPI_VERSIONS[type] !== version) refuse('Envelope.AppHdr.MsgDefIdr', 'version', `${type} must be version ${SPI_VERSIONS[type]}, got ${version}`);
    if (expected && type !== expected) refuse('Envelope.AppHdr.MsgDefIdr', 'message-type', `expected ${expected}, got ${type}`);
    const ns = ENVELOPE_NS_RE.exec(xml)?.[1];
    if (ns !== envelopeNamespaceOf(type)) refuse('Envelope', 'namespace', `the Envelope namespace must be ${envelopeNamespaceOf(type)}`);
    const header: AppHdr = {
      from: hdr.at('Fr').at('FIId').at('FinInstnId').at('Othr').id('Id', parseIspb),
      to: hdr.at('To').at('FIId').at('FinInstnId').at('Othr').id('Id', parseIspb),
      bizMsgIdr: hdr.id('BizMsgIdr', parseMsgId),
      creDt: hdr.dateTime('CreDt'),
    };
    const sgntr = hdr.node['Sgntr'];
    const signed = typeof sgntr === 'object' && sgntr !== null && 'Signature' in sgntr;
    const doc = env.at('Document');
    const rootName = SPI_DOCUMENT_ROOTS[type];
    const body = doc.at(rootName);
    const grp = body.at('GrpHdr');
    if (grp.id('MsgId', parseMsgId) !== header.bizMsgIdr) refuse(`${grp.path}.MsgId`, 'matches-header', 'must equal AppHdr/BizMsgIdr');
    if (grp.dateTime('CreDtTm').getTime() !== header.creDt.getTime()) refuse(`${grp.path}.CreDtTm`, 'matches-header', 'must equal AppHdr/CreDt');
    return { type, msgDefIdr, header, body, signed };
  });
}

/** Reads an envelope of one type and its message with `read`; field paths start at the Document root. */
export function parseEnvelopeOf<T>(xml: string, type: SpiMessageType, read: (body: Reader, header: AppHdr) => T): Result<SpiEnvelope<T>> {
  const raw = readEnvelope(xml, type);
  if (!raw.ok) return raw;
  const { body, header, msgDefIdr, signed } = raw.value;
  return readMessage(() => ({ type, msgDefIdr, header, message: read(body, header), signed }));
}

/** The ISPB pair and MsgDefIdr without reading the Document: routing a message costs one header read. */
export function peekHeader(xml: string): Result<{ type: SpiMessageType; header: AppHdr; signed: boolean }> {
  const raw = readEnvelope(xml);
  if (!raw.ok) return raw;
  return { ok: true, value: { type: raw.value.type, header: raw.value.header, signed: raw.value.signed } };
}
