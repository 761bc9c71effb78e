// RFC 9457 problem details, one table from domain error code to HTTP status for every service.
// The `type` URI ends in the error name, as BACEN's DICT does (`.../EntryInvalid`).
import { ValueErrorType } from '@sinclair/typebox/errors';
import { Elysia } from 'elysia';
import type { DomainError } from './result.ts';

export const PROBLEM_TYPE_BASE = 'https://fluxiq.dev/problems/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const ERROR_STATUS = {
  // generic edge errors
  InvalidRequest: [400, 'The request is invalid'],
  BodyTooLarge: [413, 'The request body is too large'],
  UnsupportedMediaType: [415, 'Unsupported media type'],
  Unauthorized: [401, 'Authentication is required'],
  Forbidden: [403, 'Not allowed'],
  NotFound: [404, 'Not found'],
  MethodNotAllowed: [405, 'Method not allowed'],
  Conflict: [409, 'Conflict with the current state'],
  IdempotencyKeyReused: [422, 'Idempotency-Key reused with a different request'],
  IdempotencyKeyInFlight: [409, 'A request with this Idempotency-Key is still in progress'],
  RateLimited: [429, 'Too many requests'],
  ServiceUnavailable: [503, 'Service unavailable'],
  UpstreamTimeout: [504, 'Upstream did not answer in time'],
  Internal: [500, 'Internal error'],
  // BACEN DICT error names (PIX.md § Errors)
  EntryInvalid: [400, 'Entry is invalid'],
  EntryLimitExceeded: [400, 'Entry limit exceeded for the account'],
  EntryAlreadyExists: [403, 'Entry already exists'],
  EntryKeyOwnedByDifferentPerson: [403, 'Key is owned by a different person'],
  EntryKeyInCustodyOfDifferentParticipant: [403, 'Key is in custody of a different participant'],
  EntryLockedByClaim: [400, 'Entry is locked by a claim'],
  EntryNotFound: [404, 'Entry not found'],
  ClaimAlreadyExistsForKey: [403, 'A claim already exists for the key'],
  ClaimOperationInvalid: [400, 'Claim operation is invalid'],
  ClaimResolutionPeriodNotEnded: [400, 'Claim resolution period has not ended'],
  ClaimCompletionPeriodNotEnded: [400, 'Claim completion period has not ended'],
  RequestSignatureInvalid: [400, 'Request signature is invalid'],
  RequestIdAlreadyUsed: [400, 'RequestId already used with different content'],
  RefundPeriodExpired: [400, 'Refund period expired'],
  InfractionReportAlreadyBeingProcessedForTransaction: [400, 'An infraction report is already being processed for the transaction'],
  // DICT API error types used by the sandbox and the DICT service (issue 5)
  InvalidReason: [400, 'The reason is not valid for this operation'],
  ClaimInvalid: [400, 'Claim is invalid'],
  ClaimTypeInconsistent: [403, 'Claim type is inconsistent with the current entry'],
  ClaimKeyNotFound: [403, 'No entry exists for the claimed key'],
  ClaimResultingEntryAlreadyExists: [403, 'The entry the claim would produce already exists'],
  ClaimNotFound: [404, 'Claim not found'],
  EntryCannotBeQueriedForBookTransfer: [403, 'Payer and payee are at the same participant: no DICT lookup for a book transfer'],
  InfractionReportInvalid: [400, 'Infraction report is invalid'],
  InfractionReportOperationInvalid: [400, 'Infraction report status does not allow the operation'],
  InfractionReportNotFound: [404, 'Infraction report not found'],
  RefundInvalid: [400, 'Refund request is invalid'],
  RefundOperationInvalid: [400, 'Refund status does not allow the operation'],
  RefundNotFound: [404, 'Refund not found'],
  RefundAlreadyExistsForTransaction: [403, 'An open refund already exists for the transaction'],
  // SPI service (issue 6): refusals of a payment order before anything is written
  AccountNotFound: [422, 'The account does not exist'],
  AccountBlocked: [422, 'The account is blocked'],
  InsufficientFunds: [422, 'Insufficient funds in the account'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface Violation {
  field: string;
  rule: string;
  message?: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  violations?: Violation[];
  [extension: string]: unknown;
}

export function problemOf(code: ErrorCode, detail: string, violations?: Violation[], extra?: Record<string, unknown>): Problem {
  const [status, title] = ERROR_STATUS[code];
  return {
    type: PROBLEM_TYPE_BASE + code,
    title,
    status,
    detail,
    ...(violations && violations.length > 0 ? { violations } : {}),
    ...extra,
  };
}

export function problemFromDomain(error: DomainError): Problem {
  const violations = error.field ? [{ field: error.field, rule: error.rule ?? 'invalid', message: error.detail }] : undefined;
  return problemOf(error.code, error.detail, violations);
}

export function problemResponse(problem: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...headers },
  });
}

/** Thrown from a route to end the request with a problem; the error plugin turns it into the response. */
export class HttpProblem extends Error {
  constructor(
    readonly problem: Problem,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.detail);
  }
  static of(code: ErrorCode, detail: string, violations?: Violation[], headers?: Record<string, string>): HttpProblem {
    return new HttpProblem(problemOf(code, detail, violations), headers);
  }
  static fromDomain(error: DomainError): HttpProblem {
    return new HttpProblem(problemFromDomain(error));
  }
}

/** Postgres SQLSTATEs that mean the server is going away or not there yet (class 57: operator intervention; 08: connection). */
const POSTGRES_DOWN = /^(57P01|57P02|57P03|08000|08001|08003|08006)$/;
const SOCKET_DOWN = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);

/**
 * Which dependency an error says is down (Redis, Postgres, NATS), or null. Such an error escaping a route
 * is answered 503 with Retry-After, not 500: the request may well succeed a second later.
 */
export function dependencyDown(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const code = String((error as { code?: unknown }).code ?? '');
  // ioredis: MaxRetriesPerRequestError's `name` is its base class's (AbortError), so the class is checked by
  // its constructor; "Command timed out" is its commandTimeout (REDIS_COMMAND_TIMEOUT_MS) while Redis restarts
  const redisClass = error.constructor?.name ?? '';
  if (error.name === 'MaxRetriesPerRequestError' || redisClass === 'MaxRetriesPerRequestError') return 'Redis';
  if (/^Connection is closed|Stream isn't writeable/.test(error.message)) return 'Redis';
  if (error.message === 'Command timed out' && /ioredis/.test(error.stack ?? '')) return 'Redis';
  if (POSTGRES_DOWN.test(code) || (SOCKET_DOWN.has(code) && /postgres|5432/i.test(`${error.stack ?? ''}${error.message}`))) return 'Postgres';
  if (/^(CONNECTION_CLOSED|CONNECTION_DRAINING|DISCONNECT|503)$/.test(code) && /nats/i.test(error.stack ?? '')) return 'NATS';
  if (SOCKET_DOWN.has(code)) return 'a dependency';
  return null;
}

/**
 * The answer to an error no route expected: 503 + Retry-After when a dependency is down (a restart is not a
 * bug in the request), else 500 without internals; logged either way. Shared by problemPlugin and the routes
 * Bun serves natively (which bypass Elysia's error hook).
 */
export function unexpectedErrorResponse(error: unknown, path: string, onUnexpected: (error: unknown, path: string) => void): Response {
  onUnexpected(error, path);
  const down = dependencyDown(error);
  if (down !== null) return problemResponse({ ...problemOf('ServiceUnavailable', `${down} is unavailable; retry shortly`), instance: path }, { 'retry-after': '1' });
  return problemResponse({ ...problemOf('Internal', 'an unexpected error occurred; it has been logged'), instance: path });
}

/** Elysia's ValidationError path (`/creditor/account`) as a dotted field name (`creditor.account`). */
function fieldOf(path: string | undefined): string {
  const trimmed = (path ?? '').replace(/^\//, '');
  return trimmed === '' ? '(body)' : trimmed.replaceAll('/', '.');
}

/**
 * TypeBox error kind → the rule it broke, named like the schema keyword (`pattern`, `maxLength`,
 * `required`, `type:string` ...). The names come from TypeBox's ValueErrorType enum.
 */
function ruleOf(kind: number | undefined, schema: Record<string, unknown> | undefined, value: unknown): string {
  if (value === undefined) return 'required';
  const name = kind === undefined ? '' : (ValueErrorType[kind] ?? '');
  const keyword = /(Pattern|Format|MinLength|MaxLength|Minimum|Maximum|ExclusiveMinimum|ExclusiveMaximum|MinItems|MaxItems|MultipleOf|UniqueItems|AdditionalProperties|RequiredProperty)$/.exec(name);
  if (keyword) return keyword[1] === 'RequiredProperty' ? 'required' : keyword[1]!.charAt(0).toLowerCase() + keyword[1]!.slice(1);
  if (name === 'Union' && Array.isArray(schema?.anyOf)) return 'enum';
  if (name === 'Literal') return 'const';
  if (typeof schema?.type === 'string') return `type:${schema.type}`;
  return 'invalid';
}

interface ValidationLike {
  type?: string;
  all?: { type?: number; path?: string; message?: string; summary?: string; value?: unknown; schema?: Record<string, unknown> }[];
}

export function violationsOf(error: ValidationLike): Violation[] {
  const seen = new Set<string>();
  const out: Violation[] = [];
  for (const e of error.all ?? []) {
    const field = fieldOf(e.path);
    const rule = ruleOf(e.type, e.schema, e.value);
    const key = `${field}\u0000${rule}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ field, rule, message: e.summary ?? e.message ?? 'invalid' });
  }
  return out;
}

/**
 * Levels a JSON body may nest. Our deepest schema nests four; far deeper input only serves to exhaust a
 * recursive walker: Elysia's ValidationError stringifies the value it refused, which overflows the stack
 * (a 500) somewhere past ten thousand levels.
 */
export const BODY_DEPTH_MAX = 64;

/**
 * What no field of any route accepts, found before the route's schema looks: a value nested deeper than
 * BODY_DEPTH_MAX, or a string (value or key) holding U+0000, which Postgres text and jsonb cannot store
 * (a NUL reaching a query was a 500). Walked with an explicit stack, never recursion.
 */
export function edgeViolation(value: unknown, root: string): Violation | undefined {
  const stack: [unknown, number, string][] = [[value, 0, '']];
  while (stack.length > 0) {
    const [v, depth, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return { field: path || root, rule: 'no-nul', message: 'U+0000 (NUL) is not accepted in any field' };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= BODY_DEPTH_MAX) return { field: root, rule: 'maxDepth', message: `nests deeper than ${BODY_DEPTH_MAX} levels` };
    for (const [k, child] of Object.entries(v)) {
      const at = path === '' ? k : `${path}.${k}`;
      if (k.includes('\u0000')) return { field: at, rule: 'no-nul', message: 'U+0000 (NUL) is not accepted in any field name' };
      stack.push([child, depth + 1, at]);
    }
  }
  return undefined;
}

/**
 * Every service mounts this first: validation, parse, not-found and unexpected errors all leave as
 * problem+json. An unexpected error is logged with its stack and answered 500 without internals.
 * The body, query and path parameters are checked for what no field accepts (edgeViolation) after
 * parsing, before any schema looks at them.
 */
export function problemPlugin(onUnexpected: (error: unknown, path: string) => void = () => {}) {
  return new Elysia({ name: 'fluxiq-problem' })
    .error({ HttpProblem })
    .onTransform({ as: 'global' }, ({ body, query, params }) => {
      for (const [where, value] of [['body', body], ['query', query], ['params', params]] as const) {
        const v = value === undefined ? undefined : edgeViolation(value, where === 'body' ? '(body)' : `(${where})`);
        if (v !== undefined) throw HttpProblem.of('InvalidRequest', `${where}: ${v.field} breaks rule ${v.rule}`, [v]);
      }
    })
    .onError({ as: 'global' }, ({ code, error, request }) => {
      const path = new URL(request.url).pathname;
      switch (code) {
        case 'HttpProblem':
          return problemResponse({ ...error.problem, instance: path }, error.headers);
        case 'VALIDATION': {
          const where = (error as ValidationLike).type ?? 'request';
          const violations = violationsOf(error as ValidationLike);
          const first = violations[0];
          const detail = first ? `${where}: ${first.field} breaks rule ${first.rule}` : `${where} is invalid`;
          return problemResponse({ ...problemOf('InvalidRequest', detail, violations), instance: path });
        }
        case 'PARSE':
          return problemResponse({ ...problemOf('InvalidRequest', 'the body could not be parsed', [{ field: '(body)', rule: 'parse' }]), instance: path });
        case 'NOT_FOUND':
          return problemResponse({ ...problemOf('NotFound', `no route for ${request.method} ${path}`), instance: path });
        case 'INVALID_COOKIE_SIGNATURE':
          return problemResponse({ ...problemOf('Unauthorized', 'invalid cookie signature'), instance: path });
        default: {
          const status = (error as { status?: unknown }).status;
          if (typeof status === 'number' && status >= 400 && status < 500) {
            const code = status === 413 ? 'BodyTooLarge' : status === 415 ? 'UnsupportedMediaType' : status === 405 ? 'MethodNotAllowed' : 'InvalidRequest';
            return problemResponse({ ...problemOf(code, (error as Error).message || 'invalid request'), instance: path });
          }
          return unexpectedErrorResponse(error, path, onUnexpected);
        }
      }
    });
}

/** A dependency (Postgres, Redis, NATS, a certificate) is missing or unreachable: one actionable line. */
export class DependencyError extends Error {
  override name = 'DependencyError';
}
