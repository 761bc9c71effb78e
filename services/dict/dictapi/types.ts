// The DICT operations the service uses, as plain values. api.ts implements them over mTLS with signed
// XML; everything above it (keys, lookup, claims, sync, med) sees only these shapes and Results.
import type { AccountType, KeyType, OwnerType } from '../../../shared/dict/keys.ts';
import type { Result } from '../../../shared/result.ts';

export interface DictAccount {
  participant: string;
  branch: string;
  accountNumber: string;
  accountType: AccountType;
  openingDate: Date;
}

export interface DictOwner {
  type: OwnerType;
  taxIdNumber: string;
  name: string;
  tradeName?: string | undefined;
}

export interface DictEntry {
  key: string;
  keyType: KeyType;
  account: DictAccount;
  owner: DictOwner;
  creationDate: Date;
  keyOwnershipDate: Date;
  openClaimCreationDate?: Date | undefined;
}

export type { EntryReason } from '../../../shared/dict/messages.ts';
import type { EntryReason } from '../../../shared/dict/messages.ts';

export interface CreateEntryInput {
  /** absent for EVP: DICT generates it */
  key?: string | undefined;
  keyType: KeyType;
  account: DictAccount;
  owner: DictOwner;
  reason: EntryReason;
  requestId: string;
}

export type ClaimType = 'OWNERSHIP' | 'PORTABILITY';
export type ClaimStatus = 'OPEN' | 'WAITING_RESOLUTION' | 'CONFIRMED' | 'CANCELLED' | 'COMPLETED';

export interface DictClaim {
  id: string;
  type: ClaimType;
  key: string;
  keyType: KeyType;
  claimerAccount: DictAccount;
  claimer: DictOwner;
  donorParticipant: string;
  status: ClaimStatus;
  resolutionPeriodEnd: Date;
  completionPeriodEnd: Date;
  lastModified: Date;
  confirmReason?: string | undefined;
  cancelReason?: string | undefined;
  cancelledBy?: string | undefined;
}

export interface ListClaimsFilter {
  participant: string;
  modifiedAfter?: Date | undefined;
  modifiedBefore?: Date | undefined;
  limit?: number | undefined;
}

export interface LookupContext {
  payerId: string;
  endToEndId?: string | undefined;
}

export type { CidSetEvent, CidSetFile, InfractionReport, Refund, SyncVerification } from '../../../shared/dict/messages.ts';
import type { CidSetEvent, CidSetFile, InfractionReport, Refund, SyncVerification } from '../../../shared/dict/messages.ts';
import type { InfractionResult } from '../../../shared/dict/infractions.ts';
import type { RefundReason, RefundResult } from '../../../shared/dict/refunds.ts';

export interface ListFilter {
  modifiedAfter?: Date | undefined;
  limit?: number | undefined;
}

export interface DictApi {
  createEntry(input: CreateEntryInput): Promise<Result<DictEntry>>;
  /** a missing key is the error EntryNotFound (the caller's anti-scan bucket pays 20 for it) */
  getEntry(key: string, ctx: LookupContext): Promise<Result<DictEntry>>;
  deleteEntry(key: string, reason: EntryReason): Promise<Result<void>>;
  createClaim(input: { type: ClaimType; key: string; keyType: KeyType; claimerAccount: DictAccount; claimer: DictOwner }): Promise<Result<DictClaim>>;
  getClaim(id: string): Promise<Result<DictClaim>>;
  listClaims(filter: ListClaimsFilter): Promise<Result<{ claims: DictClaim[]; hasMoreElements: boolean }>>;
  acknowledgeClaim(id: string): Promise<Result<DictClaim>>;
  confirmClaim(id: string, reason: 'USER_REQUESTED' | 'ACCOUNT_CLOSURE' | 'DEFAULT_OPERATION' | 'FRAUD'): Promise<Result<DictClaim>>;
  cancelClaim(id: string, reason: 'USER_REQUESTED' | 'ACCOUNT_CLOSURE' | 'DEFAULT_OPERATION' | 'FRAUD', requestId: string): Promise<Result<DictClaim>>;
  completeClaim(id: string, requestId: string): Promise<Result<DictClaim>>;

  /** our anti-scan category as DICT applies it (ListPolicies' Category) */
  getCategory(): Promise<Result<string>>;

  createSyncVerification(keyType: KeyType, vsync: string): Promise<Result<SyncVerification>>;
  createCidSetFile(keyType: KeyType): Promise<Result<CidSetFile>>;
  getCidSetFile(id: string): Promise<Result<CidSetFile>>;
  /** the file's CIDs (one per line), from the URL DICT gave */
  downloadCidSetFile(file: CidSetFile): Promise<Result<string[]>>;
  listCidSetEvents(keyType: KeyType, startTime: Date, endTime?: Date): Promise<Result<{ events: CidSetEvent[]; hasMoreElements: boolean }>>;
  getEntryByCid(cid: string): Promise<Result<{ entry: DictEntry; requestId: string }>>;

  createInfractionReport(input: { endToEndId: string; details: string; requestId: string }): Promise<Result<InfractionReport>>;
  getInfractionReport(id: string): Promise<Result<InfractionReport>>;
  listInfractionReports(filter: ListFilter): Promise<Result<{ reports: InfractionReport[]; hasMoreElements: boolean }>>;
  acknowledgeInfractionReport(id: string): Promise<Result<InfractionReport>>;
  cancelInfractionReport(id: string): Promise<Result<InfractionReport>>;
  closeInfractionReport(id: string, result: InfractionResult, details: string): Promise<Result<InfractionReport>>;

  createRefund(input: { endToEndId: string; reason: RefundReason; amountCentavos: bigint; details?: string | undefined; requestId: string }): Promise<Result<Refund>>;
  getRefund(id: string): Promise<Result<Refund>>;
  listRefunds(filter: ListFilter): Promise<Result<{ refunds: Refund[]; hasMoreElements: boolean }>>;
  cancelRefund(id: string): Promise<Result<Refund>>;
  closeRefund(id: string, result: RefundResult, details: string, refundTransactionId?: string): Promise<Result<Refund>>;
}
