// Claims in both roles. DICT is the source of truth: every answer or poll result goes through `observe`,
// which stores DICT's view with our timer, notifies the owner's portal on a status change, and brings
// our entry in line with the claim (level-triggered, so a crash between steps is healed by the next
// observation): donor — locked while open, removed once confirmed, unlocked if cancelled; claimer —
// created once completed. Our own actions are checked against the shared transition table first.
import { randomUUID } from 'node:crypto';
import {
  applyClaimAction, checkClaimable, CLAIM_RESOLUTION_PERIOD_MS, type ClaimAction, type ClaimCancelReason, type ClaimConfirmReason, type ClaimRole,
  type ClaimState, type ClaimStatus,
} from '../../../shared/dict/claims.ts';
import { checkKey, checkTaxId } from '../../../shared/dict/keys.ts';
import { fail, ok, type Result } from '../../../shared/result.ts';
import type { Actor, DictDeps } from '../deps.ts';
import type { DictClaim, DictEntry } from '../dictapi/types.ts';
import { appendAudit } from '../../../shared/audit.ts';
import { writeOutbox, type Outbox, type OutboxEvent } from '../events/outbox.ts';
import type { KeyService } from '../keys/service.ts';
import { findKey, setKeyStatus } from '../keys/store.ts';
import { KEYS_NEEDING_CONFIRMATION } from '../keys/key.ts';
import { proveOwnership } from '../confirmations/service.ts';
import { consumeConfirmation } from '../confirmations/store.ts';
import { timerFor } from './claim.ts';
import { dueClaims, findClaim, findClaimForUpdate, readCursor, upsertClaim, writeCursor, type ClaimRow } from './store.ts';

/** How often the poller asks DICT for claims that changed: 12 listClaims a minute, under the
 *  CLAIMS_LIST_WITH_ROLE bucket's 20/min refill (a poll that pages uses more, drawn from its 100 burst). */
export const CLAIM_POLL_INTERVAL_MS = 5_000;
/** Pages read per poll; the rest waits for the next poll (bounded work per pass). */
export const CLAIM_POLL_PAGES_MAX = 10;
/** The poll re-reads this much before its cursor so claims modified in the same instant are not missed
 *  (observing a claim twice changes nothing). */
export const CLAIM_POLL_OVERLAP_MS = 1_000;
/** A timer whose DICT call failed for a transient reason is retried after this long. */
export const CLAIM_TIMER_RETRY_MS = 30_000;
const CURSOR = 'claims';
const SYSTEM: Actor = { actor: 'dict-claims' };

export interface OpenClaimInput {
  type: 'OWNERSHIP' | 'PORTABILITY';
  keyType: DictEntry['keyType'];
  key: string;
  account: { branch: string; accountNumber: string; accountType: DictEntry['account']['accountType']; openingDate: string };
  owner: { type: DictEntry['owner']['type']; taxIdNumber: string; name: string; tradeName?: string | undefined };
  /** OWNERSHIP of a PHONE/EMAIL: the code our user received, proving possession (PIX.md § Keys) */
  confirmation?: { id: string; code: string } | undefined;
}

export interface ClaimService {
  open(input: OpenClaimInput, who: Actor): Promise<Result<ClaimRow>>;
  confirm(id: string, reason: ClaimConfirmReason, who: Actor): Promise<Result<ClaimRow>>;
  cancel(id: string, reason: ClaimCancelReason, who: Actor): Promise<Result<ClaimRow>>;
  complete(id: string, who: Actor): Promise<Result<ClaimRow>>;
  /** one poller pass: claims DICT changed since the cursor */
  pollOnce(): Promise<{ seen: number }>;
  /** one timer pass: acts on every claim whose timer is due */
  runDueTimers(): Promise<{ ran: number }>;
}

export function stateOfRow(r: ClaimRow): ClaimState {
  return {
    type: r.claim_type as ClaimState['type'],
    status: r.status as ClaimStatus,
    claimerParticipant: r.claimer_ispb,
    donorParticipant: r.donor_ispb,
    // DICT does not send the creation time; the resolution period is 7 days from it
    createdAtMs: r.resolution_period_end.getTime() - CLAIM_RESOLUTION_PERIOD_MS,
    resolutionPeriodEndMs: r.resolution_period_end.getTime(),
    completionPeriodEndMs: r.completion_period_end.getTime(),
    lastModifiedMs: r.last_modified.getTime(),
  };
}

export function createClaimService(deps: DictDeps, keys: KeyService, outbox: Outbox): ClaimService {
  const { sql, config, clock, dict, logger } = deps;
  const us = config.ispb;
  const log = logger.child({ component: 'dict-claims' });
  const roleOf = (c: DictClaim): ClaimRole => (c.claimerAccount.participant === us ? 'CLAIMER' : 'DONOR');

  function notification(c: DictClaim, role: ClaimRole): OutboxEvent {
    return {
      id: `claim:${c.id}:${c.status}`,
      subject: `pix.keys.claims.${us}`,
      payload: {
        event: 'claim', claimId: c.id, key: c.key, keyType: c.keyType, type: c.type, role, status: c.status,
        claimerParticipant: c.claimerAccount.participant, donorParticipant: c.donorParticipant,
        resolutionPeriodEnd: c.resolutionPeriodEnd.toISOString(), completionPeriodEnd: c.completionPeriodEnd.toISOString(),
      },
    };
  }

  /** Stores DICT's view of a claim and brings our entry in line with it. */
  async function observe(c: DictClaim, who: Actor = SYSTEM): Promise<ClaimRow> {
    const role = roleOf(c);
    const now = clock.now();
    const timer = timerFor({ type: c.type, status: c.status, role, resolutionPeriodEndMs: c.resolutionPeriodEnd.getTime(), completionPeriodEndMs: c.completionPeriodEnd.getTime() }, now.getTime());
    let event: OutboxEvent | undefined;
    await sql.begin(async (tx) => {
      const before = await findClaimForUpdate(tx, c.id);
      await upsertClaim(tx, c, role, timer, now);
      if (before?.status !== c.status) {
        event = notification(c, role);
        await writeOutbox(tx, event, now);
        await appendAudit(tx, { actor: who.actor, action: `claim.${c.status.toLowerCase()}`, entityType: 'dict_claim', entityId: c.id, traceId: who.traceId, detail: { key: c.key, role, type: c.type, from: before?.status ?? null } }, now);
      }
      if (role === 'DONOR') {
        // locked while the claim waits for an answer; confirmed/completed entries are removed below
        const want = c.status === 'OPEN' || c.status === 'WAITING_RESOLUTION' ? 'LOCKED_BY_CLAIM' : c.status === 'CANCELLED' ? 'ACTIVE' : null;
        const mine = await tx<{ status: string }[]>`select status from pix_keys where key = ${c.key} and participant_ispb = ${us} for update`;
        if (want && mine[0] && mine[0].status !== want) await setKeyStatus(tx, c.key, want, now);
      }
    });
    if (event) await outbox.publishCommitted([event], who.traceId);
    await settleEntry(c, role, who);
    return (await findClaim(sql, c.id))!;
  }

  /** The entry effects that are whole key writes (with their own audit, VSync and event). */
  async function settleEntry(c: DictClaim, role: ClaimRole, who: Actor): Promise<void> {
    const mine = await findKey(sql, c.key);
    if (role === 'DONOR' && (c.status === 'CONFIRMED' || c.status === 'COMPLETED') && mine && mine.participant_ispb === us) {
      // PIX.md § Claims: the donor's entry is removed at confirmation
      await keys.removeLocally(c.key, 'USER_REQUESTED', who, { claimId: c.id, claimType: c.type });
    }
    if (role === 'CLAIMER' && c.status === 'COMPLETED' && !mine) {
      const row = await findClaim(sql, c.id);
      const requestId = row?.complete_request_id;
      if (!requestId) throw new Error(`claim ${c.id} completed without our completion RequestId`);
      const entry: DictEntry = { key: c.key, keyType: c.keyType, account: c.claimerAccount, owner: c.claimer, creationDate: c.lastModified, keyOwnershipDate: c.lastModified };
      await keys.insertLocally(entry, requestId, 'USER_REQUESTED', who, { claimId: c.id, claimType: c.type });
    }
  }

  /** Checks our action against the shared table at our clock, then asks DICT. */
  async function act(id: string, action: ClaimAction, who: Actor, call: (row: ClaimRow) => Promise<Result<DictClaim>>): Promise<Result<ClaimRow>> {
    const row = await findClaim(sql, id);
    if (!row) return fail('ClaimNotFound', 'no such claim with us');
    const checked = applyClaimAction(stateOfRow(row), action, us, clock.nowMs());
    if (!checked.ok) return checked;
    const answered = await call(row);
    if (!answered.ok) return answered;
    return ok(await observe(answered.value, who));
  }

  async function completionRequestId(row: ClaimRow): Promise<string> {
    if (row.complete_request_id) return row.complete_request_id;
    const [r] = await sql<{ complete_request_id: string }[]>`update dict_claims set complete_request_id = coalesce(complete_request_id, ${randomUUID()})
      where id = ${row.id} returning complete_request_id`;
    return r!.complete_request_id;
  }

  async function runTimer(row: ClaimRow): Promise<void> {
    const who = { actor: 'dict-claims-timer' };
    let r: Result<ClaimRow>;
    switch (row.next_action) {
      case 'ACKNOWLEDGE':
        r = await act(row.id, { kind: 'acknowledge' }, who, () => dict.acknowledgeClaim(row.id));
        break;
      case 'CANCEL_DEFAULT':
        r = await act(row.id, { kind: 'cancel', reason: 'DEFAULT_OPERATION' }, who, () => dict.cancelClaim(row.id, 'DEFAULT_OPERATION', randomUUID()));
        break;
      case 'CONFIRM_DEFAULT':
        r = await act(row.id, { kind: 'confirm', reason: 'DEFAULT_OPERATION' }, who, () => dict.confirmClaim(row.id, 'DEFAULT_OPERATION'));
        break;
      case 'COMPLETE':
        r = await act(row.id, { kind: 'complete' }, who, async (x) => dict.completeClaim(x.id, await completionRequestId(x)));
        break;
      default:
        throw new Error(`claim ${row.id} has an unknown timer ${row.next_action}`);
    }
    if (r.ok) return;
    // DICT moved on without us (the other side acted): take its view; otherwise retry later
    const fresh = await dict.getClaim(row.id);
    if (fresh.ok && fresh.value.status !== row.status) {
      await observe(fresh.value);
      return;
    }
    log.warn({ claimId: row.id, action: row.next_action, code: r.error.code, detail: r.error.detail }, 'claim timer failed; retrying later');
    await sql`update dict_claims set next_action_at = ${new Date(clock.nowMs() + CLAIM_TIMER_RETRY_MS)} where id = ${row.id} and next_action = ${row.next_action}`;
  }

  const service: ClaimService = {
    async open(input, who) {
      const claimable = checkClaimable(input.type, input.keyType);
      if (!claimable.ok) return claimable;
      const key = checkKey(input.keyType, input.key);
      if (!key.ok) return key;
      const tax = checkTaxId(input.owner.type, input.owner.taxIdNumber);
      if (!tax.ok) return tax;
      // the claimer's user must possess the phone/e-mail it claims from another person
      const proof = input.type === 'OWNERSHIP' && KEYS_NEEDING_CONFIRMATION.has(input.keyType)
        ? await proveOwnership(deps, { keyType: input.keyType, key: input.key, branch: input.account.branch, accountNumber: input.account.accountNumber, ownerTaxId: input.owner.taxIdNumber, confirmation: input.confirmation })
        : ok(null);
      if (!proof.ok) return proof;
      const created = await dict.createClaim({
        type: input.type, key: input.key, keyType: input.keyType,
        claimerAccount: { participant: us, branch: input.account.branch, accountNumber: input.account.accountNumber, accountType: input.account.accountType, openingDate: new Date(input.account.openingDate) },
        claimer: { type: input.owner.type, taxIdNumber: input.owner.taxIdNumber, name: input.owner.name, tradeName: input.owner.tradeName },
      });
      if (!created.ok) return created;
      if (proof.value) await consumeConfirmation(sql, proof.value, clock.now());
      return ok(await observe(created.value, who));
    },
    confirm: (id, reason, who) => act(id, { kind: 'confirm', reason }, who, () => dict.confirmClaim(id, reason)),
    cancel: (id, reason, who) => act(id, { kind: 'cancel', reason }, who, () => dict.cancelClaim(id, reason, randomUUID())),
    complete: (id, who) => act(id, { kind: 'complete' }, who, async (row) => dict.completeClaim(id, await completionRequestId(row))),

    async pollOnce() {
      let seen = 0;
      const cursor = (await readCursor(sql, CURSOR)) ?? new Date(0);
      let after = new Date(Math.max(0, cursor.getTime() - CLAIM_POLL_OVERLAP_MS));
      for (let page = 0; page < CLAIM_POLL_PAGES_MAX; page++) {
        const listed = await dict.listClaims({ participant: us, modifiedAfter: after });
        if (!listed.ok) {
          log.warn({ code: listed.error.code, detail: listed.error.detail }, 'listClaims failed; next poll retries');
          break;
        }
        let newest = after;
        for (const c of listed.value.claims) {
          await observe(c);
          seen++;
          if (c.lastModified > newest) newest = c.lastModified;
        }
        await writeCursor(sql, CURSOR, newest, clock.now());
        if (!listed.value.hasMoreElements || newest.getTime() === after.getTime()) break;
        after = newest;
      }
      return { seen };
    },

    async runDueTimers() {
      const due = await dueClaims(sql, clock.now());
      for (const row of due) await runTimer(row);
      return { ran: due.length };
    },
  };
  return service;
}
