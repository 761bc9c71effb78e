// The DICT API request and response bodies (bacen/pix-dict-api, openapi/examples/*), element names as the
// spec writes them. Each `*_MSG` builds canonical XML (ready for signing) and parses a document back into
// the same typed value. Times are ISO-8601 UTC strings; amounts are decimal strings (`100.00`).
import { ACCOUNT_TYPES, KEY_TYPES, OWNER_TYPES, type AccountType, type KeyType, type OwnerType } from './keys.ts';
import { CLAIM_CANCEL_REASONS, CLAIM_CONFIRM_REASONS, CLAIM_STATUSES, CLAIM_TYPES, type ClaimCancelReason, type ClaimConfirmReason, type ClaimRole, type ClaimStatus, type ClaimType } from './claims.ts';
import { INFRACTION_REPORTERS, INFRACTION_RESULTS, INFRACTION_STATUSES, INFRACTION_TYPES, type InfractionReporter, type InfractionResult, type InfractionStatus, type InfractionType } from './infractions.ts';
import { REFUND_REASONS, REFUND_RESULTS, REFUND_STATUSES, type RefundReason, type RefundResult, type RefundStatus } from './refunds.ts';
import type { Result } from '../result.ts';
import { bool, f, int, list, message, oneOf, opt, struct, text, withAttrs, type Codec } from './xml-codec.ts';

export type { Message } from './xml-codec.ts';
/** Anything that parses a DICT document (every `*_REQUEST` / `*_RESPONSE` below). */
export interface MessageLike<T> {
  parse(xml: string): Result<T>;
}

export const ENTRY_REASONS = ['USER_REQUESTED', 'ACCOUNT_CLOSURE', 'BRANCH_TRANSFER', 'RECONCILIATION', 'FRAUD', 'RFB_VALIDATION', 'DEFAULT_OPERATION'] as const;
export type EntryReason = (typeof ENTRY_REASONS)[number];
/** Reasons each entry operation accepts (spec: CreateEntryRequest / UpdateEntryRequest / DeleteEntryRequest). */
export const CREATE_ENTRY_REASONS = ['USER_REQUESTED', 'RECONCILIATION'] as const satisfies readonly EntryReason[];
export const UPDATE_ENTRY_REASONS = ['USER_REQUESTED', 'BRANCH_TRANSFER', 'RECONCILIATION', 'RFB_VALIDATION'] as const satisfies readonly EntryReason[];
export const DELETE_ENTRY_REASONS = ['USER_REQUESTED', 'ACCOUNT_CLOSURE', 'RECONCILIATION', 'FRAUD', 'RFB_VALIDATION'] as const satisfies readonly EntryReason[];

// ---- shared parts -------------------------------------------------------------------------------------
export interface Account {
  participant: string;
  branch?: string;
  accountNumber: string;
  accountType: AccountType;
  openingDate: string;
}
export interface Owner {
  type: OwnerType;
  taxIdNumber: string;
  name: string;
  tradeName?: string;
}
export interface Entry {
  key: string;
  keyType: KeyType;
  account: Account;
  owner: Owner;
  creationDate?: string;
  keyOwnershipDate?: string;
  openClaimCreationDate?: string;
}
/** Present on every sandbox response; optional when parsing because some spec examples omit them. */
export interface Envelope {
  responseTime?: string;
  correlationId?: string;
}

export const ACCOUNT: Codec<Account> = struct([f('Participant'), opt('Branch'), f('AccountNumber'), f('AccountType', oneOf(ACCOUNT_TYPES)), f('OpeningDate')]);
export const OWNER: Codec<Owner> = struct([f('Type', oneOf(OWNER_TYPES)), f('TaxIdNumber'), f('Name'), opt('TradeName')]);
export const ENTRY: Codec<Entry> = struct([
  f('Key'),
  f('KeyType', oneOf(KEY_TYPES)),
  f('Account', ACCOUNT),
  f('Owner', OWNER),
  opt('CreationDate'),
  opt('KeyOwnershipDate'),
  opt('OpenClaimCreationDate'),
]);
const ENVELOPE = [opt('ResponseTime'), opt('CorrelationId')];

// ---- entries ----------------------------------------------------------------------------------------
/** An entry as a participant asks for it: an EVP entry has no Key (DICT generates it). */
export type NewEntry = Omit<Entry, 'key' | 'creationDate' | 'keyOwnershipDate' | 'openClaimCreationDate'> & { key?: string };
export const NEW_ENTRY: Codec<NewEntry> = struct([opt('Key'), f('KeyType', oneOf(KEY_TYPES)), f('Account', ACCOUNT), f('Owner', OWNER)]);
export interface CreateEntryRequest {
  entry: NewEntry;
  reason: EntryReason;
  requestId: string;
}
export const CREATE_ENTRY_REQUEST = message<CreateEntryRequest>('CreateEntryRequest', struct([f('Entry', NEW_ENTRY), f('Reason', oneOf(ENTRY_REASONS)), f('RequestId')]));
export const CREATE_ENTRY_RESPONSE = message<Envelope & { entry: Entry }>('CreateEntryResponse', struct([...ENVELOPE, f('Entry', ENTRY)]));

export interface Counter {
  type: string;
  by?: string;
  d3: string;
  d30: string;
  m6: string;
}
const COUNTER: Codec<Counter> = {
  ...withAttrs(['type', 'd3', 'd30', 'm6'], false),
  attrs: (v: Counter) => ({ type: v.type, ...(v.by ? { by: v.by } : {}), d3: v.d3, d30: v.d30, m6: v.m6 }),
  parse: (node, path) => {
    const base = withAttrs(['type', 'd3', 'd30', 'm6'], false).parse(node, path);
    if (!base.ok) return base;
    const by = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)['@by'] : undefined;
    return { ok: true, value: { ...base.value, ...(typeof by === 'string' ? { by } : {}) } as Counter };
  },
} as Codec<Counter>;
export interface Statistics {
  lastUpdated: string;
  counters: Counter[];
}
const STATISTICS: Codec<Statistics> = struct([f('LastUpdated'), f('Counters', list('Counter', COUNTER))]);
export interface GetEntryResponse extends Envelope {
  entry: Entry;
  statistics?: Statistics;
}
export const GET_ENTRY_RESPONSE = message<GetEntryResponse>('GetEntryResponse', struct([...ENVELOPE, f('Entry', ENTRY), opt('Statistics', STATISTICS)]));

export interface UpdateEntryRequest {
  key: string;
  account: Account;
  owner: Owner;
  reason: EntryReason;
  requestId?: string;
}
export const UPDATE_ENTRY_REQUEST = message<UpdateEntryRequest>(
  'UpdateEntryRequest',
  struct([f('Key'), f('Account', ACCOUNT), f('Owner', OWNER), f('Reason', oneOf(ENTRY_REASONS)), opt('RequestId')]),
);
export const UPDATE_ENTRY_RESPONSE = message<Envelope & { entry: Entry }>('UpdateEntryResponse', struct([...ENVELOPE, f('Entry', ENTRY)]));

export interface DeleteEntryRequest {
  key: string;
  participant: string;
  reason: EntryReason;
  requestId?: string;
}
export const DELETE_ENTRY_REQUEST = message<DeleteEntryRequest>('DeleteEntryRequest', struct([f('Key'), f('Participant'), f('Reason', oneOf(ENTRY_REASONS)), opt('RequestId')]));
export const DELETE_ENTRY_RESPONSE = message<Envelope & { key: string }>('DeleteEntryResponse', struct([...ENVELOPE, f('Key')]));

// ---- keys check ---------------------------------------------------------------------------------------
/** KEYS_CHECK bucket is 70; a request checks at most this many keys. */
export const CHECK_KEYS_MAX = 200;
export const CHECK_KEYS_REQUEST = message<{ keys: string[] }>('CheckKeysRequest', struct([f('Keys', list('Key', text, CHECK_KEYS_MAX))]));
export interface CheckedKey {
  value?: string;
  hasEntry: string;
}
export const CHECK_KEYS_RESPONSE = message<Envelope & { keys: CheckedKey[] }>(
  'CheckKeysResponse',
  struct([...ENVELOPE, f('Keys', list('Key', withAttrs(['hasEntry'], true) as Codec<CheckedKey>, CHECK_KEYS_MAX))]),
);

// ---- claims ---------------------------------------------------------------------------------------------
export interface ClaimBody {
  type: ClaimType;
  key: string;
  keyType: KeyType;
  claimerAccount: Account;
  claimer: Owner;
}
export interface Claim extends ClaimBody {
  donorParticipant: string;
  id: string;
  status: ClaimStatus;
  resolutionPeriodEnd: string;
  completionPeriodEnd: string;
  lastModified: string;
  confirmReason?: ClaimConfirmReason;
  cancelReason?: ClaimCancelReason;
  cancelledBy?: ClaimRole;
}
const CLAIM_BODY_FIELDS = [f('Type', oneOf(CLAIM_TYPES)), f('Key'), f('KeyType', oneOf(KEY_TYPES)), f('ClaimerAccount', ACCOUNT), f('Claimer', OWNER)];
export const CLAIM: Codec<Claim> = struct([
  ...CLAIM_BODY_FIELDS,
  f('DonorParticipant'),
  f('Id'),
  f('Status', oneOf(CLAIM_STATUSES)),
  f('ResolutionPeriodEnd'),
  f('CompletionPeriodEnd'),
  f('LastModified'),
  opt('ConfirmReason', oneOf(CLAIM_CONFIRM_REASONS)),
  opt('CancelReason', oneOf(CLAIM_CANCEL_REASONS)),
  opt('CancelledBy', oneOf(['CLAIMER', 'DONOR'] as const)),
]);
export const CREATE_CLAIM_REQUEST = message<{ claim: ClaimBody; requestId?: string }>('CreateClaimRequest', struct([f('Claim', struct(CLAIM_BODY_FIELDS)), opt('RequestId')]));
export const CREATE_CLAIM_RESPONSE = message<Envelope & { claim: Claim }>('CreateClaimResponse', struct([...ENVELOPE, f('Claim', CLAIM)]));
export const GET_CLAIM_RESPONSE = message<Envelope & { claim: Claim }>('GetClaimResponse', struct([...ENVELOPE, f('Claim', CLAIM)]));
export const LIST_CLAIMS_RESPONSE = message<Envelope & { hasMoreElements: boolean; claims: Claim[] }>(
  'ListClaimsResponse',
  struct([...ENVELOPE, f('HasMoreElements', bool), f('Claims', list('Claim', CLAIM))]),
);
export interface ClaimOperationRequest {
  claimId: string;
  participant: string;
  reason?: string;
  requestId?: string;
}
const CLAIM_OP_FIELDS = [f('ClaimId'), f('Participant'), opt('Reason'), opt('RequestId')];
export const ACKNOWLEDGE_CLAIM_REQUEST = message<ClaimOperationRequest>('AcknowledgeClaimRequest', struct(CLAIM_OP_FIELDS));
export const CONFIRM_CLAIM_REQUEST = message<ClaimOperationRequest>('ConfirmClaimRequest', struct(CLAIM_OP_FIELDS));
export const CANCEL_CLAIM_REQUEST = message<ClaimOperationRequest>('CancelClaimRequest', struct(CLAIM_OP_FIELDS));
export const COMPLETE_CLAIM_REQUEST = message<ClaimOperationRequest>('CompleteClaimRequest', struct(CLAIM_OP_FIELDS));
export const ACKNOWLEDGE_CLAIM_RESPONSE = message<Envelope & { claim: Claim }>('AcknowledgeClaimResponse', struct([...ENVELOPE, f('Claim', CLAIM)]));
export const CONFIRM_CLAIM_RESPONSE = message<Envelope & { claim: Claim }>('ConfirmClaimResponse', struct([...ENVELOPE, f('Claim', CLAIM)]));
export const CANCEL_CLAIM_RESPONSE = message<Envelope & { claim: Claim }>('CancelClaimResponse', struct([...ENVELOPE, f('Claim', CLAIM)]));
export const COMPLETE_CLAIM_RESPONSE = message<Envelope & { claim: Claim; entryCreationDate: string; keyOwnershipDate: string }>(
  'CompleteClaimResponse',
  struct([...ENVELOPE, f('Claim', CLAIM), f('EntryCreationDate'), f('KeyOwnershipDate')]),
);

// ---- reconciliation -------------------------------------------------------------------------------------
export interface SyncVerificationRequest {
  participant: string;
  keyType: KeyType;
  syncVerifier: string;
}
export const CREATE_SYNC_VERIFICATION_REQUEST = message<{ syncVerification: SyncVerificationRequest }>(
  'CreateSyncVerificationRequest',
  struct([f('SyncVerification', struct([f('Participant'), f('KeyType', oneOf(KEY_TYPES)), f('SyncVerifier')]))]),
);
export interface SyncVerification {
  participant: string;
  keyType: KeyType;
  participantSyncVerifier: string;
  id: string;
  result: 'OK' | 'NOK';
}
export const CREATE_SYNC_VERIFICATION_RESPONSE = message<Envelope & { syncVerification: SyncVerification }>(
  'CreateSyncVerificationResponse',
  struct([
    ...ENVELOPE,
    f('SyncVerification', struct([f('Participant'), f('KeyType', oneOf(KEY_TYPES)), f('ParticipantSyncVerifier'), f('Id'), f('Result', oneOf(['OK', 'NOK'] as const))])),
  ]),
);
export const CREATE_CID_SET_FILE_REQUEST = message<{ participant: string; keyType: KeyType }>('CreateCidSetFileRequest', struct([f('Participant'), f('KeyType', oneOf(KEY_TYPES))]));
export interface CidSetFile {
  id: string;
  status: 'PROCESSING' | 'AVAILABLE' | 'UNAVAILABLE' | 'ERROR';
  participant: string;
  keyType: KeyType;
  requestTime: string;
  creationTime?: string;
  url?: string;
  bytes?: number;
  sha256?: string;
}
const CID_SET_FILE: Codec<CidSetFile> = struct([
  f('Id'),
  f('Status', oneOf(['PROCESSING', 'AVAILABLE', 'UNAVAILABLE', 'ERROR'] as const)),
  f('Participant'),
  f('KeyType', oneOf(KEY_TYPES)),
  f('RequestTime'),
  opt('CreationTime'),
  opt('Url'),
  opt('Bytes', int),
  opt('Sha256'),
]);
export const CREATE_CID_SET_FILE_RESPONSE = message<Envelope & { cidSetFile: CidSetFile }>('CreateCidSetFileResponse', struct([...ENVELOPE, f('CidSetFile', CID_SET_FILE)]));
export const GET_CID_SET_FILE_RESPONSE = message<Envelope & { cidSetFile: CidSetFile }>('GetCidSetFileResponse', struct([...ENVELOPE, f('CidSetFile', CID_SET_FILE)]));
export interface CidSetEvent {
  type: 'ADDED' | 'REMOVED';
  cid: string;
  timestamp: string;
}
export interface ListCidSetEventsResponse extends Envelope {
  hasMoreElements: boolean;
  participant: string;
  keyType: KeyType;
  startTime: string;
  endTime: string;
  syncVerifierStart: string;
  syncVerifierEnd: string;
  cidSetEvents: CidSetEvent[];
}
export const LIST_CID_SET_EVENTS_RESPONSE = message<ListCidSetEventsResponse>(
  'ListCidSetEventsResponse',
  struct([
    ...ENVELOPE,
    f('HasMoreElements', bool),
    f('Participant'),
    f('KeyType', oneOf(KEY_TYPES)),
    f('StartTime'),
    f('EndTime'),
    f('SyncVerifierStart'),
    f('SyncVerifierEnd'),
    f('CidSetEvents', list('CidSetEvent', struct<CidSetEvent>([f('Type', oneOf(['ADDED', 'REMOVED'] as const)), f('Cid'), f('Timestamp')]))),
  ]),
);
export const GET_ENTRY_BY_CID_RESPONSE = message<Envelope & { cid: string; entry: Entry; requestId: string }>(
  'GetEntryByCidResponse',
  struct([...ENVELOPE, f('Cid'), f('Entry', ENTRY), f('RequestId')]),
);

// ---- infraction reports ---------------------------------------------------------------------------------
export interface InfractionReportBody {
  transactionId: string;
  infractionType: InfractionType;
  reportDetails: string;
}
export interface InfractionReport extends InfractionReportBody {
  reportedBy: InfractionReporter;
  id: string;
  status: InfractionStatus;
  debitedParticipant: string;
  creditedParticipant: string;
  creationTime: string;
  lastModified: string;
  analysisResult?: InfractionResult;
  analysisDetails?: string;
}
const INFRACTION_BODY_FIELDS = [f('TransactionId'), f('InfractionType', oneOf(INFRACTION_TYPES)), f('ReportDetails')];
export const INFRACTION_REPORT: Codec<InfractionReport> = struct([
  f('TransactionId'),
  f('InfractionType', oneOf(INFRACTION_TYPES)),
  f('ReportedBy', oneOf(INFRACTION_REPORTERS)),
  f('ReportDetails'),
  f('Id'),
  f('Status', oneOf(INFRACTION_STATUSES)),
  f('DebitedParticipant'),
  f('CreditedParticipant'),
  f('CreationTime'),
  f('LastModified'),
  opt('AnalysisResult', oneOf(INFRACTION_RESULTS)),
  opt('AnalysisDetails'),
]);
export const CREATE_INFRACTION_REPORT_REQUEST = message<{ participant: string; infractionReport: InfractionReportBody; requestId?: string }>(
  'CreateInfractionReportRequest',
  struct([f('Participant'), f('InfractionReport', struct(INFRACTION_BODY_FIELDS)), opt('RequestId')]),
);
export interface InfractionOperationRequest {
  infractionReportId: string;
  participant: string;
  analysisResult?: InfractionResult;
  analysisDetails?: string;
}
const INFRACTION_OP_FIELDS = [f('InfractionReportId'), f('Participant'), opt('AnalysisResult', oneOf(INFRACTION_RESULTS)), opt('AnalysisDetails')];
export const ACKNOWLEDGE_INFRACTION_REPORT_REQUEST = message<InfractionOperationRequest>('AcknowledgeInfractionReportRequest', struct(INFRACTION_OP_FIELDS));
export const CANCEL_INFRACTION_REPORT_REQUEST = message<InfractionOperationRequest>('CancelInfractionReportRequest', struct(INFRACTION_OP_FIELDS));
export const CLOSE_INFRACTION_REPORT_REQUEST = message<InfractionOperationRequest>('CloseInfractionReportRequest', struct(INFRACTION_OP_FIELDS));
const infractionResponse = (root: string) => message<Envelope & { infractionReport: InfractionReport }>(root, struct([...ENVELOPE, f('InfractionReport', INFRACTION_REPORT)]));
export const CREATE_INFRACTION_REPORT_RESPONSE = infractionResponse('CreateInfractionReportResponse');
export const GET_INFRACTION_REPORT_RESPONSE = infractionResponse('GetInfractionReportResponse');
export const ACKNOWLEDGE_INFRACTION_REPORT_RESPONSE = infractionResponse('AcknowledgeInfractionReportResponse');
export const CANCEL_INFRACTION_REPORT_RESPONSE = infractionResponse('CancelInfractionReportResponse');
export const CLOSE_INFRACTION_REPORT_RESPONSE = infractionResponse('CloseInfractionReportResponse');
export const LIST_INFRACTION_REPORTS_RESPONSE = message<Envelope & { hasMoreElements: boolean; infractionReports: InfractionReport[] }>(
  'ListInfractionReportsResponse',
  struct([...ENVELOPE, f('HasMoreElements', bool), f('InfractionReports', list('InfractionReport', INFRACTION_REPORT))]),
);

// ---- refunds ------------------------------------------------------------------------------------------------
export interface RefundBody {
  transactionId: string;
  refundReason: RefundReason;
  refundAmount: string;
  refundDetails?: string;
}
export interface Refund extends RefundBody {
  id: string;
  status: RefundStatus;
  contestedParticipant: string;
  requestingParticipant: string;
  creationTime: string;
  lastModified: string;
  refundAnalysisResult?: RefundResult;
  refundAnalysisDetails?: string;
  refundTransactionId?: string;
}
const REFUND_BODY_FIELDS = [f('TransactionId'), f('RefundReason', oneOf(REFUND_REASONS)), f('RefundAmount'), opt('RefundDetails')];
export const REFUND: Codec<Refund> = struct([
  ...REFUND_BODY_FIELDS,
  f('Id'),
  f('Status', oneOf(REFUND_STATUSES)),
  f('ContestedParticipant'),
  f('RequestingParticipant'),
  f('CreationTime'),
  f('LastModified'),
  opt('RefundAnalysisResult', oneOf(REFUND_RESULTS)),
  opt('RefundAnalysisDetails'),
  opt('RefundTransactionId'),
]);
export const CREATE_REFUND_REQUEST = message<{ participant: string; refund: RefundBody; requestId?: string }>(
  'CreateRefundRequest',
  struct([f('Participant'), f('Refund', struct(REFUND_BODY_FIELDS)), opt('RequestId')]),
);
export interface RefundOperationRequest {
  refundId: string;
  participant: string;
  refundAnalysisResult?: RefundResult;
  refundAnalysisDetails?: string;
  refundTransactionId?: string;
}
const REFUND_OP_FIELDS = [f('RefundId'), f('Participant'), opt('RefundAnalysisResult', oneOf(REFUND_RESULTS)), opt('RefundAnalysisDetails'), opt('RefundTransactionId')];
export const CANCEL_REFUND_REQUEST = message<RefundOperationRequest>('CancelRefundRequest', struct(REFUND_OP_FIELDS));
export const CLOSE_REFUND_REQUEST = message<RefundOperationRequest>('CloseRefundRequest', struct(REFUND_OP_FIELDS));
const refundResponse = (root: string) => message<Envelope & { refund: Refund }>(root, struct([...ENVELOPE, f('Refund', REFUND)]));
export const CREATE_REFUND_RESPONSE = refundResponse('CreateRefundResponse');
export const GET_REFUND_RESPONSE = refundResponse('GetRefundResponse');
export const CANCEL_REFUND_RESPONSE = refundResponse('CancelRefundResponse');
export const CLOSE_REFUND_RESPONSE = refundResponse('CloseRefundResponse');
export const LIST_REFUNDS_RESPONSE = message<Envelope & { hasMoreElements: boolean; refunds: Refund[] }>(
  'ListRefundsResponse',
  struct([...ENVELOPE, f('HasMoreElements', bool), f('Refunds', list('Refund', REFUND))]),
);

// ---- policies and statistics ----------------------------------------------------------------------------------
export interface PolicyState {
  availableTokens: number;
  capacity: number;
  refillTokens: number;
  refillPeriodSec: number;
  name: string;
}
const POLICY: Codec<PolicyState> = struct([f('AvailableTokens', int), f('Capacity', int), f('RefillTokens', int), f('RefillPeriodSec', int), f('Name')]);
export const GET_POLICY_RESPONSE = message<Envelope & { category: string; policy: PolicyState }>('GetPolicyResponse', struct([...ENVELOPE, f('Category'), f('Policy', POLICY)]));
export const LIST_POLICIES_RESPONSE = message<Envelope & { category: string; policies: PolicyState[] }>(
  'ListPoliciesResponse',
  struct([...ENVELOPE, f('Category'), f('Policies', list('Policy', POLICY))]),
);
export const GET_OWNER_STATISTICS_RESPONSE = message<Envelope & { ownerStatistics: { taxIdNumber: string; lastUpdated: string; counters: Counter[] } }>(
  'GetOwnerStatisticsResponse',
  struct([...ENVELOPE, f('OwnerStatistics', struct([f('TaxIdNumber'), f('LastUpdated'), f('Counters', list('Counter', COUNTER))]))]),
);
