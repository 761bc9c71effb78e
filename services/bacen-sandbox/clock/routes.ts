// Control API: read and advance the sandbox clock, so tests and operators can walk past deadlines
// (claim resolution: 7 days) without waiting.
import { Elysia, t } from 'elysia';
import type { OffsetClock } from '../../../shared/clock.ts';

/** One call moves time by at most a year: a typo should not jump decades. */
export const CLOCK_ADVANCE_MS_MAX = 366 * 24 * 3600 * 1000;

export function clockRoutes(clock: OffsetClock) {
  return new Elysia({ prefix: '/clock' })
    .get('/', () => ({ now: clock.now().toISOString(), offsetMs: clock.offsetMs }))
    .post('/advance', ({ body }) => {
      clock.advance(body.ms);
      return { now: clock.now().toISOString(), offsetMs: clock.offsetMs };
    }, { body: t.Object({ ms: t.Integer({ minimum: 0, maximum: CLOCK_ADVANCE_MS_MAX }) }) });
}
