// /sync: run a verification now, read the repair reports and our VSyncs (operators).
import { Elysia, t } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import { KEY_TYPES } from '../../../shared/dict/keys.ts';
import type { DictDeps } from '../deps.ts';
import type { SyncService } from './service.ts';

const KeyTypeParam = t.Union(KEY_TYPES.map((k) => t.Literal(k)));
/** Reports one list answer holds at most (a verification per key type a few times a day: weeks of history). */
export const SYNC_REPORTS_LISTED_MAX = 500;

export function syncRoutes(deps: DictDeps, sync: SyncService) {
  const { sql } = deps;
  return new Elysia({ prefix: '/sync', detail: { tags: ['reconciliation'] } })
    .post('/verifications/:keyType', async ({ params }) => {
      const r = await sync.verify(params.keyType);
      if (!r.ok) throw HttpProblem.fromDomain(r.error);
      return r.value;
    }, { params: t.Object({ keyType: KeyTypeParam }), detail: { summary: 'Verify one key type\'s VSync with DICT now (repairs on mismatch)' } })
    .get('/reports', async ({ query }) => ({
      reports: await sql`select id, key_type as "keyType", result, local_vsync as "localVsync", dict_vsync as "dictVsync", added, removed, detail,
        started_at as "startedAt", finished_at as "finishedAt" from dict_sync_reports order by finished_at desc limit ${query.limit ?? 50}`,
    }), { query: t.Object({ limit: t.Optional(t.Integer({ minimum: 1, maximum: SYNC_REPORTS_LISTED_MAX })) }), detail: { summary: 'Sync verification and repair reports, newest first' } })
    .get('/vsyncs', async () => ({
      vsyncs: await sql`select key_type as "keyType", vsync, entries::text as entries, updated_at as "updatedAt" from dict_vsyncs order by key_type`,
    }), { detail: { summary: 'Our VSync per key type' } });
}
