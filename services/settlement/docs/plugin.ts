// One OpenAPI document for the public API on :4003 (the only port the portals use), served as JSON at
// /docs/json with a reference page at /docs. Routes defined here (auth, ops, ws, settlement) are
// described from their schemas; the forwarded /dict/* and /spi/* come from the dict and spi services'
// own documents (docs/upstream.ts: fetched at start, refreshed, prefixed, with the gateway's scopes), or
// from the route table while an upstream has not served one.
import { openapi } from '@elysiajs/openapi';
import { Elysia } from 'elysia';
import { ROUTES } from '../routing/table.ts';
import { staticPaths, type MergedDocs, type UpstreamDocs } from './upstream.ts';

export const DOCS_PATH = '/docs';
export const DOCS_JSON_PATH = `${DOCS_PATH}/json`;

const STATIC: MergedDocs = { paths: { ...staticPaths(ROUTES, 'spi'), ...staticPaths(ROUTES, 'dict') }, schemas: {}, sources: { dict: 'static', spi: 'static' } };

interface OpenApiDoc { paths?: Record<string, unknown>; components?: { schemas?: Record<string, unknown> } & Record<string, unknown> }

/** The gateway's own document plus the forwarded paths; recomputed only when either changes. */
function merger(docs: UpstreamDocs | undefined) {
  let last: { local: unknown; forwarded: MergedDocs; doc: unknown } | undefined;
  return (local: OpenApiDoc) => {
    const forwarded = docs?.current() ?? STATIC;
    if (last?.local === local && last.forwarded === forwarded) return last.doc;
    const doc = {
      ...local,
      paths: { ...forwarded.paths, ...local.paths },
      components: { ...local.components, schemas: { ...forwarded.schemas, ...local.components?.schemas } },
    };
    last = { local, forwarded, doc };
    return doc;
  };
}

export function docsPlugin(docs?: UpstreamDocs) {
  const merge = merger(docs);
  return new Elysia()
    // registered before the spec route so it applies to it: the served JSON is the merged document
    .onAfterHandle({ as: 'global' }, ({ path, response }) => (path === DOCS_JSON_PATH && typeof response === 'object' && response !== null ? merge(response as OpenApiDoc) : undefined))
    .use(openapi({
      path: DOCS_PATH,
      documentation: {
        info: {
          title: 'FluxiQ PIX public API',
          version: '0.1.0',
          description: 'Gateway of the FluxiQ PIX platform: every portal and system calls this API. Errors are RFC 9457 problem+json.',
        },
        tags: [
          { name: 'auth', description: 'tokens and sessions' },
          { name: 'dict', description: 'PIX keys, claims, MED (forwarded to the dict service)' },
          { name: 'spi', description: 'payments, returns, charges (forwarded to the spi service)' },
          { name: 'events', description: 'live events over WebSocket' },
        ],
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
        security: [{ bearer: [] }],
      },
    }));
}
