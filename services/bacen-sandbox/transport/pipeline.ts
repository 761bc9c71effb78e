// Per request on the mTLS port, before and after the app: identify the caller from its certificate,
// read the body once (digest for the journal), apply the fault rules, hand over to the app, record.
import { createHash } from 'node:crypto';
import { problemOf, problemResponse } from '../../../shared/errors.ts';
import { ispbFromSubject } from '../../../shared/pki.ts';
import type { SandboxDeps } from '../deps.ts';
import { decideFault, type FaultDecision } from '../faults/fault.ts';
import { FAULT_HOLD_MS_MAX } from '../faults/model.ts';
import { bindExchange, type Caller } from './exchange.ts';
import type { ConnectionHandler, PeerConnection } from './mtls.ts';

export interface AppLike {
  handle(request: Request): Promise<Response> | Response;
}

type PipelineDeps = Pick<SandboxDeps, 'registry' | 'faults' | 'journal' | 'metrics' | 'clock' | 'random' | 'logger'>;

function callerOf(deps: PipelineDeps, connection: PeerConnection): Caller | { refused: string } {
  const { peer } = connection;
  const ispb = ispbFromSubject(peer.subject);
  if (!ispb) return { refused: 'the client certificate carries no ISPB (OU=ISPB-xxxxxxxx)' };
  const participant = deps.registry.byIspb(ispb);
  if (!participant) return { refused: `ISPB ${ispb} is not a participant known to the sandbox` };
  return { ispb, participant, ...peer };
}

/** Applies a fault; returns the response to send, or null when the request goes on to the app. */
async function applyFault(deps: PipelineDeps, decision: FaultDecision, connection: PeerConnection, path: string): Promise<Response | null> {
  if (decision.delayMs > 0) {
    deps.metrics.faultsInjected.inc({ kind: 'latency' });
    await Bun.sleep(decision.delayMs);
  }
  switch (decision.action) {
    case 'none':
      return null;
    case 'reset':
      deps.metrics.faultsInjected.inc({ kind: 'reset' });
      connection.reset();
      return new Response(null, { status: 500 }); // never reaches the client: its socket is gone
    case 'timeout': {
      deps.metrics.faultsInjected.inc({ kind: 'timeout' });
      // hold until the caller gives up (closes the connection), bounded so a forgotten rule frees sockets
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([connection.closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, FAULT_HOLD_MS_MAX)))]);
      clearTimeout(timer);
      connection.reset();
      return new Response(null, { status: 504 });
    }
    case 'error': {
      deps.metrics.faultsInjected.inc({ kind: 'error' });
      const status = decision.status ?? 503;
      return problemResponse({ ...problemOf('ServiceUnavailable', `fault injected by the sandbox (rule ${decision.ruleId})`), status, instance: path });
    }
  }
}

/** A path segment kept in the metrics' route label: a route word (`stream`, `v1`, `infraction-reports`) or
 *  an ISPB (bounded by the participants). Anything else is an id: a lease pointer, a PIX key, a tax id. */
const ROUTE_WORD_RE = /^(?:[a-z][a-z-]{0,23}[0-9]?|[0-9A-Z]{8})$/;

/**
 * The path as a bounded metric label: ids become `:id`. The raw path made every inbox poll (its lease
 * pointer) and every DICT lookup (its key: personal data) a new label set, which prom-client hashed and
 * kept forever.
 */
export function routeLabelOf(pathname: string): string {
  return pathname.split('/').map((s) => (s === '' || ROUTE_WORD_RE.test(s) ? s : ':id')).join('/');
}

export function createMtlsHandler(deps: PipelineDeps, app: AppLike): ConnectionHandler {
  return async (request, connection) => {
    const started = performance.now();
    const url = new URL(request.url);
    const body = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
    const bodyDigest = createHash('sha256').update(body).digest('base64');
    const caller = callerOf(deps, connection);
    const entry = {
      at: deps.clock.now().toISOString(),
      callerIspb: 'refused' in caller ? ispbFromSubject(connection.peer.subject) : caller.ispb,
      method: request.method,
      path: url.pathname,
      bodyDigest,
      bodyBytes: Buffer.byteLength(body),
    };
    const finish = (response: Response, fault?: string): Response => {
      const status = fault === 'reset' || fault === 'timeout' ? 0 : response.status;
      deps.journal.record({ ...entry, status, ...(fault ? { fault } : {}) });
      const route = routeLabelOf(url.pathname);
      deps.metrics.httpRequests.inc({ method: request.method, route, status });
      deps.metrics.httpDuration.observe({ method: request.method, route }, (performance.now() - started) / 1000);
      return response;
    };

    if ('refused' in caller) return finish(problemResponse({ ...problemOf('Forbidden', caller.refused), instance: url.pathname }));

    const decision = decideFault(deps.faults.list(), url.pathname, deps.random);
    const faulted = await applyFault(deps, decision, connection, url.pathname);
    if (faulted) return finish(faulted, decision.action);

    // a fresh Request carrying the body already read; the exchange travels with it to the app
    const forwarded = new Request(request.url, { method: request.method, headers: request.headers, ...(body !== '' ? { body } : {}) });
    bindExchange(forwarded, { caller, body, bodyDigest, receivedAt: deps.clock.now() });
    return finish(await app.handle(forwarded));
  };
}
