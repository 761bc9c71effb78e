// Reconciliation with DICT (PIX.md § Reconciliation). For each key type: send our VSync (kept
// incrementally, vsync-store.ts) to a sync verification; on NOK, fetch the CID set file, diff it with our
// CIDs, fetch the entries we lack by CID and remove the ones DICT does not hold — all with reason
// RECONCILIATION, through the same key writes as the API (audit, VSync, events) — recompute the VSync
// from the CIDs, verify again, and write a repair report.
import { randomUUID } from 'node:crypto';
import { KEY_TYPES, type KeyType } from '../../../shared/dict/keys.ts';
import { vsyncOf } from '../../../shared/dict/cid.ts';
import { fail, ok, type Result } from '../../../shared/result.ts';
import type { Actor, DictDeps } from '../deps.ts';
import type { KeyService } from '../keys/service.ts';
import { readVsync } from './vsync-store.ts';

/** How often the worker verifies every key type (SYNC_VERIFICATIONS_WRITE allows 5/min; 5 types). */
export const SYNC_INTERVAL_MS = 15 * 60 * 1000;
/** CID set file status checks before a run gives up (the file is built asynchronously by DICT). */
export const SYNC_FILE_POLLS_MAX = 20;
export const SYNC_FILE_POLL_WAIT_MS = 500;
/** A local entry changed this recently may be a write whose DICT call and commit are still settling
 *  (DICT is written first, then our row): reconciliation leaves it to the next run. */
export const SYNC_SETTLE_MS = 60_000;
/** Entries one run repairs at most; a larger drift is an incident, left for the next run and an alert. */
export const SYNC_REPAIRS_MAX = 10_000;
const WHO: Actor = { actor: 'dict-sync' };

export interface SyncReport {
  id: string;
  keyType: KeyType;
  result: 'OK' | 'REPAIRED' | 'FAILED';
  localVsync: string;
  dictVsync: string;
  added: number;
  removed: number;
  detail: Record<string, unknown>;
}

export interface SyncService {
  verify(keyType: KeyType): Promise<Result<SyncReport>>;
  verifyAll(): Promise<SyncReport[]>;
}

export function createSyncService(deps: DictDeps, keys: KeyService, opts: { sleep?: (ms: number) => Promise<void> } = {}): SyncService {
  const { sql, config, clock, dict, logger } = deps;
  const log = logger.child({ component: 'dict-sync' });
  const sleep = opts.sleep ?? Bun.sleep;

  async function cidFile(keyType: KeyType): Promise<Result<string[]>> {
    const created = await dict.createCidSetFile(keyType);
    if (!created.ok) return created;
    let file = created.value;
    for (let i = 0; file.status === 'PROCESSING' && i < SYNC_FILE_POLLS_MAX; i++) {
      await sleep(SYNC_FILE_POLL_WAIT_MS);
      const got = await dict.getCidSetFile(file.id);
      if (!got.ok) return got;
      file = got.value;
    }
    if (file.status !== 'AVAILABLE') return fail('ServiceUnavailable', `CID set file ${file.id} is ${file.status}`);
    return dict.downloadCidSetFile(file);
  }

  async function save(r: SyncReport, startedAt: Date): Promise<SyncReport> {
    await sql`insert into dict_sync_reports (id, key_type, local_vsync, dict_vsync, result, added, removed, detail, started_at, finished_at)
      values (${r.id}, ${r.keyType}, ${r.localVsync}, ${r.dictVsync}, ${r.result}, ${r.added}, ${r.removed}, ${sql.json(r.detail as never)}, ${startedAt}, ${clock.now()})`;
    return r;
  }

  async function repair(keyType: KeyType): Promise<Result<{ added: string[]; removed: string[]; cidMismatches: string[] }>> {
    const file = await cidFile(keyType);
    if (!file.ok) return file;
    const theirs = new Set(file.value);
    const rows = await sql<{ key: string; cid: string; updated_at: Date }[]>`select key, cid, updated_at from pix_keys where key_type = ${keyType} and participant_ispb = ${config.ispb}`;
    const ours = new Map(rows.map((r) => [r.cid, r.key]));
    const settledBefore = clock.nowMs() - SYNC_SETTLE_MS;
    const settling = new Set(rows.filter((r) => r.updated_at.getTime() > settledBefore).map((r) => r.cid));
    const added: string[] = [];
    const removed: string[] = [];
    const cidMismatches: string[] = [];
    let budget = SYNC_REPAIRS_MAX;
    for (const [cid, key] of ours) {
      if (theirs.has(cid) || settling.has(cid) || budget-- <= 0) continue;
      await keys.removeLocally(key, 'RECONCILIATION', WHO, { cid });
      removed.push(cid);
    }
    for (const cid of theirs) {
      if (ours.has(cid) || budget-- <= 0) continue;
      const got = await dict.getEntryByCid(cid);
      if (!got.ok) return got;
      const current = rows.find((r) => r.key === got.value.entry.key);
      if (current && current.updated_at.getTime() > settledBefore) continue; // a write of ours is settling
      // a stale local row under the same key (other account/owner) goes first
      if (current) await keys.removeLocally(got.value.entry.key, 'RECONCILIATION', WHO, { replacedBy: cid });
      try {
        const row = await keys.insertLocally(got.value.entry, got.value.requestId, 'RECONCILIATION', WHO, { cid });
        if (row.cid !== cid) cidMismatches.push(cid);
        added.push(cid);
      } catch (e) {
        // our own registration committed the row meanwhile: nothing to repair
        if ((e as { code?: string }).code !== '23505') throw e;
      }
    }
    // the incremental VSync may itself have drifted (a bug, a manual change): recompute it from the CIDs
    await sql.begin(async (tx) => {
      const cids = await tx<{ cid: string }[]>`select cid from pix_keys where key_type = ${keyType} and participant_ispb = ${config.ispb}`;
      await tx`update dict_vsyncs set vsync = ${vsyncOf(cids.map((c) => c.cid))}, entries = ${cids.length}, updated_at = ${clock.now()} where key_type = ${keyType}`;
    });
    return ok({ added, removed, cidMismatches });
  }

  const service: SyncService = {
    async verify(keyType) {
      const startedAt = clock.now();
      const local = await readVsync(sql, keyType);
      const first = await dict.createSyncVerification(keyType, local.vsync);
      if (!first.ok) return first;
      const base = { id: randomUUID(), keyType, localVsync: local.vsync, dictVsync: first.value.participantSyncVerifier, added: 0, removed: 0 };
      if (first.value.result === 'OK') return ok(await save({ ...base, result: 'OK', detail: { verificationId: first.value.id } }, startedAt));
      log.warn({ keyType, local: local.vsync }, 'VSync differs from DICT; repairing from the CID set file');
      const repaired = await repair(keyType);
      if (!repaired.ok) return ok(await save({ ...base, result: 'FAILED', detail: { verificationId: first.value.id, error: repaired.error } }, startedAt));
      const after = await readVsync(sql, keyType);
      const second = await dict.createSyncVerification(keyType, after.vsync);
      const result = second.ok && second.value.result === 'OK' ? 'REPAIRED' : 'FAILED';
      const { added, removed, cidMismatches } = repaired.value;
      return ok(await save({
        ...base, result, added: added.length, removed: removed.length,
        detail: { verificationId: first.value.id, addedCids: added, removedCids: removed, cidMismatches, vsyncAfter: after.vsync, reverification: second.ok ? second.value.result : second.error },
      }, startedAt));
    },
    async verifyAll() {
      const out: SyncReport[] = [];
      for (const t of KEY_TYPES) {
        const r = await service.verify(t);
        if (r.ok) out.push(r.value);
        else log.warn({ keyType: t, code: r.error.code, detail: r.error.detail }, 'sync verification failed; next run retries');
      }
      return out;
    },
  };
  return service;
}
