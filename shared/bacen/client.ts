// The one way our services talk to BACEN (DICT and SPI): HTTP over mutual TLS with a pinned CA, a
// deadline on every call, bounded concurrency, errors as values, certificate renewal without restart, and
// the server's certificate checked against the CA's revocation list.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { ConfigError, type Config } from '../config.ts';
import { revocationProblem } from '../crl.ts';
import { PROBLEM_CONTENT_TYPE, type Problem } from '../errors.ts';
import type { Logger } from '../telemetry.ts';
import { classifyFetchError, type BacenError } from './classify.ts';
import { createLimiter } from './limiter.ts';
import { loadTlsMaterial, watchTlsMaterial, type TlsMaterial, type TlsPaths } from './material.ts';

/** Calls in flight at once. 64 is where MEASURED.md's mTLS keep-alive ceiling was taken; more
 *  connections only add handshakes, and BACEN throttles per participant anyway. */
export const BACEN_IN_FLIGHT_MAX = 64;
/** Calls waiting for a slot. Past this the caller gets `queue-full` at once (back-pressure). */
export const BACEN_QUEUED_MAX = 1024;
/** Fallback mtime check for renewed certificates, when fs.watch misses an event. */
export const BACEN_CERT_CHECK_MS = 5_000;
/** Keep idle connections this long (seconds): a reused connection skips the mTLS handshake. */
export const BACEN_IDLE_KEEPALIVE_S = 60;
/** A retired session's in-flight calls all end within the timeout; close its idle sockets after that. */
const RETIRED_SESSION_GRACE_MS_MIN = 1_000;

export interface BacenRequestOptions {
  /** XML document (already signed by the caller where BACEN requires it) */
  body?: string;
  headers?: Record<string, string>;
  /** ends the call early (for instance when the caller's own deadline passes) */
  signal?: AbortSignal;
}

export interface BacenResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type BacenResult = { ok: true; value: BacenResponse } | { ok: false; error: BacenError };

export interface BacenIdentity {
  ispb: string | null;
  subject: string;
  serialNumber: string;
  validTo: string;
  fingerprint256: string;
  /** the CRL the server's certificate is checked against, or null when none is configured */
  crl: { path: string; revoked: number; nextUpdate: string | null } | null;
}

export interface BacenClient {
  request(method: string, path: string, opts?: BacenRequestOptions): Promise<BacenResult>;
  /** The certificate the next request will present. */
  identity(): BacenIdentity;
  /** Checks the certificate files now instead of waiting for the watcher. */
  checkCertificates(): void;
  stats(): { inFlight: number; queued: number; reloads: number };
  close(): void;
}

export interface BacenClientOptions {
  baseUrl: string;
  timeoutMs: number;
  tls: TlsPaths;
  logger: Logger;
  inFlightMax?: number;
  queuedMax?: number;
  certCheckMs?: number;
}

/**
 * Our own certificate, the pinned CA and, when the file is there at start, the CA's CRL from the dev PKI
 * directory (var/pki by default).
 */
export function defaultTlsPaths(pkiDir: string, name = 'participant'): TlsPaths {
  const crl = join(pkiDir, 'ca.crl');
  return { cert: join(pkiDir, `${name}.crt`), key: join(pkiDir, `${name}.key`), ca: join(pkiDir, 'ca.crt'), ...(existsSync(crl) ? { crl } : {}) };
}

/** defaultTlsPaths with PKI_CRL, when set, as the CRL (which must then exist). */
export function tlsPathsFromConfig(config: Config, tls: TlsPaths = defaultTlsPaths(config.pkiDir)): TlsPaths {
  return config.pkiCrl === '' ? tls : { ...tls, crl: config.pkiCrl };
}

export function bacenClientFromConfig(config: Config, logger: Logger, tls: TlsPaths = defaultTlsPaths(config.pkiDir)): BacenClient {
  return createBacenClient({ baseUrl: config.bacenUrl, timeoutMs: config.bacenTimeoutMs, tls: tlsPathsFromConfig(config, tls), logger });
}

function identityOf(m: TlsMaterial): BacenIdentity {
  const crl = m.revocation && { path: m.revocation.path, revoked: m.revocation.revoked.size, nextUpdate: m.revocation.nextUpdate?.toISOString() ?? null };
  return { ispb: m.ispb, subject: m.subject, serialNumber: m.serialNumber, validTo: m.validTo, fingerprint256: m.fingerprint256, crl };
}

/**
 * Bun's fetch takes no CRL, but calls checkServerIdentity with the server's certificate during each new
 * connection's handshake; an error returned there fails the request (classified `tls`). A custom check
 * replaces the hostname check, so that one runs first.
 */
function serverCheck(m: TlsMaterial): ((host: string, cert: tls.PeerCertificate) => Error | undefined) | undefined {
  const list = m.revocation;
  if (list === null) return undefined;
  return (host, cert) => {
    const hostError = tls.checkServerIdentity(host, cert);
    if (hostError) return hostError;
    const problem = revocationProblem(list, cert.serialNumber, new Date());
    return problem === null ? undefined : Object.assign(new Error(`BACEN server certificate refused: ${problem.detail}`), { code: problem.code });
  };
}

// A FetchSession owns its keep-alive pool and never shares connections with another session, so a
// new session per certificate (or CRL) guarantees the new material is used on the next connection
// (reusing a pool keyed by host alone would keep sending requests over the old authenticated sockets).
function sessionFor(m: TlsMaterial): Bun.FetchSession {
  const checkServerIdentity = serverCheck(m);
  return new Bun.FetchSession({
    tls: { cert: m.cert, key: m.key, ca: m.ca, ...(checkServerIdentity ? { checkServerIdentity } : {}) },
    keepAlive: { idleTimeout: BACEN_IDLE_KEEPALIVE_S },
  });
}

function parseProblem(contentType: string, body: string): Problem | undefined {
  if (!contentType.startsWith(PROBLEM_CONTENT_TYPE)) return undefined;
  try {
    return JSON.parse(body) as Problem;
  } catch {
    return undefined;
  }
}

/** Throws if the initial certificate files are unusable: a misconfigured process must not start. */
export function createBacenClient(opts: BacenClientOptions): BacenClient {
  const { logger, timeoutMs } = opts;
  const base = opts.baseUrl.replace(/\/+$/, '');
  const first = loadTlsMaterial(opts.tls);
  if (!first.ok) throw new ConfigError(`BACEN client: ${first.error}`);
  let material = first.value;
  let session = sessionFor(material);
  let reloads = 0;
  const limiter = createLimiter(opts.inFlightMax ?? BACEN_IN_FLIGHT_MAX, opts.queuedMax ?? BACEN_QUEUED_MAX);
  const log = logger.child({ component: 'bacen-client' });
  log.info({ ...identityOf(material), baseUrl: base }, 'BACEN client certificate loaded');

  const watcher = watchTlsMaterial(opts.tls, {
    checkMs: opts.certCheckMs ?? BACEN_CERT_CHECK_MS,
    onChange(next) {
      const retired = session;
      const previous = identityOf(material);
      material = next;
      session = sessionFor(next);
      reloads++;
      retired.close();
      setTimeout(() => retired.close(), Math.max(timeoutMs, RETIRED_SESSION_GRACE_MS_MIN)).unref();
      log.info({ previous, current: identityOf(next) }, 'BACEN client certificate or CRL reloaded; new connections use it');
    },
    onError(detail) {
      log.warn({ detail, current: identityOf(material) }, 'BACEN client certificate or CRL files changed but are not usable; keeping the current ones');
    },
  });

  async function send(method: string, path: string, o: BacenRequestOptions, signal: AbortSignal, timeout: AbortSignal): Promise<BacenResult> {
    let response: Response;
    let body: string;
    try {
      response = await session.fetch(base + path, {
        method,
        headers: { ...(o.body !== undefined ? { 'content-type': 'application/xml; charset=utf-8' } : {}), accept: 'application/xml', ...o.headers },
        ...(o.body !== undefined ? { body: o.body } : {}),
        signal,
        redirect: 'manual',
      });
      body = await response.text();
    } catch (e) {
      return { ok: false, error: classifyFetchError(e, timeout.aborted) };
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((v, k) => (headers[k] = v));
    if (response.status >= 400) {
      const problem = parseProblem(headers['content-type'] ?? '', body);
      return {
        ok: false,
        error: { kind: 'http', status: response.status, detail: problem?.detail ?? `BACEN answered ${response.status}`, body, ...(problem ? { problem } : {}) },
      };
    }
    return { ok: true, value: { status: response.status, headers, body } };
  }

  return {
    async request(method, path, o = {}) {
      if (!path.startsWith('/')) throw new Error(`BACEN path must start with '/': ${path}`);
      // the deadline covers the wait for a slot too: the caller's budget is end to end
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = o.signal ? AbortSignal.any([timeout, o.signal]) : timeout;
      const slot = await limiter.acquire(signal);
      if (slot === 'queue-full') {
        return { ok: false, error: { kind: 'queue-full', detail: `BACEN client queue is full (${limiter.queued} waiting, ${limiter.inFlight} in flight)` } };
      }
      if (slot === 'aborted') return { ok: false, error: classifyFetchError(signal.reason, timeout.aborted) };
      try {
        return await send(method, path, o, signal, timeout);
      } finally {
        limiter.release();
      }
    },
    identity: () => identityOf(material),
    checkCertificates: () => watcher.check(),
    stats: () => ({ inFlight: limiter.inFlight, queued: limiter.queued, reloads }),
    close() {
      watcher.close();
      session.close();
    },
  };
}
