// GET /ws: the portals' live feed. The access token comes either with the upgrade (`?access_token=` or
// `Authorization: Bearer`; an invalid one is refused before the upgrade with 401 problem+json), or, so
// it stays out of URLs and access logs, as the first message: {"type":"auth","token":"...","lastEventId":"..."}
// within WS_AUTH_WAIT_MS (otherwise the socket is closed with 1008). The connection follows the
// principal's own channel and the accounts it may see (users.accounts); `lastEventId` resumes after the
// last event received. Messages, all JSON:
//   {type:'ready', id, channels}  first, with the cursor to resume from even if no event follows
//   {type:'gap', streams}         the cursor is older than what the streams retain: some events are gone
//   {type:'event', id, stream, seq, subject, channels, data}
import { Elysia, t } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import type { ServiceDeps } from '../../../shared/service.ts';
import { accountsOfUser } from '../auth/credentials.ts';
import { authenticate, bearerOf } from '../auth/guard.ts';
import { hasScope, type Principal } from '../auth/principal.ts';
import type { Gateway } from '../gateway.ts';
import { allowedChannels } from './channels.ts';
import { formatCursor, parseCursor } from './cursor.ts';
import { openFeed, type Feed } from './feed.ts';

/** Open sockets per process (authenticated or waiting for their auth message); each feed holds three ephemeral consumers. */
export const WS_CONNECTIONS_MAX = 1_000;
/** A client that lets this much pile up unread is disconnected (it resumes with its last id). */
export const WS_BUFFERED_BYTES_MAX = 4 * 1024 * 1024;
/** A socket opened without a token must authenticate with its first message within this time. */
export const WS_AUTH_WAIT_MS = 5_000;
/** Close codes: 1008 policy (token), 1011 server error, 1013 try again later (slow client, server full). */
const CLOSE_POLICY = 1008;
const CLOSE_TRY_AGAIN = 1013;

type RawSocket = { send(m: string): number; getBufferedAmount(): number; close(code: number, why: string): void };
type Slot = { state: 'awaiting-auth'; timer: ReturnType<typeof setTimeout> } | { state: 'opening' } | { state: 'closed' } | { state: 'live'; feed: Feed };

export function wsRoutes(deps: ServiceDeps, gw: Gateway) {
  const { clock, logger } = deps;
  const slots = new Map<string, Slot>();
  const tokenOf = (query: { access_token?: string | undefined }, authorization: string | undefined) => query.access_token ?? bearerOf(authorization);
  const closeRaw = (raw: RawSocket, code: number, why: string) => { try { raw.close(code, why); } catch { /* already closed */ } };

  /** Authenticated: open the feed from `lastEventId` and mark the slot live (unless the socket closed meanwhile). */
  async function start(id: string, raw: RawSocket, principal: Principal, lastEventId: string | undefined): Promise<void> {
    if (slots.get(id)?.state === 'closed') return void slots.delete(id); // closed while authenticating
    try {
      const accounts = principal.kind === 'user' ? await accountsOfUser(deps.sql, principal.sub) : [];
      const channels = allowedChannels({ kind: principal.kind, sub: principal.sub, admin: hasScope(principal, 'admin'), settlement: hasScope(principal, 'settlement:read') }, accounts);
      const feed = await openFeed({
        js: deps.js, jsm: deps.jsm, config: deps.config, channels, logger,
        from: lastEventId === undefined ? undefined : parseCursor(lastEventId),
        send: (message) => raw.send(message) > 0 && raw.getBufferedAmount() <= WS_BUFFERED_BYTES_MAX,
        onBroken: (why) => closeRaw(raw, CLOSE_TRY_AGAIN, why.slice(0, 120)),
        onStart: (startCursor, gaps) => {
          raw.send(JSON.stringify({ type: 'ready', id: formatCursor(startCursor), channels: [...channels] }));
          if (gaps.length > 0) raw.send(JSON.stringify({ type: 'gap', streams: gaps }));
        },
      });
      if (slots.get(id)?.state === 'closed') {
        slots.delete(id);
        return void (await feed.stop());
      }
      slots.set(id, { state: 'live', feed });
    } catch (err) {
      logger.error({ err }, 'could not open the event feed');
      slots.delete(id);
      closeRaw(raw, 1011, 'feed unavailable');
    }
  }

  return new Elysia({ name: 'gateway-ws' })
    .ws('/ws', {
      query: t.Object({ access_token: t.Optional(t.String({ maxLength: 4096 })), lastEventId: t.Optional(t.String({ maxLength: 64 })) }),
      detail: { tags: ['events'], summary: 'Live events (WebSocket): payment status, incoming payments, claims, liquidity alerts' },
      async beforeHandle({ query, headers }) {
        const token = tokenOf(query, headers.authorization);
        if (token !== undefined) await authenticate(gw, clock, token);
        if (query.lastEventId !== undefined && parseCursor(query.lastEventId) === undefined) {
          throw HttpProblem.of('InvalidRequest', 'lastEventId is not an event id of this feed', [{ field: 'lastEventId', rule: 'pattern' }]);
        }
        if (slots.size >= WS_CONNECTIONS_MAX) throw HttpProblem.of('ServiceUnavailable', 'too many live connections; retry later', undefined, { 'retry-after': '5' });
      },
      async open(ws) {
        const raw = ws.raw as unknown as RawSocket;
        const token = tokenOf(ws.data.query, ws.data.headers.authorization);
        if (token === undefined) {
          const timer = setTimeout(() => closeRaw(raw, CLOSE_POLICY, 'no auth message'), WS_AUTH_WAIT_MS);
          return void slots.set(ws.id, { state: 'awaiting-auth', timer });
        }
        slots.set(ws.id, { state: 'opening' });
        let principal: Principal;
        try {
          principal = await authenticate(gw, clock, token);
        } catch {
          slots.delete(ws.id);
          return closeRaw(raw, CLOSE_POLICY, 'token no longer valid');
        }
        await start(ws.id, raw, principal, ws.data.query.lastEventId);
      },
      async message(ws, message) {
        const slot = slots.get(ws.id);
        if (slot?.state !== 'awaiting-auth') return; // the feed is one-way; resume by reconnecting with lastEventId
        clearTimeout(slot.timer);
        slots.set(ws.id, { state: 'opening' });
        const raw = ws.raw as unknown as RawSocket;
        const m = (typeof message === 'string' ? safeJson(message) : message) as { type?: unknown; token?: unknown; lastEventId?: unknown } | undefined;
        const lastEventId = typeof m?.lastEventId === 'string' ? m.lastEventId : undefined;
        if (m?.type !== 'auth' || typeof m.token !== 'string' || (lastEventId !== undefined && parseCursor(lastEventId) === undefined)) {
          slots.delete(ws.id);
          return closeRaw(raw, CLOSE_POLICY, 'the first message must be {"type":"auth","token":...}');
        }
        let principal: Principal;
        try {
          principal = await authenticate(gw, clock, m.token);
        } catch {
          slots.delete(ws.id);
          return closeRaw(raw, CLOSE_POLICY, 'invalid token');
        }
        await start(ws.id, raw, principal, lastEventId);
      },
      async close(ws) {
        const slot = slots.get(ws.id);
        if (slot?.state === 'opening') return void slots.set(ws.id, { state: 'closed' }); // start() finishes the clean-up
        slots.delete(ws.id);
        if (slot?.state === 'awaiting-auth') clearTimeout(slot.timer);
        if (slot?.state === 'live') await slot.feed.stop();
      },
    });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
