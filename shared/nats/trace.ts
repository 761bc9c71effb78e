// The trace id travels with every message as a header so a payment can be followed from the HTTP
// request through every worker that touches it.
import { headers as natsHeaders, type MsgHdrs } from 'nats';

export const TRACE_ID_HEADER = 'trace-id';
/** Longest trace id we accept from a peer; anything longer is replaced rather than propagated. */
export const TRACE_ID_LENGTH_MAX = 64;
const TRACE_ID_PATTERN = /^[A-Za-z0-9._:-]+$/;

/** 32 lower-case hex digits (W3C trace-id shape). */
export function newTraceId(): string {
  return crypto.randomUUID().replaceAll('-', '');
}

export function isTraceId(value: string): boolean {
  return value.length > 0 && value.length <= TRACE_ID_LENGTH_MAX && TRACE_ID_PATTERN.test(value);
}

/** Headers carrying the given trace id, or a fresh one when it is absent or malformed. */
export function traceHeaders(traceId?: string, into: MsgHdrs = natsHeaders()): MsgHdrs {
  into.set(TRACE_ID_HEADER, traceId !== undefined && isTraceId(traceId) ? traceId : newTraceId());
  return into;
}

/** The trace id a message carries, or undefined when it has none (or a malformed one). */
export function traceIdOf(msg: { headers?: MsgHdrs | undefined }): string | undefined {
  const value = msg.headers?.get(TRACE_ID_HEADER);
  return value !== undefined && isTraceId(value) ? value : undefined;
}
