// Lookups by ISPB: the participants we know (sql/0001 participants), for portals and for SPI's routing.
// Read-mostly and small: cached in-process, reloaded after the TTL.
import { Elysia, t } from 'elysia';
import { createCache } from '../../../shared/cache.ts';
import { HttpProblem } from '../../../shared/errors.ts';
import { PARTICIPANT_CATEGORIES, type ParticipantCategory } from '../../../shared/dict/buckets.ts';
import type { DictDeps } from '../deps.ts';

/** Far above the ~900 PIX participants; the bound only protects against a bad loader. */
export const PARTICIPANT_CACHE_ENTRIES_MAX = 10_000;
export const PARTICIPANT_CACHE_TTL_MS = 60_000;

interface ParticipantRow {
  ispb: string;
  name: string;
  short_name: string;
  dict_category: string;
  status: string;
  spi_direct: boolean;
  dict_direct: boolean;
}

const ParticipantView = t.Object({ ispb: t.String(), name: t.String(), shortName: t.String(), dictCategory: t.String(), status: t.String(), spiDirect: t.Boolean(), dictDirect: t.Boolean() });

const view = (r: ParticipantRow) => ({ ispb: r.ispb, name: r.name, shortName: r.short_name, dictCategory: r.dict_category, status: r.status, spiDirect: r.spi_direct, dictDirect: r.dict_direct });

/**
 * Our DICT anti-scan category: as DICT reports it (ListPolicies), else participants.dict_category, else F
 * (the strictest: refusing early is safer than spending tokens DICT will not give).
 */
export async function loadParticipantCategory(deps: Pick<DictDeps, 'sql' | 'dict' | 'config' | 'logger'>): Promise<ParticipantCategory> {
  const fromDict = await deps.dict.getCategory();
  if (fromDict.ok && (PARTICIPANT_CATEGORIES as readonly string[]).includes(fromDict.value)) return fromDict.value as ParticipantCategory;
  if (!fromDict.ok) deps.logger.warn({ code: fromDict.error.code, detail: fromDict.error.detail }, 'could not read our anti-scan category from DICT; using the local one');
  const [row] = await deps.sql<{ dict_category: ParticipantCategory }[]>`select dict_category from participants where ispb = ${deps.config.ispb}`;
  return row?.dict_category ?? 'F';
}

export function participantRoutes(deps: DictDeps) {
  const { sql, clock, metrics } = deps;
  const cache = createCache<string, ParticipantRow>({
    name: 'dict-participants',
    maxEntries: PARTICIPANT_CACHE_ENTRIES_MAX,
    ttlMs: PARTICIPANT_CACHE_TTL_MS,
    clock,
    registry: metrics.registry,
    load: async (ispb) => (await sql<ParticipantRow[]>`select * from participants where ispb = ${ispb}`)[0],
  });
  return new Elysia({ prefix: '/participants', detail: { tags: ['participants'] } })
    .get('/', async () => ({ participants: (await sql<ParticipantRow[]>`select * from participants order by ispb`).map(view) }), {
      response: { 200: t.Object({ participants: t.Array(ParticipantView) }) },
      detail: { summary: 'Participants known to us' },
    })
    .get('/:ispb', async ({ params }) => {
      const row = await cache.get(params.ispb);
      if (!row) throw HttpProblem.of('NotFound', `no participant ${params.ispb}`);
      return view(row);
    }, { params: t.Object({ ispb: t.String({ pattern: '^[0-9A-Z]{8}$' }) }), response: { 200: ParticipantView }, detail: { summary: 'One participant by ISPB' } });
}
