// DICT answers errors as problem+json whose `type` ends in the error name (PIX.md § Errors). We keep the
// name when our table knows it, so a portal sees EntryAlreadyExists exactly as DICT said it; transport
// failures become 503/504 (the request may be retried with the same RequestId).
import type { BacenError } from '../../../shared/bacen/classify.ts';
import { ERROR_STATUS, type ErrorCode } from '../../../shared/errors.ts';
import type { DomainError } from '../../../shared/result.ts';

/** What to suggest to the portal for errors that have a next step (PIX.md § Errors). */
const NEXT_STEP: Partial<Record<ErrorCode, string>> = {
  EntryKeyOwnedByDifferentPerson: 'the key belongs to another person: open an OWNERSHIP claim to take it over',
  EntryKeyInCustodyOfDifferentParticipant: 'the key is registered at another participant for this owner: open a PORTABILITY claim',
};

export function dictErrorName(problemType: string | undefined): string | undefined {
  if (!problemType) return undefined;
  const name = problemType.split(/[/#]/).pop();
  return name && name.length > 0 ? name : undefined;
}

export function fromBacenError(error: BacenError, operation: string): DomainError {
  if (error.kind === 'timeout') return { code: 'UpstreamTimeout', detail: `DICT did not answer ${operation} in time` };
  if (error.kind !== 'http') return { code: 'ServiceUnavailable', detail: `DICT unreachable for ${operation}: ${error.detail}` };
  const name = dictErrorName(error.problem?.type);
  const detail = error.problem?.detail ?? error.detail;
  const named = namedViolation(error.problem?.violations);
  if (name && name in ERROR_STATUS) {
    const code = name as ErrorCode;
    const next = NEXT_STEP[code];
    return { code, detail: next ? `${detail} (${next})` : detail, ...named };
  }
  if (error.status === 404) return { code: 'EntryNotFound', detail };
  if (error.status === 429) return { code: 'RateLimited', detail };
  if ((error.status ?? 500) >= 500) return { code: 'ServiceUnavailable', detail: `DICT failed ${operation}: ${detail}` };
  return { code: 'InvalidRequest', detail: `DICT refused ${operation}: ${name ?? error.status} ${detail}`, ...named };
}

/**
 * The field and rule DICT named in its refusal (`InfractionReport.TransactionId`, `not-found`), kept so
 * our answer names them too: DICT's names, which the portal can read against the spec.
 */
function namedViolation(violations: unknown): { field?: string; rule?: string } {
  const first = Array.isArray(violations) ? (violations[0] as { field?: unknown; rule?: unknown } | undefined) : undefined;
  if (typeof first?.field !== 'string' || first.field === '') return {};
  return { field: first.field, rule: typeof first.rule === 'string' && first.rule !== '' ? first.rule : 'invalid' };
}
