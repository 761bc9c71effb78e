// Realistic messages for the signer tests: a pacs.008 SPI envelope built with the canonical builder (the
// signer's fast path; it lives with the load tests, which sign it too) and a DICT CreateEntryRequest.
import { buildCanonicalXml, el } from '../../shared/xml/build.ts';

export { PACS008_NS, pacs008, SPI_NS } from '../../loadtest/support/pacs008.ts';

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
