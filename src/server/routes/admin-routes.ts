/** TODO(helper): routes. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServerDeps } from '../deps.ts';

export const adminRoutes: FastifyPluginAsyncTypebox<ServerDeps> = async (_app, _deps) => {};
