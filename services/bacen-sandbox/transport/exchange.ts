// What the transport learned about a request before the app sees it: who called (from the client
// certificate of the TLS connection) and the body as received. It travels with the Request object,
// never in a header, so a caller cannot claim another identity.
import { Elysia } from 'elysia';
import type { RegisteredParticipant } from '../participants/registry.ts';

export interface Caller {
  ispb: string;
  subject: string;
  serialNumber: string;
  fingerprint256: string;
  certificatePem: string;
  participant: RegisteredParticipant;
}

export interface Exchange {
  caller: Caller;
  body: string;
  /** base64 SHA-256 of `body` */
  bodyDigest: string;
  receivedAt: Date;
}

const exchanges = new WeakMap<Request, Exchange>();

export function bindExchange(request: Request, exchange: Exchange): Request {
  exchanges.set(request, exchange);
  return request;
}

/** Broken invariant if missing: every request reaching the app came through the mTLS transport. */
export function exchangeOf(request: Request): Exchange {
  const exchange = exchanges.get(request);
  if (!exchange) throw new Error('request reached the sandbox app without a bound exchange (not from the mTLS transport)');
  return exchange;
}

export const exchangePlugin = new Elysia({ name: 'sandbox-exchange' }).resolve({ as: 'global' }, ({ request }) => ({ exchange: exchangeOf(request) }));
