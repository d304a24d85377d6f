/** TODO(helper): WebSocket gateway routes. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServerDeps } from '../deps.ts';

export const gatewayRoutes: FastifyPluginAsyncTypebox<ServerDeps> = async (_app, _deps) => {};
