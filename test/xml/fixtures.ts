// Realistic messages for the signer tests and loadtest/sign.ts: a pacs.008 SPI envelope built with the
// canonical builder (the signer's fast path) and a DICT CreateEntryRequest.
import { buildCanonicalXml, el } from '../../shared/xml/build.ts';

export const SPI_NS = 'https://www.bcb.gov.br/pi/pacs.008/1.13';
export const PACS008_NS = 'urn:iso:std:iso:20022:tech:xsd:pacs.008.spi.1.13';

const fiid = (ispb: string) => el('FIId', null, el('FinInstnId', null, el('Othr', null, el('Id', null, ispb))));
const account = (id: string, branch: string, type: string) =>
  [el('Id', null, el('Othr', null, el('Id', null, id), el('Issr', null, branch))), el('Tp', null, el('Cd', null, type))];
const agent = (ispb: string) => el('FinInstnId', null, el('ClrSysMmbId', null, el('MmbId', null, ispb)));

/** A pacs.008.spi.1.13 payment of `n` centavos-ish variety, ~2.5 KB, already exclusive-canonical. */
export function pacs008(n: number, from = '12345678', to = '00038166'): string {
  const seq = String(n).padStart(11, '0');
  const msgId = `M${from}${'a1b2c3d4e5f6'}${seq}`;
  const e2e = `E${from}202611251830${seq}`;
  const now = '2026-11-25T18:30:12.345Z';
  return buildCanonicalXml({
    name: 'Envelope',
    ns: SPI_NS,
    children: [
      el('AppHdr', null,
        el('Fr', null, fiid(from)), el('To', null, fiid(to)), el('BizMsgIdr', null, msgId),
        el('MsgDefIdr', null, 'pacs.008.spi.1.13'), el('CreDt', null, now), el('Sgntr', null)),
      { name: 'Document', ns: PACS008_NS, children: [
        el('FIToFICstmrCdtTrf', null,
          el('GrpHdr', null, el('MsgId', null, msgId), el('CreDtTm', null, now), el('NbOfTxs', null, '1'),
            el('SttlmInf', null, el('SttlmMtd', null, 'CLRG')),
            el('PmtTpInf', null, el('InstrPrty', null, 'HIGH'), el('SvcLvl', null, el('Prtry', null, 'PAGPRI')))),
          el('CdtTrfTxInf', null,
            el('PmtId', null, el('EndToEndId', null, e2e)),
            el('IntrBkSttlmAmt', { Ccy: 'BRL' }, `${1 + (n % 9999)}.${String(n % 100).padStart(2, '0')}`),
            el('AccptncDtTm', null, now), el('ChrgBr', null, 'SLEV'),
            el('MndtRltdInf', null, el('Tp', null, el('LclInstrm', null, el('Prtry', null, 'DICT')))),
            el('Dbtr', null, el('Nm', null, 'Maria da Silva & Filhos <Ltda>'), el('Id', null, el('PrvtId', null, el('Othr', null, el('Id', null, '52998224725'))))),
            el('DbtrAcct', null, ...account('90530802', '0001', 'CACC')),
            el('DbtrAgt', null, agent(from)),
            el('CdtrAgt', null, agent('99999004')),
            el('Cdtr', null, el('Nm', null, 'João Pereira Comércio'), el('Id', null, el('PrvtId', null, el('Othr', null, el('Id', null, '11222333000181'))))),
            el('CdtrAcct', null, ...account('1169414', '0001', 'TRAN'), el('Prxy', null, el('Id', null, '+5511987654321'))),
            el('Purp', null, el('Cd', null, 'IPAY')),
            el('RmtInf', null, el('Ustrd', null, `Pagamento pedido #${n} — obrigado!`)),
          ),
        ),
      ] },
    ],
  });
}

/** A DICT CreateEntryRequest with the empty Signature placeholder BACEN's examples carry. */
export function dictCreateEntry(): string {
  return buildCanonicalXml(
    el('CreateEntryRequest', null,
      el('Signature', null),
      el('Entry', null, el('Key', null, '+5511987654321'), el('KeyType', null, 'PHONE'),
        el('Account', null, el('Participant', null, '12345678'), el('Branch', null, '0001'), el('AccountNumber', null, '0007654321'),
          el('AccountType', null, 'CACC'), el('OpeningDate', null, '2010-01-10T03:00:00Z')),
        el('Owner', null, el('Type', null, 'NATURAL_PERSON'), el('TaxIdNumber', null, '11122233300'), el('Name', null, 'João Silva'))),
      el('Reason', null, 'USER_REQUESTED'),
      el('RequestId', null, 'a946d533-7f22-42a5-9a9b-e87cd55c0f4d'),
    ),
  ).replace('<Signature></Signature>', '').replace('</RequestId>', '</RequestId><Signature></Signature>');
}

/** The same kind of DICT request, hand-written: indented, self-closing placeholder, a comment, an entity. */
export const DICT_PRETTY = `<?xml version="1.0" encoding="UTF-8"?>
<CreateEntryRequest>
  <!-- written by hand -->
  <Entry>
    <Key>fulano&#64;example.com</Key>
    <KeyType>EMAIL</KeyType>
    <Owner Type='NATURAL_PERSON' Name="Fulano &amp; Cia"/>
  </Entry>
  <RequestId>0f8fad5b-d9cb-469f-a165-70867728950e</RequestId>
  <Signature/>
</CreateEntryRequest>
`;
