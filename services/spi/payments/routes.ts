// POST /payments (the gateway exposes it as /spi/payments), GET /payments/:e2e, POST /payments/preview.
// Idempotency: the first request with a key claims it in Redis; concurrent and later requests with the
// same key and body get the first answer byte for byte; with another body, 422 IdempotencyKeyReused.
// A request refused for its input (400) leaves the key free, so the corrected body may reuse it.
// Postgres (spi_idempotency) backs Redis: a key Redis forgot still maps to its one payment.
import { createHash } from 'node:crypto';
import { Elysia, type Static } from 'elysia';
import { HttpProblem, problemFromDomain, PROBLEM_CONTENT_TYPE, type Problem } from '../../../shared/errors.ts';
import type { IdempotencyStore, StoredResponse } from '../../../shared/redis/index.ts';
import type { DomainError } from '../../../shared/result.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import { QueueFullError } from '../pipeline/batch-writer.ts';
import type { KeyResolver } from '../keys/resolver.ts';
import type { PaymentEngine } from './engine.ts';
import { E2eParams, PaymentBody, PaymentHeaders } from './model.ts';
import { resolveOrder, type OrderContext } from './order.ts';
import { isDecided } from './payment.ts';

/** A request finding its key in flight polls for the first answer this often... */
export const IDEMPOTENCY_POLL_MS = 10;
/** ...for at most the sync wait plus this margin, then answers 409 IdempotencyKeyInFlight. */
export const IDEMPOTENCY_WAIT_MARGIN_MS = 5_000;

/** Payment requests worked on at once (DICT resolve → decision). Past it a new request is answered 429 with
 *  Retry-After before any work: load is shed at intake instead of queueing until the DICT lookup timeout
 *  (2 s) fires and 503s open the gateway's breaker. ~1 s of queue at this box's capacity (RESULTS.md). */
export const INTAKE_IN_FLIGHT_MAX = 192;
export const INTAKE_RETRY_AFTER_S = 1;

export interface PaymentRouteDeps {
  /** INTAKE_IN_FLIGHT_MAX unless set (tests) */
  intakeInFlightMax?: number;
  engine: PaymentEngine;
  idempotency: IdempotencyStore;
  order: OrderContext;
  resolver: KeyResolver;
  syncWaitMs: number;
  logger: Logger;
}

const JSON_TYPE = { 'content-type': 'application/json' };
/** Every request with one key gets the same status, headers and body: the first answer, as stored. */
const replay = (s: StoredResponse) => new Response(s.body, { status: s.status, headers: s.headers ?? {} });

function problemStored(error: DomainError & { retryAfterS?: number }, path: string): StoredResponse {
  const p: Problem = { ...problemFromDomain(error), instance: path };
  return { status: p.status, headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...(error.retryAfterS ? { 'retry-after': String(error.retryAfterS) } : {}) }, body: JSON.stringify(p) };
}

export function paymentRoutes(deps: PaymentRouteDeps) {
  const { engine, idempotency, syncWaitMs } = deps;

  /** The whole order → answer path for a request that holds its Idempotency-Key claim. */
  async function execute(body: PaymentBody, key: string, hash: string, path: string): Promise<StoredResponse> {
    const resolved = await resolveOrder(body, deps.order);
    if (!resolved.ok) return problemStored(resolved.error, path);
    const submitted = await engine.submit({ ...resolved.value.order, idempotency: { key, hash }, traceId: null });
    // a reused key (caught by the database backstop) is thrown, not stored: stored under this body's hash
    // it would shadow the first payment's answer for that key
    if (!submitted.ok && submitted.error.code === 'IdempotencyKeyReused') throw HttpProblem.fromDomain(submitted.error);
    if (!submitted.ok) return problemStored(submitted.error, path);
    const { view, existing } = submitted.value;
    if (!existing && resolved.value.keyType) void deps.resolver.paymentSent(resolved.value.payerId, resolved.value.keyType);
    if (!existing) await engine.waitDecision(view.endToEndId, syncWaitMs);
    const now = (await engine.get(view.endToEndId)) ?? view;
    const decided = isDecided(now.status);
    return {
      status: decided ? 201 : 202,
      headers: { ...JSON_TYPE, location: now.statusUrl },
      body: JSON.stringify(now),
    };
  }

  const intakeMax = deps.intakeInFlightMax ?? INTAKE_IN_FLIGHT_MAX;
  let inFlight = 0;

  return new Elysia({ prefix: '/payments', detail: { tags: ['payments'] } })
    .post('', async ({ body, headers, request }) => {
      // shed at intake: past the bound a request is refused before any work (no key claimed: the client
      // retries with the same Idempotency-Key), instead of queueing until internal timeouts fire
      if (inFlight >= intakeMax) {
        throw HttpProblem.of('RateLimited', `${inFlight} payment requests are being processed; retry shortly`, undefined, { 'retry-after': String(INTAKE_RETRY_AFTER_S) });
      }
      inFlight++;
      try {
        return await accept(body, headers, request);
      } finally {
        inFlight--;
      }
    }, {
      body: PaymentBody,
      headers: PaymentHeaders,
      detail: { summary: 'Send a payment (by key, BR Code or account); 201 when decided within the wait, else 202 with a status URL; 429 with Retry-After when too many are in flight' },
    })
    .get('/:e2e', async ({ params }) => {
      const view = await engine.get(params.e2e);
      if (!view) throw HttpProblem.of('NotFound', `no payment ${params.e2e}`);
      return view;
    }, { params: E2eParams, detail: { summary: 'Payment status' } });

  async function accept(body: PaymentBody, headers: Static<typeof PaymentHeaders>, request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    const key = headers['idempotency-key'];
    const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    const claim = await idempotency.begin(key, hash);
    if (claim.state === 'replay') return replay(claim.response);
    if (claim.state === 'conflict') throw HttpProblem.of('IdempotencyKeyReused', 'this Idempotency-Key was used with a different request body', [{ field: 'Idempotency-Key', rule: 'reused' }]);
    if (claim.state === 'in-flight') {
      const until = performance.now() + syncWaitMs + IDEMPOTENCY_WAIT_MARGIN_MS;
      while (performance.now() < until) {
        await Bun.sleep(IDEMPOTENCY_POLL_MS);
        const again = await idempotency.begin(key, hash);
        if (again.state === 'replay') return replay(again.response);
        if (again.state === 'new') {
          // the first request gave up its claim (it failed): this one carries on in its place
          return replay(await run());
        }
      }
      throw HttpProblem.of('IdempotencyKeyInFlight', 'the first request with this Idempotency-Key is still running; retry shortly');
    }
    return replay(await run());

    async function run(): Promise<StoredResponse> {
      try {
        const answer = await execute(body, key, hash, path);
        // a refusal of the request's input (400) does not hold the key: the client corrects the body and
        // retries with the same key, as it would after a schema refusal; a 5xx may succeed on a retry
        if (answer.status < 500 && answer.status !== 400) await idempotency.complete(key, hash, answer);
        else await idempotency.abandon(key);
        return answer;
      } catch (err) {
        await idempotency.abandon(key).catch(() => false);
        if (err instanceof QueueFullError) throw HttpProblem.of('ServiceUnavailable', 'the payment pipeline is full; retry shortly', undefined, { 'retry-after': '1' });
        throw err;
      }
    }
  }
}
