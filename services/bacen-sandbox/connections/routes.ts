// Control API: what happened at the TLS layer of the mTLS port.
import { Elysia } from 'elysia';
import type { ConnectionTracker } from './tracker.ts';

export const connectionRoutes = (connections: ConnectionTracker) =>
  new Elysia({ prefix: '/connections' }).get('/', () => connections.stats());
