/**
 * The WebSocket gateway: `/ws` (subscribe with messages) and `/ws/{symbol}` (subscribed to every
 * channel of the symbol at connect, `?since=` to resume). The protocol is in protocol.ts, the
 * slow-client policy in send-queue.ts, the one-bus-subscription-per-symbol fan-out in fanout.ts.
 * With TASA_AUTH=all the handshake needs a token (`?token=`, X-API-Key or Authorization), checked
 * by auth.ts before the upgrade.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ServerDeps } from '../deps.ts';
import { SymbolString } from '../market-inputs.ts';
import { servedSymbol } from '../request-inputs.ts';
import { TickMessageName } from '../../contracts/ws-protocol.ts';
import { openConnection } from './connection.ts';
import { gatewayHub } from './fanout.ts';

const Token = Type.Optional(Type.String({ description: 'API token, for clients that cannot set headers on the handshake (TASA_AUTH=all)' }));
const TickMessage = Type.Optional(TickMessageName);

export const gatewayRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  const hub = gatewayHub(app, deps);

  app.get(
    '/ws',
    {
      websocket: true,
      schema: {
        tags: ['realtime'],
        summary: 'WebSocket gateway: subscribe to symbols and channels with messages',
        querystring: Type.Object({ token: Token, tick_message: TickMessage }),
      },
    },
    (socket, request) => {
      openConnection(socket, request, { hub, deps, tickMessage: request.query.tick_message });
    },
  );

  app.get(
    '/ws/:symbol',
    {
      websocket: true,
      schema: {
        tags: ['realtime'],
        summary: 'WebSocket gateway subscribed to one symbol (every channel) at connect',
        params: Type.Object({ symbol: SymbolString }),
        querystring: Type.Object({
          since: Type.Optional(Type.Integer({ minimum: 0, description: 'Replay the events after this seq first, then live' })),
          token: Token,
          tick_message: TickMessage,
        }),
      },
      // Before the upgrade, so that an unknown symbol is a plain 404.
      preValidation: (request, _reply, done) => {
        servedSymbol(deps.symbols, request.params.symbol);
        done();
      },
    },
    async (socket, request) => {
      const session = openConnection(socket, request, { hub, deps, tickMessage: request.query.tick_message });
      await session.subscribe([servedSymbol(deps.symbols, request.params.symbol)], undefined, request.query.since);
    },
  );
  return Promise.resolve();
};
