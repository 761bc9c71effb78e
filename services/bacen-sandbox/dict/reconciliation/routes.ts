// Reconciliation (spec tag Reconciliation): createSyncVerification POST /sync-verifications/,
// createCidSetFile POST /cids/files/, getCidSetFile GET /cids/files/{Id} (and its content at
// GET /cids/files/{Id}/content, one CID per line), listCidSetEvents GET /cids/events,
// getEntryByCid GET /cids/entries/{Cid}.
import { createHash } from 'node:crypto';
import { Elysia } from 'elysia';
import { PSP_POLICIES } from '../../../../shared/dict/buckets.ts';
import { isCid } from '../../../../shared/dict/cid.ts';
import { isKeyType } from '../../../../shared/dict/keys.ts';
import * as M from '../../../../shared/dict/messages.ts';
import { exchangePlugin } from '../../transport/exchange.ts';
import { pspScope } from '../buckets.ts';
import type { DictContext } from '../context.ts';
import { entryOf, type EntryRow } from '../entries/store.ts';
import { envelope, listLimit, optionalTime, parsed, problem, reply, requireSelf } from '../http.ts';
import { liveVsync, vsyncAtEvent } from './vsync.ts';

/** A CID set file holds every CID of one type: 100,000 lines is ~6.5 MB, served from Postgres. */
export const CID_EVENTS_LIMIT_MAX = 1_000;

interface FileRow {
  id: bigint;
  participant: string;
  key_type: string;
  request_time: Date;
  creation_time: Date;
  bytes: bigint;
  sha256: string;
}

const fileOf = (r: FileRow): M.CidSetFile => ({
  id: String(r.id),
  status: 'AVAILABLE',
  participant: r.participant,
  keyType: r.key_type as M.CidSetFile['keyType'],
  requestTime: r.request_time.toISOString(),
  creationTime: r.creation_time.toISOString(),
  url: `/api/v2/cids/files/${r.id}/content`,
  bytes: Number(r.bytes),
  sha256: r.sha256,
});

export function reconciliationRoutes(ctx: DictContext) {
  const { deps, buckets } = ctx;
  const { sql, clock } = deps;
  const keyTypeOf = (raw: string | undefined) => {
    if (!raw || !isKeyType(raw)) throw problem('InvalidRequest', 'KeyType must be CPF, CNPJ, PHONE, EMAIL or EVP', 'KeyType', 'enum');
    return raw;
  };

  return new Elysia({ prefix: '/api/v2' })
    .use(exchangePlugin)
    .post('/sync-verifications/', async ({ exchange }) => {
      const caller = exchange.caller.ispb;
      const { syncVerification: v } = parsed(M.CREATE_SYNC_VERIFICATION_REQUEST, exchange.body);
      requireSelf(caller, v.participant, 'SyncVerification.Participant');
      return buckets.metered([pspScope(caller, PSP_POLICIES.SYNC_VERIFICATIONS_WRITE)], async () => {
        const now = clock.now();
        const dictVsync = await liveVsync(sql, caller, v.keyType);
        const result = dictVsync === v.syncVerifier.toLowerCase() ? 'OK' : 'NOK';
        const [row] = await sql<{ id: bigint }[]>`
          insert into dict_sync_verifications (participant, key_type, participant_vsync, dict_vsync, result, at)
          values (${caller}, ${v.keyType}, ${v.syncVerifier}, ${dictVsync}, ${result}, ${now}) returning id`;
        return reply(
          M.CREATE_SYNC_VERIFICATION_RESPONSE,
          { ...envelope(now), syncVerification: { participant: caller, keyType: v.keyType, participantSyncVerifier: v.syncVerifier, id: String(row!.id), result } },
          201,
        );
      });
    })
    .post('/cids/files/', async ({ exchange }) => {
      const caller = exchange.caller.ispb;
      const req = parsed(M.CREATE_CID_SET_FILE_REQUEST, exchange.body);
      requireSelf(caller, req.participant, 'Participant');
      return buckets.metered([pspScope(caller, PSP_POLICIES.CIDS_FILES_WRITE)], async () => {
        const now = clock.now();
        // generated at once (BACEN does it asynchronously; the status is AVAILABLE when answered)
        const cids = await sql<{ cid: string }[]>`select cid from dict_entries where participant = ${caller} and key_type = ${req.keyType}`;
        const content = cids.map((r) => r.cid).join('\n') + (cids.length ? '\n' : '');
        const sha256 = createHash('sha256').update(content).digest('hex');
        const [row] = await sql<FileRow[]>`
          insert into dict_cid_files (participant, key_type, request_time, creation_time, content, bytes, sha256)
          values (${caller}, ${req.keyType}, ${now}, ${now}, ${content}, ${Buffer.byteLength(content)}, ${sha256})
          returning id, participant, key_type, request_time, creation_time, bytes, sha256`;
        return reply(M.CREATE_CID_SET_FILE_RESPONSE, { ...envelope(now), cidSetFile: fileOf(row!) }, 201);
      });
    })
    .get('/cids/files/:id', async ({ exchange, params }) => {
      const caller = exchange.caller.ispb;
      if (!/^\d{1,18}$/.test(params.id)) throw problem('InvalidRequest', 'Id must be an integer', 'Id', 'format');
      return buckets.metered([pspScope(caller, PSP_POLICIES.CIDS_FILES_READ)], async () => {
        const [row] = await sql<FileRow[]>`select id, participant, key_type, request_time, creation_time, bytes, sha256 from dict_cid_files where id = ${params.id} and participant = ${caller}`;
        if (!row) throw problem('NotFound', `no CID set file ${params.id} of yours`);
        return reply(M.GET_CID_SET_FILE_RESPONSE, { ...envelope(clock.now()), cidSetFile: fileOf(row) });
      });
    })
    .get('/cids/files/:id/content', async ({ exchange, params }) => {
      const caller = exchange.caller.ispb;
      if (!/^\d{1,18}$/.test(params.id)) throw problem('InvalidRequest', 'Id must be an integer', 'Id', 'format');
      const [row] = await sql<{ content: string }[]>`select content from dict_cid_files where id = ${params.id} and participant = ${caller}`;
      if (!row) throw problem('NotFound', `no CID set file ${params.id} of yours`);
      return new Response(row.content, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
    })
    .get('/cids/events', async ({ exchange, query }) => {
      const caller = exchange.caller.ispb;
      requireSelf(caller, query.Participant ?? '', 'Participant');
      const keyType = keyTypeOf(query.KeyType);
      const start = optionalTime(query.StartTime, 'StartTime') ?? new Date(0);
      const end = optionalTime(query.EndTime, 'EndTime') ?? clock.now();
      const limit = Math.min(listLimit(query.Limit ?? '200'), CID_EVENTS_LIMIT_MAX);
      return buckets.metered([pspScope(caller, PSP_POLICIES.CIDS_EVENTS_LIST)], async () => {
        const rows = await sql<{ id: bigint; type: 'ADDED' | 'REMOVED'; cid: string; at: Date }[]>`
          select id, type, cid, at from dict_cid_events
          where participant = ${caller} and key_type = ${keyType} and at >= ${start} and at <= ${end}
          order by at, id limit ${limit + 1}`;
        const page = rows.slice(0, limit);
        const startVsync = await vsyncAtEvent(sql, caller, keyType, { at: start });
        const last = page.at(-1);
        const endVsync = last ? await vsyncAtEvent(sql, caller, keyType, { id: last.id }) : startVsync;
        return reply(M.LIST_CID_SET_EVENTS_RESPONSE, {
          ...envelope(clock.now()),
          hasMoreElements: rows.length > limit,
          participant: caller,
          keyType,
          startTime: start.toISOString(),
          endTime: (rows.length > limit && last ? last.at : end).toISOString(),
          syncVerifierStart: startVsync,
          syncVerifierEnd: endVsync,
          cidSetEvents: page.map((r) => ({ type: r.type, cid: r.cid, timestamp: r.at.toISOString() })),
        });
      });
    })
    .get('/cids/entries/:cid', async ({ exchange, params }) => {
      const caller = exchange.caller.ispb;
      if (!isCid(params.cid)) throw problem('InvalidRequest', 'Cid must be 64 lowercase hex characters', 'Cid', 'format');
      return buckets.metered([pspScope(caller, PSP_POLICIES.CIDS_ENTRIES_READ)], async () => {
        const [row] = await sql<EntryRow[]>`select * from dict_entries where cid = ${params.cid} and participant = ${caller}`;
        if (!row) throw problem('NotFound', 'no active entry of yours with this CID');
        return reply(M.GET_ENTRY_BY_CID_RESPONSE, { ...envelope(clock.now()), cid: row.cid, entry: entryOf(row), requestId: row.request_id });
      });
    });
}
