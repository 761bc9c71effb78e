// GET /keys/:key/lookup — the lookup a payment makes, with the payer's id (PI-PayerId) for anti-scan.
// The body is the cached, pre-serialised JSON: the hot path does no per-request serialisation, and a
// cache hit is answered synchronously.
import { Elysia, t } from 'elysia';
import { problemOf, problemResponse } from '../../../shared/errors.ts';
import { KEY_TYPES } from '../../../shared/dict/keys.ts';
import type { LookupOutcome, LookupService } from './service.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };

function respond(outcome: LookupOutcome, request: Request): Response {
  if (outcome.ok) return new Response(outcome.value.json, { headers: JSON_HEADERS });
  const { error } = outcome;
  const violations = error.field ? [{ field: error.field, rule: error.rule ?? 'invalid' }] : undefined;
  const retry = typeof error.retryAfterS === 'number' ? { 'retry-after': String(error.retryAfterS) } : undefined;
  return problemResponse({ ...problemOf(error.code, error.detail, violations), instance: new URL(request.url).pathname }, retry);
}

export function lookupRoutes(lookup: LookupService) {
  return new Elysia({ detail: { tags: ['lookup'] } })
    // Hot path: no TypeBox header/param schemas (the key and the payer id are checked by the domain rules
    // with field and rule), headers read straight from the request, the body served pre-serialised.
    .get('/keys/:key/lookup', ({ params, request }) => {
      const payerId = request.headers.get('pi-payerid');
      if (!payerId) return problemResponse({ ...problemOf('InvalidRequest', 'PI-PayerId (the paying end user\'s CPF/CNPJ) is required', [{ field: 'PI-PayerId', rule: 'required' }]), instance: new URL(request.url).pathname });
      const req = { key: params.key, payerId, endToEndId: request.headers.get('pi-endtoendid') ?? undefined };
      // a cache hit is answered synchronously: an async handler costs a promise and a microtask turn per request
      const now = lookup.lookupNow(req);
      if (now) return respond(now, request);
      return lookup.lookup(req).then((r) => respond(r, request));
    }, {
      detail: {
        parameters: [
          { name: 'key', in: 'path', required: true, schema: { type: 'string', maxLength: 77 } },
          { name: 'PI-PayerId', in: 'header', required: true, schema: { type: 'string', pattern: '^([0-9]{11}|[0-9A-Z]{12}[0-9]{2})$' } },
          { name: 'PI-EndToEndId', in: 'header', required: false, schema: { type: 'string' } },
        ],
        summary: 'Resolve a key for a payment (anti-scan per PI-PayerId; our own keys are answered as book transfers)' },
    })
    .post('/lookups/credits', ({ body, set }) => {
      const done = lookup.creditPayment(body.payerId, body.keyType);
      if (!done.ok) return problemResponse(problemOf(done.error.code, done.error.detail, done.error.field ? [{ field: done.error.field, rule: done.error.rule ?? 'invalid' }] : undefined));
      set.status = 204;
      return null;
    }, {
      body: t.Object({ payerId: t.String(), keyType: t.Union(KEY_TYPES.map((k) => t.Literal(k))) }),
      detail: { summary: 'A payment was sent after a lookup: one anti-scan token back (SPI calls this)' },
    });
}
