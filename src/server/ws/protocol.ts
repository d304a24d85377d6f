/**
 * The WebSocket protocol of the gateway (`/ws`, `/ws/{symbol}`, `/api/v1/realtime/ws/{id}`):
 * TypeBox schemas of every message in both directions, the parser of client messages and the
 * encoders of server messages. Data messages are encoded once per bus event (OutboundEvent) and
 * the same bytes go to every interested client.
 *
 * Client -> server:
 *   {"action":"subscribe","symbols":["USD/COP"],"channels":["ticks","bars"],"since":42}
 *   {"action":"unsubscribe","symbols":["USD/COP"],"channels":["ticks"]}   (no channels = the whole symbol)
 *   {"action":"heartbeat"}
 * Server -> client: market_data, bar, market_status, alert, prediction (data, each with the
 * symbol's bus seq), gap, heartbeat, subscribed, unsubscribed, error.
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
import { Compile } from 'typebox/compile';
import { CHANNELS, type BusEvent, type Channel, type SeqGap } from '../../bus/index.ts';
import { BAR_MS } from '../../domain/bar.ts';
import type { MarketCalendar } from '../../domain/calendar.ts';
import { toIsoUtc } from '../../domain/time.ts';

// ---- client -> server ----

// Spelled out (not mapped from CHANNELS) so that the static type is the union of the names.
export const ChannelName = Type.Union(
  [Type.Literal('ticks'), Type.Literal('bars'), Type.Literal('status'), Type.Literal('alerts'), Type.Literal('predictions')],
  { description: 'ticks (market_data), bars (bar), status (market_status), alerts (alert), predictions (prediction)' },
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

const CLIENT_VALIDATORS = {
  subscribe: Compile(SubscribeMessage),
  unsubscribe: Compile(UnsubscribeMessage),
  heartbeat: Compile(HeartbeatMessage),
} as const;

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

export interface ProtocolError {
  code: ProtocolErrorCode;
  message: string;
}

/** A client frame -> its message, or the error to send back (the connection stays open). */
export function parseClientMessage(raw: string): ClientMessage | ProtocolError {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { code: 'bad_json', message: 'The message is not valid JSON; send one JSON object per frame.' };
  }
  const action = typeof value === 'object' && value !== null ? (value as { action?: unknown }).action : undefined;
  if (typeof action !== 'string' || !Object.hasOwn(CLIENT_VALIDATORS, action)) {
    return { code: 'unknown_action', message: `Unknown action ${JSON.stringify(action ?? null)}; known actions: subscribe, unsubscribe, heartbeat.` };
  }
  const validator = CLIENT_VALIDATORS[action as keyof typeof CLIENT_VALIDATORS];
  if (validator.Check(value)) return value;
  const first = validator.Errors(value)[0];
  return { code: 'bad_message', message: `Invalid ${action} message at ${first?.instancePath || '/'}: ${first?.message ?? 'does not match the schema'}.` };
}

export function isProtocolError(m: ClientMessage | ProtocolError): m is ProtocolError {
  return 'code' in m;
}

// ---- server -> client ----

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Seq = Type.Integer({ minimum: 1, description: "The symbol's bus sequence number (shared by every gateway process)" });
const Iso = Type.String({ description: 'UTC ISO 8601 with Z' });
const dataMessage = <T extends string, D extends TSchema>(type: T, data: D) =>
  Type.Object({ type: Type.Literal(type), symbol: Type.String(), seq: Seq, timestamp: Iso, data });

export const MarketStatusData = Type.Object({
  market_open: Type.Boolean(),
  /** Bogota date of the session open now, or of the next one. */
  session_date: Type.String(),
  next_open: Iso,
  next_close: Iso,
  event: Type.Optional(Type.Unknown({ description: 'The status event from ingestion (status channel only)' })),
});
export type MarketStatusData = Static<typeof MarketStatusData>;

export const MarketDataMessage = dataMessage(
  'market_data',
  Type.Object({ price: Nullable(Type.Number()), bid: Nullable(Type.Number()), ask: Nullable(Type.Number()), spread: Nullable(Type.Number()) }),
);
export const BarMessage = dataMessage(
  'bar',
  Type.Object({
    time: Iso,
    open: Nullable(Type.Number()),
    high: Nullable(Type.Number()),
    low: Nullable(Type.Number()),
    close: Nullable(Type.Number()),
    revision: Nullable(Type.Integer()),
    final: Type.Boolean(),
    empty: Type.Boolean({ description: 'A slot without ticks: no prices (never forward-filled)' }),
    simulated: Type.Boolean({ description: "The built-in simulator's bar (source simulator), not market data: never joined with real history" }),
  }),
);
export const AlertMessage = dataMessage('alert', Type.Unknown());
export const PredictionMessage = dataMessage('prediction', Type.Unknown());
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
export const ErrorMessage = Type.Object({
  type: Type.Literal('error'),
  code: Type.String(),
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
  BarMessage,
  AlertMessage,
  PredictionMessage,
  MarketStatusMessage,
  HeartbeatReply,
  SubscribedMessage,
  UnsubscribedMessage,
  ErrorMessage,
]);
export type ServerMessage = Static<typeof ServerMessage>;

export type DataType = 'market_data' | 'bar' | 'market_status' | 'alert' | 'prediction' | 'gap';
const TYPE_OF_CHANNEL: Record<Channel, DataType> = { ticks: 'market_data', bars: 'bar', status: 'market_status', alerts: 'alert', predictions: 'prediction' };

/** A bus event encoded once for every client. */
export interface OutboundEvent {
  type: DataType;
  /** null for a gap, which concerns every channel of the symbol. */
  channel: Channel | null;
  symbol: string;
  seq: number;
  /** Publish time (epoch ms) of the event; for a gap, of the event after it. */
  time: number;
  /** Latest-wins key (market_data per symbol, each bar per open time); null = each one must be delivered. */
  key: string | null;
  /** A bar's final version (closed or revised), not a forming update. */
  final: boolean;
  /** Close time (epoch ms) of a final bar with prices, for tasa_bar_close_to_client_seconds. */
  barCloseAt: number | null;
  /** The JSON text. */
  payload: Buffer;
  /** The same text framed once as a WebSocket text frame (RFC 6455, unmasked), for every client. */
  frame: Buffer;
}

export interface EncodeContext {
  calendar: MarketCalendar;
  now: number;
}

export function encodeEvent(e: BusEvent, ctx: EncodeContext): OutboundEvent {
  const ev = encodeBody(e, ctx);
  return { ...ev, frame: textFrame(ev.payload) };
}

function encodeBody(e: BusEvent, ctx: EncodeContext): Omit<OutboundEvent, 'frame'> {
  const type = TYPE_OF_CHANNEL[e.channel];
  const base = { type, channel: e.channel, symbol: e.symbol, seq: e.seq, time: e.time, key: null, final: false, barCloseAt: null };
  const head = { type, symbol: e.symbol, seq: e.seq, timestamp: toIsoUtc(e.time) };
  switch (e.channel) {
    case 'ticks': {
      const d = record(e.data);
      const timestamp = typeof d['timestamp'] === 'string' ? d['timestamp'] : head.timestamp;
      const data = { price: num(d['price']), bid: num(d['bid']), ask: num(d['ask']), spread: num(d['spread']) };
      return { ...base, key: `md:${e.symbol}`, payload: json({ ...head, timestamp, data }) };
    }
    case 'bars': {
      const data = barData(record(e.data));
      const closeAt = Date.parse(data.time) + BAR_MS;
      const withPrices = data.final && !data.empty && Number.isFinite(closeAt);
      return { ...base, key: `bar:${e.symbol}:${data.time}`, final: data.final, barCloseAt: withPrices ? closeAt : null, payload: json({ ...head, data }) };
    }
    case 'status':
      return { ...base, payload: json({ ...head, data: { ...marketStatus(ctx.calendar, ctx.now), event: e.data } }) };
    default:
      return { ...base, payload: json({ ...head, data: e.data }) };
  }
}

/** A gap, ordered like a data message at its last seq (`to`); never conflated. */
export function encodeGap(gap: SeqGap, refetch: string, now: number): OutboundEvent {
  const payload = json({ type: 'gap', symbol: gap.symbol, from: gap.from, to: gap.to, refetch });
  const time = gap.beforeTime ?? now;
  return { type: 'gap', channel: null, symbol: gap.symbol, seq: gap.to, time, key: null, final: false, barCloseAt: null, payload, frame: textFrame(payload) };
}

function barData(d: Record<string, unknown>) {
  const empty = d['empty'] === true;
  return {
    time: typeof d['time'] === 'string' ? d['time'] : '',
    open: num(d['open']),
    high: num(d['high']),
    low: num(d['low']),
    close: num(d['close']),
    revision: num(d['revision']),
    final: d['final'] === true,
    empty,
    // Partial: the feed covered only `coverage` of the slot, so the bar may miss ticks (repaired later).
    partial: d['partial'] === true,
    coverage: num(d['coverage']),
    // The bus event names its source; the dashboard keeps simulated bars apart from real history.
    simulated: d['source'] === 'simulator',
  };
}

/** Open/closed now and the next open and close, from the market calendar. */
export function marketStatus(calendar: MarketCalendar, now: number): MarketStatusData {
  const current = calendar.sessionAt(now);
  if (current) {
    return { market_open: true, session_date: current.date, next_open: toIsoUtc(calendar.nextSession(current.close).open), next_close: toIsoUtc(current.close) };
  }
  const next = calendar.nextSession(now);
  return { market_open: false, session_date: next.date, next_open: toIsoUtc(next.open), next_close: toIsoUtc(next.close) };
}

export function marketStatusPayload(calendar: MarketCalendar, now: number): Buffer {
  return json({ type: 'market_status', timestamp: toIsoUtc(now), data: marketStatus(calendar, now) });
}

export function heartbeatPayload(now: number): Buffer {
  return json({ type: 'heartbeat', timestamp: toIsoUtc(now) });
}

export function errorPayload(code: ProtocolErrorCode, message: string, extra: { symbol?: string; resume_since?: number; refetch?: string } = {}): Buffer {
  return json({ type: 'error', code, message, ...extra });
}

export function ackPayload(type: 'subscribed' | 'unsubscribed', symbols: string[], channels: Channel[], since?: number): Buffer {
  return json({ type, symbols, channels, ...(since === undefined ? {} : { since }) });
}

/**
 * A complete unmasked text frame (FIN, opcode 1) around `payload`: built once per event, so that
 * sending it to a client is one socket write with no per-client framing.
 */
export function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const header = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + n);
  frame[0] = 0x81;
  if (header === 2) frame[1] = n;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(frame, header);
  return frame;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function record(x: unknown): Record<string, unknown> {
  return typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : {};
}

/** A finite number, else null: a missing value is reported as missing, never made up. */
function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}
