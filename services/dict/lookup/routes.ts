// GET /keys/:key/lookup — the lookup a payment makes, with the payer's id (PI-PayerId) for anti-scan.
// One plain handler serves it twice: as a Bun native route (`lookupServeRoutes`, given to Bun.serve
// through the app's serve config, so a request runs no Elysia lifecycle at all) and as the Elysia route
// (`lookupRoutes`: app.handle in tests, the OpenAPI document). A cache hit is answered synchronously with
// the entry's pre-encoded bytes and a shared headers object: no serialisation, no URL parsing, no promise.
import type { BunRequest } from 'bun';
import { Elysia, t } from 'elysia';
import { problemOf, problemResponse, unexpectedErrorResponse, type Violation } from '../../../shared/errors.ts';
import { KEY_TYPES } from '../../../shared/dict/keys.ts';
import type { Metrics } from '../../../shared/telemetry.ts';
import type { LookupFailure, LookupOutcome, LookupService } from './service.ts';

export const LOOKUP_ROUTE = '/keys/:key/lookup' as const;

const JSON_HEADERS = { 'content-type': 'application/json' };

/** The URL's path (what `new URL(url).pathname` gives for the absolute URLs a server receives). */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const q = url.indexOf('?', start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

function refusal({ error }: LookupFailure, request: Request): Response {
  const violations: Violation[] | undefined = error.field ? [{ field: error.field, rule: error.rule ?? 'invalid' }] : undefined;
  const retry = typeof error.retryAfterS === 'number' ? { 'retry-after': String(error.retryAfterS) } : undefined;
  return problemResponse({ ...problemOf(error.code, error.detail, violations), instance: pathOf(request.url) }, retry);
}

export type LookupHandler = (request: Request, key: string) => Response | Promise<Response>;

export function createLookupHandler(lookup: LookupService, count: (status: number) => void = () => {}): LookupHandler {
  const answer = (outcome: LookupOutcome, request: Request): Response => {
    const res = outcome.ok ? new Response(outcome.value.body, { headers: JSON_HEADERS }) : refusal(outcome, request);
    count(res.status);
    return res;
  };
  return (request, key) => {
    const payerId = request.headers.get('pi-payerid');
    if (!payerId) {
      count(400);
      return problemResponse({ ...problemOf('InvalidRequest', 'PI-PayerId (the paying end user\'s CPF/CNPJ) is required', [{ field: 'PI-PayerId', rule: 'required' }]), instance: pathOf(request.url) });
    }
    const now = lookup.lookupNow(key, payerId);
    if (now === undefined) {
      return lookup.lookup({ key, payerId, endToEndId: request.headers.get('pi-endtoendid') ?? undefined }).then((r) => answer(r, request));
    }
    if ('ok' in now) {
      const res = refusal(now, request);
      count(res.status);
      return res;
    }
    count(200);
    return new Response(now.body, { headers: JSON_HEADERS });
  };
}

/**
 * The lookup as a Bun native route. Bun.serve calls it directly, so it answers its own unexpected errors
 * with problemPlugin's function (503 + Retry-After when Postgres or Redis is down, else 500 without internals).
 */
export function lookupServeRoutes(handle: LookupHandler, onUnexpected: (error: unknown, path: string) => void) {
  const internal = (error: unknown, request: Request): Response => unexpectedErrorResponse(error, pathOf(request.url), onUnexpected);
  return {
    [LOOKUP_ROUTE]: {
      GET: (request: BunRequest<string>): Response | Promise<Response> => {
        try {
          const res = handle(request, request.params.key ?? '');
          return res instanceof Response ? res : res.catch((e: unknown) => internal(e, request));
        } catch (e) {
          return internal(e, request);
        }
      },
    },
  };
}

/** A counter of lookups by status for http_requests_total, without a label lookup per request. */
export function lookupCounter(metrics: Metrics): (status: number) => void {
  return metrics.routeCounter('GET', LOOKUP_ROUTE);
}

function badEncoding(request: Request): Response {
  return problemResponse({ ...problemOf('InvalidRequest', 'the key is not valid percent-encoding', [{ field: 'key', rule: 'encoding' }]), instance: pathOf(request.url) });
}

/** Credits in one POST /lookups/credits (the SPI resolver sends at most CREDIT_BATCH_MAX, 256). */
export const LOOKUP_CREDITS_BATCH_MAX = 1_000;
const Credit = t.Object({ payerId: t.String(), keyType: t.Union(KEY_TYPES.map((k) => t.Literal(k))) });

export function lookupRoutes(lookup: LookupService, handle: LookupHandler = createLookupHandler(lookup)) {
  return new Elysia({ detail: { tags: ['lookup'] } })
    // no TypeBox header/param schemas: the key and the payer id are checked by the domain rules, with field and rule
    // Elysia leaves a parameter that is not valid percent-encoding (`%zz`) as null; Bun's native route
    // decodes it leniently (U+FFFD), which the key rules then refuse
    .get(LOOKUP_ROUTE, ({ params, request }) => (typeof params.key === 'string' ? handle(request, params.key) : badEncoding(request)), {
      detail: {
        parameters: [
          { name: 'key', in: 'path', required: true, schema: { type: 'string', maxLength: 77 } },
          { name: 'PI-PayerId', in: 'header', required: true, schema: { type: 'string', pattern: '^([0-9]{11}|[0-9A-Z]{12}[0-9]{2})$' } },
          { name: 'PI-EndToEndId', in: 'header', required: false, schema: { type: 'string' } },
        ],
        summary: 'Resolve a key for a payment (anti-scan per PI-PayerId; our own keys are answered as book transfers)' },
    })
    .post('/lookups/credits', ({ body, set }) => {
      // one credit, or the SPI service's batch of them (its resolver sends the credits of ~20 ms together);
      // a batch is checked whole before any token is given back, so a refusal names the item and changes nothing
      const credits = 'credits' in body ? body.credits : [body];
      for (let i = 0; i < credits.length; i++) {
        const checked = lookup.checkCredit(credits[i]!.payerId);
        if (!checked.ok) return problemResponse(problemOf(checked.error.code, checked.error.detail, [{ field: 'credits' in body ? `credits[${i}].payerId` : checked.error.field ?? 'payerId', rule: checked.error.rule ?? 'invalid' }]));
      }
      for (const c of credits) lookup.creditPayment(c.payerId, c.keyType);
      set.status = 204;
      return null;
    }, {
      body: t.Union([Credit, t.Object({ credits: t.Array(Credit, { minItems: 1, maxItems: LOOKUP_CREDITS_BATCH_MAX }) })]),
      detail: { summary: 'Payments were sent after lookups: one anti-scan token back for each (SPI calls this, one credit or a batch)' },
    });
}
