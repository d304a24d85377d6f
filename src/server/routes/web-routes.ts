/**
 * The dashboard: the Vite build in dist/web served at `/` (hash routes, so only `/` and its
 * assets exist). `npm start` builds it first; without a build, `/` says how to make one.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServerDeps } from '../deps.ts';

export const DASHBOARD_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

export const webRoutes: FastifyPluginAsyncTypebox<ServerDeps> = async (app) => {
  if (existsSync(`${DASHBOARD_DIR}index.html`)) {
    await app.register(fastifyStatic, { root: DASHBOARD_DIR, wildcard: false, index: ['index.html'], maxAge: '1h', immutable: false });
    return;
  }
  app.get('/', { schema: { hide: true } }, (_request, reply) =>
    reply.status(503).type('text/plain').send('The dashboard is not built: run `npm run build:web` (npm start does it), then reload.\nThe API is up: see /docs.'),
  );
};
