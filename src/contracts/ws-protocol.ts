/**
 * The WebSocket protocol of the gateway (`/ws`, `/ws/{symbol}`, `/api/v1/realtime/ws/{id}`):
 * the schema of every message in both directions. The server parses and encodes with them
 * (server/ws/protocol.ts), the dashboard's client takes their types (web/live-socket.ts).
 *
 * Client -> server:
 *   {"action":"subscribe","symbols":["USD/COP"],"channels":["ticks","bars"],"since":42}
 *   {"action":"unsubscribe","symbols":["USD/COP"],"channels":["ticks"]}   (no channels = the whole symbol)
 *   {"action":"heartbeat"}
 * Server -> client: market_data (ltp_update when the handshake asks `?tick_message=ltp_update`), bar, market_status, alert, prediction, order, fill, position
 * (data, each with the symbol's bus seq: the trading channels share the symbol's stream, so they
 * resume with `since` and report gaps like market data), gap, heartbeat, subscribed, unsubscribed, error.
 *
 * `gap` {symbol, from, to, refetch}: the symbol's seqs from..to cannot be delivered (lost with a
 * Redis that restarted empty, trimmed before the gateway read them, refused by a publisher's full
 * buffer, or dropped for a slow client); `refetch` is the REST URL of the bars of that period.
 * It comes in seq order with the data messages; a client never sees a jump it is not told of
 * (other than the seqs of channels it did not subscribe to, and conflated updates).
 *
 * `timestamp`: the exchange time of the tick for market_data, the bus publish time for the other
 * data messages, the send time for heartbeats and connect-time market_status.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { AlertMessage, CHANNELS, LifecycleStatus, PredictionMessage, type Channel } from './bus-messages.ts';
import { FillMessage, OrderUpdate, PositionMessage } from './trading-messages.ts';

// ---- client -> server ----

// Spelled out (not mapped from CHANNELS) so that the static type is the union of the names.
export const ChannelName = Type.Union(
  [
    Type.Literal('ticks'),
    Type.Literal('bars'),
    Type.Literal('status'),
    Type.Literal('alerts'),
    Type.Literal('predictions'),
    Type.Literal('orders'),
    Type.Literal('fills'),
    Type.Literal('positions'),
  ],
  {
    description:
      'ticks (market_data), bars (bar), status (market_status), alerts (alert), predictions (prediction), orders (order), fills (fill), positions (position)',
  },
);
/** Fails to compile when ChannelName and the bus's CHANNELS disagree. */
const _channelsMatch: [Static<typeof ChannelName>] extends [Channel] ? ([Channel] extends [Static<typeof ChannelName>] ? true : never) : never = true;
const Symbols = Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { minItems: 1, maxItems: 50, description: 'USD/COP, USDCOP or USD%2FCOP' });

export const SubscribeMessage = Type.Object(
  {
    action: Type.Literal('subscribe'),
    symbols: Symbols,
    channels: Type.Optional(Type.Array(ChannelName, { minItems: 1, maxItems: CHANNELS.length, description: 'Default: every channel' })),
    since: Type.Optional(Type.Integer({ minimum: 0, description: 'Replay the events after this seq first (one symbol only), then live' })),
  },
  { additionalProperties: false },
);
export const UnsubscribeMessage = Type.Object(
  {
    action: Type.Literal('unsubscribe'),
    symbols: Symbols,
    channels: Type.Optional(Type.Array(ChannelName, { minItems: 1, maxItems: CHANNELS.length, description: 'Default: the whole symbol' })),
  },
  { additionalProperties: false },
);
export const HeartbeatMessage = Type.Object({ action: Type.Literal('heartbeat') }, { additionalProperties: false });

export type SubscribeMessage = Static<typeof SubscribeMessage>;
export type UnsubscribeMessage = Static<typeof UnsubscribeMessage>;
export type ClientMessage = SubscribeMessage | UnsubscribeMessage | Static<typeof HeartbeatMessage>;

// ---- server -> client ----

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Seq = Type.Integer({ minimum: 1, description: "The symbol's bus sequence number (shared by every gateway process)" });
const Iso = Type.String({ description: 'UTC ISO 8601 with Z' });
const dataMessage = <T extends string, D extends TSchema>(type: T, data: D) =>
  Type.Object({ type: Type.Literal(type), symbol: Type.String(), seq: Seq, timestamp: Iso, data });
/**
 * A bus message the gateway forwards as it is: typed by its bus contract, but not checked again
 * on the way out (only what comes from Redis is checked: bus/redis/codec.ts).
 */
const forwarded = <T extends TSchema>(message: T, what: string) => Type.Unsafe<Static<T>>(Type.Unknown({ description: `The bus ${what} message, as published` }));

export const MarketStatusData = Type.Object({
  market_open: Type.Boolean(),
  /** The market's date (its own calendar) of the session open now, or of the next one. */
  session_date: Type.String(),
  next_open: Iso,
  next_close: Iso,
  event: Type.Optional(forwarded(LifecycleStatus, 'status (ingest lifecycle; status channel only)')),
});
export type MarketStatusData = Static<typeof MarketStatusData>;

export const QuoteData = Type.Object({ price: Nullable(Type.Number()), bid: Nullable(Type.Number()), ask: Nullable(Type.Number()), spread: Nullable(Type.Number()) });
export type QuoteData = Static<typeof QuoteData>;

export const BarData = Type.Object({
  time: Iso,
  open: Nullable(Type.Number()),
  high: Nullable(Type.Number()),
  low: Nullable(Type.Number()),
  close: Nullable(Type.Number()),
  revision: Nullable(Type.Integer()),
  /** false while the bar is forming (one update per tick); true when closed or revised. */
  final: Type.Boolean(),
  empty: Type.Boolean({ description: 'A slot without ticks: no prices (never forward-filled)' }),
  partial: Type.Boolean({ description: 'The feed covered only `coverage` of the slot, so the bar may miss ticks (repaired later)' }),
  coverage: Nullable(Type.Number()),
  simulated: Type.Boolean({ description: "The built-in simulator's bar (source simulator), not market data: never joined with real history" }),
});
export type BarData = Static<typeof BarData>;

export const MarketDataMessage = dataMessage('market_data', QuoteData);
/** `market_data` under the original system's name, for its clients (asked for with `tick_message=ltp_update`). */
export const LtpUpdateMessage = dataMessage('ltp_update', QuoteData);
export const TickMessageName = Type.Union([Type.Literal('market_data'), Type.Literal('ltp_update')], {
  description: "The type of tick messages on this connection: market_data (default), or ltp_update, the original system's name",
});
export type TickMessageName = Static<typeof TickMessageName>;
export const BarMessage = dataMessage('bar', BarData);
export const AlertDataMessage = dataMessage('alert', forwarded(AlertMessage, 'alerts'));
export const PredictionDataMessage = dataMessage('prediction', forwarded(PredictionMessage, 'predictions'));
export const OrderDataMessage = dataMessage('order', forwarded(OrderUpdate, 'orders'));
export const FillDataMessage = dataMessage('fill', forwarded(FillMessage, 'fills'));
export const PositionDataMessage = dataMessage('position', forwarded(PositionMessage, 'positions'));
export const MarketStatusMessage = Type.Object({
  type: Type.Literal('market_status'),
  symbol: Type.Optional(Type.String()),
  seq: Type.Optional(Seq),
  timestamp: Iso,
  data: MarketStatusData,
});
export const HeartbeatReply = Type.Object({ type: Type.Literal('heartbeat'), timestamp: Iso });
export const SubscribedMessage = Type.Object({
  type: Type.Literal('subscribed'),
  symbols: Type.Array(Type.String()),
  channels: Type.Array(ChannelName),
  since: Type.Optional(Type.Integer()),
});
export const UnsubscribedMessage = Type.Object({ type: Type.Literal('unsubscribed'), symbols: Type.Array(Type.String()), channels: Type.Array(ChannelName) });

export type ProtocolErrorCode =
  | 'bad_json'
  | 'bad_message'
  | 'unknown_action'
  | 'bad_symbol'
  | 'fixed_subscription'
  | 'replay_unavailable'
  | 'slow_consumer'
  | 'unavailable'
  | 'too_many_errors'
  | 'subscription_deleted';

export const ErrorMessage = Type.Object({
  type: Type.Literal('error'),
  code: Type.String({ description: 'A ProtocolErrorCode' }),
  message: Type.String(),
  symbol: Type.Optional(Type.String()),
  /** slow_consumer: subscribe again with this `since` to get what was dropped. */
  resume_since: Type.Optional(Type.Integer({ minimum: 0 })),
  /** replay_unavailable: where to refetch the history over REST. */
  refetch: Type.Optional(Type.String()),
});
export const GapMessage = Type.Object({
  type: Type.Literal('gap'),
  symbol: Type.String(),
  from: Seq,
  to: Seq,
  /** The bars of the missed period over REST. */
  refetch: Type.String(),
});
export const ServerMessage = Type.Union([
  GapMessage,
  MarketDataMessage,
  LtpUpdateMessage,
  BarMessage,
  AlertDataMessage,
  PredictionDataMessage,
  OrderDataMessage,
  FillDataMessage,
  PositionDataMessage,
  MarketStatusMessage,
  HeartbeatReply,
  SubscribedMessage,
  UnsubscribedMessage,
  ErrorMessage,
]);
export type ServerMessage = Static<typeof ServerMessage>;
