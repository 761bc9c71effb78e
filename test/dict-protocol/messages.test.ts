import { describe, expect, test } from 'bun:test';
import {
  CHECK_KEYS_RESPONSE,
  CLOSE_REFUND_REQUEST,
  CREATE_CLAIM_REQUEST,
  CREATE_ENTRY_REQUEST,
  GET_ENTRY_RESPONSE,
  GET_POLICY_RESPONSE,
  LIST_CID_SET_EVENTS_RESPONSE,
  LIST_CLAIMS_RESPONSE,
  LIST_INFRACTION_REPORTS_RESPONSE,
  type Entry,
} from '../../shared/dict/messages.ts';

const ENTRY: Entry = {
  key: '+5521912345678',
  keyType: 'PHONE',
  account: { participant: '12345678', branch: '0042', accountNumber: '0001234567', accountType: 'SVGS', openingDate: '2015-03-01T03:00:00Z' },
  owner: { type: 'LEGAL_PERSON', taxIdNumber: '12ABC34501DE35', name: 'Padaria & Cia <Ltda>', tradeName: 'Pão Quente' },
  creationDate: '2026-01-02T03:04:05Z',
  keyOwnershipDate: '2026-01-02T03:04:05Z',
};

describe('DICT XML bodies use the spec element names and round-trip', () => {
  test('CreateEntryRequest: built canonically, parsed back to the same value', () => {
    const { creationDate: _c, keyOwnershipDate: _k, ...newEntry } = ENTRY;
    const value = { entry: newEntry, reason: 'USER_REQUESTED' as const, requestId: '0b6a2c1e-7d44-4f0e-9b7a-1f2e3d4c5b6a' };
    const xml = CREATE_ENTRY_REQUEST.build(value);
    expect(xml.startsWith('<CreateEntryRequest><Entry><Key>+5521912345678</Key><KeyType>PHONE</KeyType><Account><Participant>12345678</Participant>')).toBe(true);
    expect(xml).toContain('<Name>Padaria &amp; Cia &lt;Ltda&gt;</Name><TradeName>Pão Quente</TradeName>');
    expect(CREATE_ENTRY_REQUEST.parse(xml)).toEqual({ ok: true, value });
  });

  test('a document as BACEN writes it (declaration, indentation, empty Signature) parses', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8" ?>
<CreateEntryRequest>
    <Signature></Signature>
    <Entry>
        <Key>+5521912345678</Key>
        <KeyType>PHONE</KeyType>
        <Account>
            <Participant>12345678</Participant>
            <AccountNumber>0001234567</AccountNumber>
            <AccountType>CACC</AccountType>
            <OpeningDate>2015-03-01T03:00:00Z</OpeningDate>
        </Account>
        <Owner><Type>NATURAL_PERSON</Type><TaxIdNumber>52998224725</TaxIdNumber><Name>Maria</Name></Owner>
    </Entry>
    <Reason>USER_REQUESTED</Reason>
    <RequestId>0b6a2c1e-7d44-4f0e-9b7a-1f2e3d4c5b6a</RequestId>
</CreateEntryRequest>`;
    const r = CREATE_ENTRY_REQUEST.parse(xml);
    expect(r.ok && r.value.entry.account).toEqual({ participant: '12345678', accountNumber: '0001234567', accountType: 'CACC', openingDate: '2015-03-01T03:00:00Z' });
  });

  test('a missing required element or a bad enum names the field and rule', () => {
    const r = CREATE_ENTRY_REQUEST.parse('<CreateEntryRequest><Reason>USER_REQUESTED</Reason><RequestId>x</RequestId></CreateEntryRequest>');
    expect(r.ok ? null : r.error).toMatchObject({ field: 'Entry', rule: 'required' });
    const xml = CREATE_ENTRY_REQUEST.build({ entry: ENTRY, reason: 'USER_REQUESTED', requestId: 'x' }).replace('<KeyType>PHONE</KeyType>', '<KeyType>IBAN</KeyType>');
    const bad = CREATE_ENTRY_REQUEST.parse(xml);
    expect(bad.ok ? null : bad.error).toMatchObject({ field: 'Entry.KeyType', rule: 'enum' });
    expect(CREATE_ENTRY_REQUEST.parse('<Other/>').ok).toBe(false);
  });

  test('GetEntryResponse carries statistics counters as attributes', () => {
    const value = {
      responseTime: '2026-11-25T12:00:00Z',
      correlationId: 'c0ffee',
      entry: ENTRY,
      statistics: {
        lastUpdated: '2026-11-25T12:00:00Z',
        counters: [
          { type: 'SETTLEMENTS', by: 'KEY', d3: '0', d30: '5', m6: '10' },
          { type: 'REPORTED_FRAUDS', by: 'OWNER', d3: '1', d30: '1', m6: '1' },
        ],
      },
    };
    const xml = GET_ENTRY_RESPONSE.build(value);
    expect(xml).toContain('<Counter by="KEY" d3="0" d30="5" m6="10" type="SETTLEMENTS"></Counter>');
    expect(GET_ENTRY_RESPONSE.parse(xml)).toEqual({ ok: true, value });
  });

  test('claims: CreateClaimRequest and ListClaimsResponse with one and with two claims', () => {
    const body = { type: 'PORTABILITY' as const, key: '+5521912345678', keyType: 'PHONE' as const, claimerAccount: ENTRY.account, claimer: ENTRY.owner };
    expect(CREATE_CLAIM_REQUEST.parse(CREATE_CLAIM_REQUEST.build({ claim: body }))).toEqual({ ok: true, value: { claim: body } });
    const claim = {
      ...body,
      donorParticipant: '10000001',
      id: '6f0c1d1e-2b3a-4c5d-8e9f-0a1b2c3d4e5f',
      status: 'CANCELLED' as const,
      resolutionPeriodEnd: '2026-12-02T12:00:00Z',
      completionPeriodEnd: '2026-12-02T12:00:00Z',
      lastModified: '2026-12-02T12:00:01Z',
      cancelReason: 'DEFAULT_OPERATION' as const,
      cancelledBy: 'DONOR' as const,
    };
    for (const claims of [[claim], [claim, { ...claim, id: '7f0c1d1e-2b3a-4c5d-8e9f-0a1b2c3d4e5f' }], []]) {
      const value = { responseTime: 't', correlationId: 'c', hasMoreElements: false, claims };
      expect(LIST_CLAIMS_RESPONSE.parse(LIST_CLAIMS_RESPONSE.build(value))).toEqual({ ok: true, value });
    }
  });

  test('keys check, CID events, infraction list, refund close and policy round-trip', () => {
    const keys = { responseTime: 't', correlationId: 'c', keys: [{ value: 'a@b.com', hasEntry: 'true' }, { value: '+5511999999999', hasEntry: 'false' }] };
    const keysXml = CHECK_KEYS_RESPONSE.build(keys);
    expect(keysXml).toContain('<Key hasEntry="true">a@b.com</Key>');
    expect(CHECK_KEYS_RESPONSE.parse(keysXml)).toEqual({ ok: true, value: keys });

    const events = {
      responseTime: 't',
      correlationId: 'c',
      hasMoreElements: false,
      participant: '12345678',
      keyType: 'CPF' as const,
      startTime: 's',
      endTime: 'e',
      syncVerifierStart: '0'.repeat(64),
      syncVerifierEnd: 'a'.repeat(64),
      cidSetEvents: [{ type: 'ADDED' as const, cid: 'a'.repeat(64), timestamp: 'ts' }],
    };
    expect(LIST_CID_SET_EVENTS_RESPONSE.parse(LIST_CID_SET_EVENTS_RESPONSE.build(events))).toEqual({ ok: true, value: events });

    const report = {
      transactionId: 'E12345678202611251200abcdefghijk',
      infractionType: 'FRAUD' as const,
      reportedBy: 'DEBITED_PARTICIPANT' as const,
      reportDetails: 'golpe',
      id: 'r1',
      status: 'CLOSED' as const,
      debitedParticipant: '12345678',
      creditedParticipant: '10000002',
      creationTime: 'c',
      lastModified: 'l',
      analysisResult: 'AGREED' as const,
      analysisDetails: 'ok',
    };
    const list = { responseTime: 't', correlationId: 'c', hasMoreElements: true, infractionReports: [report] };
    expect(LIST_INFRACTION_REPORTS_RESPONSE.parse(LIST_INFRACTION_REPORTS_RESPONSE.build(list))).toEqual({ ok: true, value: list });

    const close = { refundId: 'x', participant: '10000002', refundAnalysisResult: 'TOTALLY_ACCEPTED' as const, refundAnalysisDetails: 'd', refundTransactionId: 'D1' };
    expect(CLOSE_REFUND_REQUEST.parse(CLOSE_REFUND_REQUEST.build(close))).toEqual({ ok: true, value: close });

    const policy = { responseTime: 't', correlationId: 'c', category: 'A', policy: { availableTokens: 5, capacity: 100, refillTokens: 2, refillPeriodSec: 60, name: 'ENTRIES_READ_USER_ANTISCAN' } };
    expect(GET_POLICY_RESPONSE.parse(GET_POLICY_RESPONSE.build(policy))).toEqual({ ok: true, value: policy });
  });
});
