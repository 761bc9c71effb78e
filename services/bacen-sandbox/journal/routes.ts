// Control API: read or clear what the mTLS port received.
import { Elysia, t } from 'elysia';
import { JOURNAL_ENTRIES_MAX, type RequestJournal } from './journal.ts';

export const journalRoutes = (journal: RequestJournal) =>
  new Elysia({ prefix: '/requests' })
    .get('/', ({ query: { limit } }) => ({ entries: journal.recent(limit ?? JOURNAL_ENTRIES_MAX) }), {
      query: t.Object({ limit: t.Optional(t.Numeric({ minimum: 1, maximum: JOURNAL_ENTRIES_MAX })) }),
    })
    .delete('/', ({ set }) => {
      journal.clear();
      set.status = 204;
    });
