// Errors are values until the edge (STYLE.md): domain functions return a Result, only the HTTP layer
// turns a failure into problem+json through the single table in errors.ts.
import type { ErrorCode } from './errors.ts';

export interface DomainError {
  code: ErrorCode;
  detail: string;
  /** the offending field, as a JSON pointer-ish path (`amount`, `creditor.account.branch`) */
  field?: string;
  /** the rule the field broke (`format`, `check-digit`, `max-length`, ...) */
  rule?: string;
}

export type Result<T, E = DomainError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const fail = (code: ErrorCode, detail: string, field?: string, rule?: string): Result<never> => ({
  ok: false,
  error: { code, detail, ...(field === undefined ? {} : { field }), ...(rule === undefined ? {} : { rule }) },
});
