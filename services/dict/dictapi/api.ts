// DictApi over the DICT API v2 (bacen/pix-dict-api): the spec's paths, the shared message codecs
// (shared/dict/messages.ts), signed requests and verified responses (transport.ts).
import { createHash, randomUUID } from 'node:crypto';
import type { Config } from '../../../shared/config.ts';
import * as M from '../../../shared/dict/messages.ts';
import type { Message } from '../../../shared/dict/xml-codec.ts';
import { fail, ok, type Result } from '../../../shared/result.ts';
import type { DictTransport } from './transport.ts';
import { formatAmount } from '../../../shared/money.ts';
import type { DictAccount, DictApi, DictClaim, DictEntry, DictOwner } from './types.ts';

/** listClaims page size we ask for; the poller pages through HasMoreElements. */
export const LIST_CLAIMS_LIMIT = 100;

const enc = encodeURIComponent;
/** ResponseTime is required by the codec; the fallback only satisfies the type. */
const responseDate = (s: string | undefined): Date => (s ? new Date(s) : new Date());

export const toAccount = (a: M.Account): DictAccount => ({
  participant: a.participant,
  branch: a.branch ?? '0000',
  accountNumber: a.accountNumber,
  accountType: a.accountType,
  openingDate: new Date(a.openingDate),
});
const fromAccount = (a: DictAccount): M.Account => ({ participant: a.participant, branch: a.branch, accountNumber: a.accountNumber, accountType: a.accountType, openingDate: a.openingDate.toISOString() });
const toOwner = (o: M.Owner): DictOwner => ({ type: o.type, taxIdNumber: o.taxIdNumber, name: o.name, ...(o.tradeName ? { tradeName: o.tradeName } : {}) });
const fromOwner = (o: DictOwner): M.Owner => ({ type: o.type, taxIdNumber: o.taxIdNumber, name: o.name, ...(o.tradeName ? { tradeName: o.tradeName } : {}) });

export function toEntry(e: M.Entry, fallbackDate: Date): DictEntry {
  return {
    key: e.key,
    keyType: e.keyType,
    account: toAccount(e.account),
    owner: toOwner(e.owner),
    creationDate: e.creationDate ? new Date(e.creationDate) : fallbackDate,
    keyOwnershipDate: e.keyOwnershipDate ? new Date(e.keyOwnershipDate) : e.creationDate ? new Date(e.creationDate) : fallbackDate,
    ...(e.openClaimCreationDate ? { openClaimCreationDate: new Date(e.openClaimCreationDate) } : {}),
  };
}

export function toClaim(c: M.Claim): DictClaim {
  return {
    id: c.id,
    type: c.type,
    key: c.key,
    keyType: c.keyType,
    claimerAccount: toAccount(c.claimerAccount),
    claimer: toOwner(c.claimer),
    donorParticipant: c.donorParticipant,
    status: c.status,
    resolutionPeriodEnd: new Date(c.resolutionPeriodEnd),
    completionPeriodEnd: new Date(c.completionPeriodEnd),
    lastModified: new Date(c.lastModified),
    ...(c.confirmReason ? { confirmReason: c.confirmReason } : {}),
    ...(c.cancelReason ? { cancelReason: c.cancelReason } : {}),
    ...(c.cancelledBy ? { cancelledBy: c.cancelledBy } : {}),
  };
}

/** DICT answers a missing entry with the generic NotFound; callers branch on EntryNotFound. */
function entryNotFound<T>(r: Result<T>): Result<T> {
  return !r.ok && r.error.code === 'NotFound' ? { ok: false, error: { ...r.error, code: 'EntryNotFound' } } : r;
}

export function payerIdHash(taxId: string): string {
  return createHash('sha256').update(taxId).digest('hex');
}

export interface DictApiExtras {
  readonly transport: DictTransport;
}

export function createDictApi(transport: DictTransport, config: Pick<Config, 'ispb'>): DictApi & DictApiExtras {
  const us = config.ispb;

  /** Sends `req` (when given), parses the verified reply with `msg`. */
  async function exchange<T>(operation: string, method: string, path: string, msg: Message<T>, body?: string, headers?: Record<string, string>): Promise<Result<T>> {
    const reply = await transport.call(operation, method, path, { ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });
    if (!reply.ok) return reply;
    const parsed = msg.parse(reply.value.xml);
    if (!parsed.ok) return fail('ServiceUnavailable', `DICT ${operation} answer does not match the spec: ${parsed.error.detail}`);
    return ok(parsed.value);
  }

  const claimOp = async (operation: string, id: string, req: Message<M.ClaimOperationRequest>, res: Message<{ claim: M.Claim }>, reason?: string, requestId?: string) => {
    const body = req.build({ claimId: id, participant: us, ...(reason ? { reason } : {}), ...(requestId ? { requestId } : {}) });
    const r = await exchange(operation, 'POST', `/claims/${enc(id)}/${operation}`, res, body);
    return r.ok ? ok(toClaim(r.value.claim)) : r;
  };

  const infractionOp = async (operation: string, id: string, req: Message<M.InfractionOperationRequest>, res: Message<{ infractionReport: M.InfractionReport }>, extra: Partial<M.InfractionOperationRequest> = {}) => {
    const r = await exchange(operation, 'POST', `/infraction-reports/${enc(id)}/${operation}`, res, req.build({ infractionReportId: id, participant: us, ...extra }));
    return r.ok ? ok(r.value.infractionReport) : r;
  };
  const refundOp = async (operation: string, id: string, req: Message<M.RefundOperationRequest>, res: Message<{ refund: M.Refund }>, extra: Partial<M.RefundOperationRequest> = {}) => {
    const r = await exchange(operation, 'POST', `/refunds/${enc(id)}/${operation}`, res, req.build({ refundId: id, participant: us, ...extra }));
    return r.ok ? ok(r.value.refund) : r;
  };

  return {
    transport,
    async createEntry(input) {
      const body = M.CREATE_ENTRY_REQUEST.build({
        // DICT generates EVP keys; the spec's request still carries the element, empty
        entry: { key: input.key ?? '', keyType: input.keyType, account: fromAccount(input.account), owner: fromOwner(input.owner) },
        reason: input.reason,
        requestId: input.requestId,
      });
      const r = await exchange('createEntry', 'POST', '/entries/', M.CREATE_ENTRY_RESPONSE, body);
      return r.ok ? ok(toEntry(r.value.entry, responseDate(r.value.responseTime))) : r;
    },
    async getEntry(key, ctx) {
      // PI-PayerId is the SHA-256 of the payer's tax id: DICT counts per end user without learning who
      const headers: Record<string, string> = { 'PI-RequestingParticipant': us, 'PI-PayerId': payerIdHash(ctx.payerId), 'PI-PayerType': ctx.payerId.length === 14 ? 'LEGAL_PERSON' : 'NATURAL_PERSON' };
      if (ctx.endToEndId) headers['PI-EndToEndId'] = ctx.endToEndId;
      const r = entryNotFound(await exchange('getEntry', 'GET', `/entries/${enc(key)}`, M.GET_ENTRY_RESPONSE, undefined, headers));
      return r.ok ? ok(toEntry(r.value.entry, responseDate(r.value.responseTime))) : r;
    },
    async deleteEntry(key, reason) {
      const body = M.DELETE_ENTRY_REQUEST.build({ key, participant: us, reason, requestId: randomUUID() });
      const r = entryNotFound(await exchange('deleteEntry', 'POST', `/entries/${enc(key)}/delete`, M.DELETE_ENTRY_RESPONSE, body));
      return r.ok ? ok(undefined) : r;
    },
    async createClaim(input) {
      const body = M.CREATE_CLAIM_REQUEST.build({
        claim: { type: input.type, key: input.key, keyType: input.keyType, claimerAccount: fromAccount(input.claimerAccount), claimer: fromOwner(input.claimer) },
        requestId: randomUUID(),
      });
      const r = await exchange('createClaim', 'POST', '/claims/', M.CREATE_CLAIM_RESPONSE, body);
      return r.ok ? ok(toClaim(r.value.claim)) : r;
    },
    async getClaim(id) {
      const r = await exchange('getClaim', 'GET', `/claims/${enc(id)}`, M.GET_CLAIM_RESPONSE);
      return r.ok ? ok(toClaim(r.value.claim)) : r;
    },
    async listClaims(filter) {
      // both role filters set (equal values are disjunctive in the spec): one call lists the claims where
      // we are donor or claimer under CLAIMS_LIST_WITH_ROLE (20/min), not WITHOUT_ROLE (5/min)
      const q = new URLSearchParams({ Participant: filter.participant, IsDonor: 'true', IsClaimer: 'true', Limit: String(filter.limit ?? LIST_CLAIMS_LIMIT) });
      if (filter.modifiedAfter) q.set('ModifiedAfter', filter.modifiedAfter.toISOString());
      if (filter.modifiedBefore) q.set('ModifiedBefore', filter.modifiedBefore.toISOString());
      const r = await exchange('listClaims', 'GET', `/claims/?${q}`, M.LIST_CLAIMS_RESPONSE);
      return r.ok ? ok({ claims: r.value.claims.map(toClaim), hasMoreElements: r.value.hasMoreElements }) : r;
    },
    acknowledgeClaim: (id) => claimOp('acknowledge', id, M.ACKNOWLEDGE_CLAIM_REQUEST, M.ACKNOWLEDGE_CLAIM_RESPONSE),
    confirmClaim: (id, reason) => claimOp('confirm', id, M.CONFIRM_CLAIM_REQUEST, M.CONFIRM_CLAIM_RESPONSE, reason),
    cancelClaim: (id, reason, requestId) => claimOp('cancel', id, M.CANCEL_CLAIM_REQUEST, M.CANCEL_CLAIM_RESPONSE, reason, requestId),
    completeClaim: (id, requestId) => claimOp('complete', id, M.COMPLETE_CLAIM_REQUEST, M.COMPLETE_CLAIM_RESPONSE, undefined, requestId),

    async getCategory() {
      const r = await exchange('listPolicies', 'GET', '/policies/', M.LIST_POLICIES_RESPONSE);
      return r.ok ? ok(r.value.category) : r;
    },

    async createSyncVerification(keyType, vsync) {
      const body = M.CREATE_SYNC_VERIFICATION_REQUEST.build({ syncVerification: { participant: us, keyType, syncVerifier: vsync } });
      const r = await exchange('createSyncVerification', 'POST', '/sync-verifications/', M.CREATE_SYNC_VERIFICATION_RESPONSE, body);
      return r.ok ? ok(r.value.syncVerification) : r;
    },
    async createCidSetFile(keyType) {
      const body = M.CREATE_CID_SET_FILE_REQUEST.build({ participant: us, keyType });
      const r = await exchange('createCidSetFile', 'POST', '/cids/files/', M.CREATE_CID_SET_FILE_RESPONSE, body);
      return r.ok ? ok(r.value.cidSetFile) : r;
    },
    async getCidSetFile(id) {
      const r = await exchange('getCidSetFile', 'GET', `/cids/files/${enc(id)}`, M.GET_CID_SET_FILE_RESPONSE);
      return r.ok ? ok(r.value.cidSetFile) : r;
    },
    async downloadCidSetFile(file) {
      if (!file.url) return fail('ServiceUnavailable', `CID set file ${file.id} has no URL yet (${file.status})`);
      const url = new URL(file.url, 'https://dict.invalid');
      const r = await transport.fetchRaw('downloadCidSetFile', url.pathname + url.search);
      if (!r.ok) return r;
      const cids = r.value.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
      if (file.sha256) {
        const digest = new Bun.CryptoHasher('sha256').update(r.value).digest('hex');
        if (digest !== file.sha256.toLowerCase()) return fail('ServiceUnavailable', `CID set file ${file.id} does not match its SHA-256`);
      }
      return ok(cids);
    },
    async listCidSetEvents(keyType, startTime, endTime) {
      const q = new URLSearchParams({ Participant: us, KeyType: keyType, StartTime: startTime.toISOString() });
      if (endTime) q.set('EndTime', endTime.toISOString());
      const r = await exchange('listCidSetEvents', 'GET', `/cids/events?${q}`, M.LIST_CID_SET_EVENTS_RESPONSE);
      return r.ok ? ok({ events: r.value.cidSetEvents, hasMoreElements: r.value.hasMoreElements }) : r;
    },
    async getEntryByCid(cid) {
      const r = await exchange('getEntryByCid', 'GET', `/cids/entries/${enc(cid)}`, M.GET_ENTRY_BY_CID_RESPONSE);
      return r.ok ? ok({ entry: toEntry(r.value.entry, responseDate(r.value.responseTime)), requestId: r.value.requestId }) : r;
    },

    async createInfractionReport(input) {
      const body = M.CREATE_INFRACTION_REPORT_REQUEST.build({ participant: us, infractionReport: { transactionId: input.endToEndId, infractionType: 'FRAUD', reportDetails: input.details }, requestId: input.requestId });
      const r = await exchange('createInfractionReport', 'POST', '/infraction-reports/', M.CREATE_INFRACTION_REPORT_RESPONSE, body);
      return r.ok ? ok(r.value.infractionReport) : r;
    },
    async getInfractionReport(id) {
      const r = await exchange('getInfractionReport', 'GET', `/infraction-reports/${enc(id)}`, M.GET_INFRACTION_REPORT_RESPONSE);
      return r.ok ? ok(r.value.infractionReport) : r;
    },
    async listInfractionReports(filter) {
      const q = new URLSearchParams({ Participant: us, Limit: String(filter.limit ?? LIST_CLAIMS_LIMIT) });
      if (filter.modifiedAfter) q.set('ModifiedAfter', filter.modifiedAfter.toISOString());
      const r = await exchange('listInfractionReports', 'GET', `/infraction-reports/?${q}`, M.LIST_INFRACTION_REPORTS_RESPONSE);
      return r.ok ? ok({ reports: r.value.infractionReports, hasMoreElements: r.value.hasMoreElements }) : r;
    },
    acknowledgeInfractionReport: (id) => infractionOp('acknowledge', id, M.ACKNOWLEDGE_INFRACTION_REPORT_REQUEST, M.ACKNOWLEDGE_INFRACTION_REPORT_RESPONSE),
    cancelInfractionReport: (id) => infractionOp('cancel', id, M.CANCEL_INFRACTION_REPORT_REQUEST, M.CANCEL_INFRACTION_REPORT_RESPONSE),
    closeInfractionReport: (id, result, details) => infractionOp('close', id, M.CLOSE_INFRACTION_REPORT_REQUEST, M.CLOSE_INFRACTION_REPORT_RESPONSE, { analysisResult: result, analysisDetails: details }),

    async createRefund(input) {
      const body = M.CREATE_REFUND_REQUEST.build({
        participant: us,
        refund: { transactionId: input.endToEndId, refundReason: input.reason, refundAmount: formatAmount(input.amountCentavos), ...(input.details ? { refundDetails: input.details } : {}) },
        requestId: input.requestId,
      });
      const r = await exchange('createRefund', 'POST', '/refunds/', M.CREATE_REFUND_RESPONSE, body);
      return r.ok ? ok(r.value.refund) : r;
    },
    async getRefund(id) {
      const r = await exchange('getRefund', 'GET', `/refunds/${enc(id)}`, M.GET_REFUND_RESPONSE);
      return r.ok ? ok(r.value.refund) : r;
    },
    async listRefunds(filter) {
      const q = new URLSearchParams({ Participant: us, Limit: String(filter.limit ?? LIST_CLAIMS_LIMIT) });
      if (filter.modifiedAfter) q.set('ModifiedAfter', filter.modifiedAfter.toISOString());
      const r = await exchange('listRefunds', 'GET', `/refunds/?${q}`, M.LIST_REFUNDS_RESPONSE);
      return r.ok ? ok({ refunds: r.value.refunds, hasMoreElements: r.value.hasMoreElements }) : r;
    },
    cancelRefund: (id) => refundOp('cancel', id, M.CANCEL_REFUND_REQUEST, M.CANCEL_REFUND_RESPONSE),
    closeRefund: (id, result, details, refundTransactionId) =>
      refundOp('close', id, M.CLOSE_REFUND_REQUEST, M.CLOSE_REFUND_RESPONSE, { refundAnalysisResult: result, refundAnalysisDetails: details, ...(refundTransactionId ? { refundTransactionId } : {}) }),
  };
}
