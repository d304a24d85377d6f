/**
 * Realtime subscriptions for programmatic clients, and realtime views of the bus:
 * - POST /api/v1/realtime/subscribe -> {id, ws_url}: stored in `realtime_subscriptions`, so any
 *   gateway process can serve it; GET /api/v1/realtime/subscriptions/{id}; DELETE
 *   /api/v1/realtime/subscribe/{id} (the owner or an admin). Writes need a reader token.
 * - WebSocket /api/v1/realtime/ws/{id}: exactly that subscription's symbols and channels, at its
 *   update frequency (client-session.ts); the id is the capability. A deletion ends the open
 *   streams of the subscription in every gateway process (a bus broadcast).
 * - GET /api/v1/realtime/symbols/active: symbols with a bus event in the last 5 minutes.
 * - GET /api/v1/realtime/depth/{symbol}: top of book from the latest-price cache. TwelveData
 *   gives bid and ask only, so there are no sizes and no deeper levels.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static, type TSchema } from 'typebox';
import type { WebSocket } from 'ws';
import { cachedLatestPrice, CHANNELS } from '../../bus/index.ts';
import { toIsoUtc } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import {
  createRealtimeSubscription,
  deleteRealtimeSubscription,
  getRealtimeSubscription,
  type RealtimeSubscription,
  type UpdateFrequency,
} from '../../store/subscriptions-repo.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS, ErrorBody } from '../http-errors.ts';
import { SymbolString } from '../market-inputs.ts';
import { servedSymbol } from '../request-inputs.ts';
import { openConnection, resolveSymbols } from '../ws/connection.ts';
import { gatewayHub } from '../ws/fanout.ts';
import { ChannelName } from '../../contracts/ws-protocol.ts';
import { errorPayload } from '../ws/protocol.ts';

const PREFIX = '/api/v1/realtime';
/** A symbol is active when its latest bus event is at most this old (one bar). */
export const ACTIVE_WINDOW_MS = 5 * 60_000;
/** Bus broadcast topic: a subscription was deleted; every gateway ends its streams. */
export const SUBSCRIPTION_DELETED_TOPIC = 'realtime.subscription_deleted';
const NORMAL_CLOSURE = 1000;

const Frequency = Type.Union(
  [Type.Literal('tick'), Type.Literal('1s'), Type.Literal('5s'), Type.Literal('bar')],
  { description: 'tick = every event; 1s/5s = market_data and forming bars conflated to one per period; bar = final bars (no market_data)' },
);
const Nullable = <T extends TSchema>(schema: T, description?: string) => Type.Union([schema, Type.Null()], description === undefined ? {} : { description });
const SubscriptionId = Type.String({ pattern: '^rs_[0-9a-f]{24}$', description: 'Subscription id (rs_...)' });

const SubscribeBody = Type.Object(
  {
    symbols: Type.Array(SymbolString, { minItems: 1, maxItems: 50 }),
    channels: Type.Optional(Type.Array(ChannelName, { minItems: 1, maxItems: CHANNELS.length, description: 'Default: every channel' })),
    update_frequency: Type.Optional(
      Type.Union([Frequency, Type.Number({ description: 'In seconds, as the original system sent it: 1 = 1s, 5 = 5s' })]),
    ),
  },
  { additionalProperties: false },
);

/** The original system's update_frequency in seconds -> the frequency with that period. */
const FREQUENCY_OF_SECONDS: ReadonlyMap<number, UpdateFrequency> = new Map([
  [1, '1s'],
  [5, '5s'],
]);

function updateFrequency(value: UpdateFrequency | number | undefined): UpdateFrequency {
  if (value === undefined) return 'tick';
  if (typeof value === 'string') return value;
  const named = FREQUENCY_OF_SECONDS.get(value);
  if (named === undefined) {
    throw new TasaError('bad_argument', `update_frequency ${value} s is not offered; in seconds use 1 or 5, or name one of tick, 1s, 5s, bar.`, {
      input: `update_frequency=${value}`,
    });
  }
  return named;
}

const SubscriptionBody = Type.Object(
  {
    id: Type.String(),
    ws_url: Type.String({ description: 'Connect here (WebSocket) to receive the stream; add ?token= when the server requires tokens for reads' }),
    symbols: Type.Array(Type.String()),
    channels: Type.Array(Type.String()),
    update_frequency: Frequency,
    owner: Nullable(Type.String(), 'Principal id of the creator'),
    created_at: Type.String({ description: 'UTC, ISO 8601 with Z' }),
  },
  { description: 'A realtime subscription' },
);

const ActiveBody = Type.Object({
  as_of: Type.String(),
  window_seconds: Type.Integer(),
  active: Type.Array(Type.String(), { description: 'Symbols with a bus event within window_seconds' }),
  symbols: Type.Array(
    Type.Object({
      symbol: Type.String(),
      last_seq: Type.Integer({ description: 'Seq of the latest bus event; 0 when none' }),
      last_event_at: Nullable(Type.String(), 'Publish time of the latest bus event'),
      last_event_channel: Nullable(Type.String()),
      latest_price_at: Nullable(Type.String(), 'Receive time of the cached latest price'),
      age_seconds: Nullable(Type.Number(), 'Age of the newer of the two; null when there is neither'),
      active: Type.Boolean(),
    }),
  ),
});

const DepthBody = Type.Object({
  symbol: Type.String(),
  timestamp: Type.String({ description: 'Exchange time of the quote' }),
  received_at: Type.String(),
  bid: Nullable(Type.Number()),
  ask: Nullable(Type.Number()),
  spread: Nullable(Type.Number()),
  levels: Type.Literal(1),
  description: Type.String(),
});

const DEPTH_DESCRIPTION = 'Top of book only: TwelveData streams the best bid and ask, without sizes and without deeper levels, so no order book is available.';

export const realtimeRoutes: FastifyPluginAsyncTypebox<ServerDeps> = async (app, deps) => {
  const hub = gatewayHub(app, deps);
  const streams = new Map<string, Set<WebSocket>>();
  const stopListening = await deps.bus.onBroadcast(SUBSCRIPTION_DELETED_TOPIC, (data) => endStreams(streams, data));
  app.addHook('onClose', () => stopListening());

  app.post(
    `${PREFIX}/subscribe`,
    {
      preHandler: app.requireRole('reader'),
      schema: {
        tags: ['realtime'],
        summary: 'Create a realtime subscription',
        description: 'Stores the symbols, channels and update frequency; connect to the returned ws_url to receive them. Needs a reader token.',
        security: [{ apiKey: [] }, { bearer: [] }],
        body: SubscribeBody,
        response: { 201: SubscriptionBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      const symbols = request.body.symbols.map((s) => servedSymbol(deps.symbols, s));
      const created = await createRealtimeSubscription(deps.db, {
        symbols: [...new Set(symbols)],
        channels: [...new Set(request.body.channels ?? CHANNELS)],
        updateFrequency: updateFrequency(request.body.update_frequency),
        owner: request.principal?.id ?? null,
        at: deps.clock.now(),
      });
      return reply.status(201).send(subscriptionBody(created, request));
    },
  );

  app.get(
    `${PREFIX}/subscriptions/:id`,
    {
      schema: {
        tags: ['realtime'],
        summary: 'A realtime subscription',
        params: Type.Object({ id: SubscriptionId }),
        response: { 200: SubscriptionBody, 404: ErrorBody, ...COMMON_ERRORS },
      },
    },
    async (request) => subscriptionBody(await activeSubscription(deps, request.params.id), request),
  );

  app.delete(
    `${PREFIX}/subscribe/:id`,
    {
      preHandler: app.requireRole('reader'),
      schema: {
        tags: ['realtime'],
        summary: 'Delete a realtime subscription',
        description: 'The owner or an admin may delete it; its open streams end (in every gateway process). Needs a reader token.',
        security: [{ apiKey: [] }, { bearer: [] }],
        params: Type.Object({ id: SubscriptionId }),
        response: { 200: Type.Object({ id: Type.String(), deleted: Type.Literal(true) }), 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      const sub = await activeSubscription(deps, request.params.id);
      const principal = request.principal;
      if (sub.owner !== null && principal?.id !== sub.owner && principal?.role !== 'admin') {
        return reply.status(403).send({ error: { code: 'forbidden', message: `Subscription ${sub.id} belongs to another client; only its owner or an admin may delete it.` } });
      }
      if (!(await deleteRealtimeSubscription(deps.db, sub.id, deps.clock.now()))) throw notFound(sub.id);
      endStreams(streams, { id: sub.id });
      await deps.bus.broadcast(SUBSCRIPTION_DELETED_TOPIC, { id: sub.id }).catch((err: unknown) => request.log.warn({ err }, 'could not tell other gateways of a deleted subscription'));
      return { id: sub.id, deleted: true as const };
    },
  );

  app.get(
    `${PREFIX}/symbols/active`,
    {
      schema: {
        tags: ['realtime'],
        summary: 'Symbols with recent events',
        description: `A symbol is active when its latest bus event is at most ${ACTIVE_WINDOW_MS / 1000} s old (from the bus's last seq and the latest-price cache).`,
        response: { 200: ActiveBody, ...COMMON_ERRORS },
      },
    },
    async () => activeSymbols(deps),
  );

  app.get(
    `${PREFIX}/depth/:symbol`,
    {
      schema: {
        tags: ['realtime'],
        summary: 'Top of book (bid/ask only)',
        description: DEPTH_DESCRIPTION,
        params: Type.Object({ symbol: SymbolString }),
        response: { 200: DepthBody, 404: ErrorBody, ...COMMON_ERRORS },
      },
    },
    async (request) => {
      const symbol = servedSymbol(deps.symbols, request.params.symbol);
      const latest = await cachedLatestPrice(deps.bus, symbol);
      if (latest === null) {
        throw new TasaError('not_found', `No latest quote of ${symbol} in the cache.`, { input: `symbol=${symbol}`, hint: 'Quotes appear once ingestion receives ticks.' });
      }
      return {
        symbol,
        timestamp: latest.timestamp,
        received_at: latest.receivedAt,
        bid: latest.bid,
        ask: latest.ask,
        spread: latest.spread,
        levels: 1 as const,
        description: DEPTH_DESCRIPTION,
      };
    },
  );

  app.get(
    `${PREFIX}/ws/:id`,
    {
      websocket: true,
      schema: {
        tags: ['realtime'],
        summary: "WebSocket stream of one realtime subscription",
        params: Type.Object({ id: SubscriptionId }),
        querystring: Type.Object({
          since: Type.Optional(Type.Integer({ minimum: 0, description: 'Replay after this seq first (subscriptions of one symbol only)' })),
          token: Type.Optional(Type.String()),
        }),
      },
      // Before the upgrade, so that an unknown or deleted subscription is a plain 404.
      preValidation: async (request) => {
        const sub = await activeSubscription(deps, request.params.id);
        if (request.query.since !== undefined && sub.symbols.length > 1) {
          throw new TasaError('bad_argument', 'since needs a subscription of exactly one symbol: sequence numbers are per symbol.', { input: `since=${request.query.since}` });
        }
        loaded.set(request, sub);
      },
    },
    async (socket, request) => {
      const sub = loaded.get(request) ?? (await activeSubscription(deps, request.params.id));
      const session = openConnection(socket, request, { hub, deps, frequency: sub.updateFrequency, fixed: true });
      track(streams, sub.id, socket);
      const symbols = resolveSymbols(sub.symbols, deps.symbols);
      if (typeof symbols === 'string') return session.error('bad_symbol', symbols);
      const channels = CHANNELS.filter((c) => sub.channels.includes(c));
      await session.subscribe(symbols, channels, request.query.since);
    },
  );
};

const loaded = new WeakMap<FastifyRequest, RealtimeSubscription>();

function subscriptionBody(sub: RealtimeSubscription, request: FastifyRequest): Static<typeof SubscriptionBody> {
  const scheme = request.protocol === 'https' ? 'wss' : 'ws';
  return {
    id: sub.id,
    ws_url: `${scheme}://${request.host}${PREFIX}/ws/${sub.id}`,
    symbols: sub.symbols,
    channels: sub.channels,
    update_frequency: sub.updateFrequency,
    owner: sub.owner,
    created_at: toIsoUtc(sub.createdAt),
  };
}

async function activeSubscription(deps: ServerDeps, id: string): Promise<RealtimeSubscription> {
  const sub = await getRealtimeSubscription(deps.db, id);
  if (sub === null || sub.deletedAt !== null) throw notFound(id);
  return sub;
}

function notFound(id: string): TasaError {
  return new TasaError('not_found', `No realtime subscription ${id} (never created, or deleted).`, { input: id });
}

function track(streams: Map<string, Set<WebSocket>>, id: string, ws: WebSocket): void {
  const set = streams.get(id) ?? new Set<WebSocket>();
  streams.set(id, set.add(ws));
  ws.on('close', () => {
    set.delete(ws);
    if (set.size === 0 && streams.get(id) === set) streams.delete(id);
  });
}

function endStreams(streams: Map<string, Set<WebSocket>>, data: unknown): void {
  const id = typeof data === 'object' && data !== null ? (data as { id?: unknown }).id : undefined;
  if (typeof id !== 'string') return;
  for (const ws of streams.get(id) ?? []) {
    ws.send(errorPayload('subscription_deleted', `Realtime subscription ${id} was deleted; this stream ends.`));
    ws.close(NORMAL_CLOSURE, 'subscription deleted');
  }
  streams.delete(id);
}

async function activeSymbols(deps: ServerDeps): Promise<Static<typeof ActiveBody>> {
  const now = deps.clock.now();
  const symbols = await Promise.all(deps.symbols.map((symbol) => symbolActivity(deps, symbol, now)));
  return {
    as_of: toIsoUtc(now),
    window_seconds: ACTIVE_WINDOW_MS / 1000,
    active: symbols.filter((s) => s.active).map((s) => s.symbol),
    symbols,
  };
}

async function symbolActivity(deps: ServerDeps, symbol: string, now: number) {
  const [lastSeq, latest] = await Promise.all([deps.bus.lastSeq(symbol), cachedLatestPrice(deps.bus, symbol)]);
  const lastEvent = lastSeq > 0 ? ((await deps.bus.replay(symbol, lastSeq - 1, 1)).events[0] ?? null) : null;
  const priceAt = latest === null ? NaN : Date.parse(latest.receivedAt);
  const times = [lastEvent?.time ?? NaN, priceAt].filter((t) => Number.isFinite(t));
  const newest = times.length > 0 ? Math.max(...times) : null;
  const age = newest === null ? null : Math.max(0, now - newest) / 1000;
  return {
    symbol,
    last_seq: lastSeq,
    last_event_at: lastEvent ? toIsoUtc(lastEvent.time) : null,
    last_event_channel: lastEvent?.channel ?? null,
    latest_price_at: Number.isFinite(priceAt) ? toIsoUtc(priceAt) : null,
    age_seconds: age,
    active: age !== null && age * 1000 <= ACTIVE_WINDOW_MS,
  };
}
