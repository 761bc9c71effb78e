// /keys: register, get, list by account, remove our customers' keys; /keys/confirmations starts the
// ownership proof of a PHONE/EMAIL key. HTTP only: schemas in, service call, view out.
import { Elysia, t } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import { startConfirmation } from '../confirmations/service.ts';
import type { Actor, DictDeps } from '../deps.ts';
import { AccountQuery, ConfirmationBody, EntryView, KeyParams, RegisterKeyBody, RemoveKeyBody } from './model.ts';
import type { KeyService } from './service.ts';
import { findKey, listAccountKeys } from './store.ts';
import { viewOfRow } from './view.ts';

/** X-Actor as the audit trail keeps it: audit_log.actor holds 1..200 characters (sql/0001_init.sql). */
export const ACTOR_LENGTH_MAX = 200;
/**
 * The X-Actor header of every route that writes, checked before the route runs: one the audit row cannot
 * hold was a 500 after DICT had already taken the change.
 */
export const ActorHeaders = t.Object({ 'x-actor': t.Optional(t.String({ minLength: 1, maxLength: ACTOR_LENGTH_MAX })) });

/** The gateway forwards the authenticated user as X-Actor; calls without it are the service's own. */
export function actorOf(headers: Record<string, string | undefined>): Actor {
  return { actor: headers['x-actor'] ?? 'dict-api', traceId: headers['x-trace-id'] };
}

export function keyRoutes(deps: DictDeps, keys: KeyService) {
  const { sql, config } = deps;
  return new Elysia({ prefix: '/keys', detail: { tags: ['keys'] } })
    .guard({ headers: ActorHeaders })
    .post('/confirmations', async ({ body, set }) => {
      const started = await startConfirmation(deps, body);
      if (!started.ok) throw HttpProblem.fromDomain(started.error);
      set.status = 201;
      return { id: started.value.id, expiresAt: started.value.expiresAt.toISOString() };
    }, {
      body: ConfirmationBody,
      response: { 201: t.Object({ id: t.String(), expiresAt: t.String() }) },
      detail: { summary: 'Send a confirmation code proving the user owns a PHONE or EMAIL key' },
    })
    .post('/', async ({ body, headers, set }) => {
      const created = await keys.register(body, actorOf(headers));
      if (!created.ok) throw HttpProblem.fromDomain(created.error);
      set.status = 201;
      return viewOfRow(created.value);
    }, { body: RegisterKeyBody, response: { 201: EntryView }, detail: { summary: 'Register a key in DICT for one of our accounts (EVP: DICT generates the key)' } })
    .get('/', async ({ query }) => {
      const rows = await listAccountKeys(sql, { participant: config.ispb, ...query });
      return { keys: rows.map(viewOfRow) };
    }, { query: AccountQuery, response: { 200: t.Object({ keys: t.Array(EntryView) }) }, detail: { summary: 'Keys of one of our accounts' } })
    .get('/:key', async ({ params }) => {
      const row = await findKey(sql, params.key);
      if (!row) throw HttpProblem.of('EntryNotFound', 'no such key registered with us');
      return viewOfRow(row);
    }, { params: KeyParams, response: { 200: EntryView }, detail: { summary: 'One of our keys' } })
    .delete('/:key', async ({ params, body, headers }) => {
      const removed = await keys.remove(params.key, body.reason, actorOf(headers));
      if (!removed.ok) throw HttpProblem.fromDomain(removed.error);
      return viewOfRow(removed.value);
    }, { params: KeyParams, body: RemoveKeyBody, response: { 200: EntryView }, detail: { summary: 'Remove one of our keys from DICT' } });
}
