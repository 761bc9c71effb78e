// Calendar dates as the APIs carry them: YYYY-MM-DD, UTC. A schema pattern only checks the shape; a day
// that does not exist (2026-02-30, 0000-00-00) is refused by Postgres as a 500 or rolled over by a JS Date,
// so routes check it here before the date goes anywhere.

/** YYYY-MM-DD naming a day that exists, years 1000..9999 (Postgres has no year 0; Date.UTC maps 0..99 to 19xx). */
export function isCalendarDate(text: string): boolean {
  const m = /^([1-9]\d{3})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const at = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return at.toISOString().slice(0, 10) === text;
}
