/**
 * The WebSocket protocol of the gateway, server side: the parser of client messages and the
 * encoders of server messages, on the schemas of contracts/ws-protocol.ts (which documents the
 * protocol). Data messages are encoded once per bus event (OutboundEvent) and the same bytes go
 * to every interested client.
 */
import { Compile } from 'typebox/compile';
import type { BusEvent, Channel, SeqGap } from '../../bus/index.ts';
import type { BarEvent } from '../../contracts/bus-messages.ts';
import type { Static } from 'typebox';
import {
  HeartbeatMessage,
  type MarketDataMessage,
  SubscribeMessage,
  UnsubscribeMessage,
  type BarData,
  type ClientMessage,
  type MarketStatusData,
  type ProtocolErrorCode,
  type ServerMessage,
  type TickMessageName,
} from '../../contracts/ws-protocol.ts';
import { BAR_MS } from '../../domain/bar.ts';
import type { Calendars, MarketCalendar } from '../../domain/calendar.ts';
import { toIsoUtc } from '../../domain/time.ts';

const CLIENT_VALIDATORS = {
  subscribe: Compile(SubscribeMessage),
  unsubscribe: Compile(UnsubscribeMessage),
  heartbeat: Compile(HeartbeatMessage),
} as const;

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

export type DataType = 'market_data' | 'bar' | 'market_status' | 'alert' | 'prediction' | 'order' | 'fill' | 'position' | 'gap';
const TYPE_OF_CHANNEL: Record<Channel, DataType> = {
  ticks: 'market_data',
  bars: 'bar',
  status: 'market_status',
  alerts: 'alert',
  predictions: 'prediction',
  orders: 'order',
  fills: 'fill',
  positions: 'position',
};

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
  calendar: Calendars;
  now: number;
}

export function encodeEvent(e: BusEvent, ctx: EncodeContext): OutboundEvent {
  const ev = encodeBody(e, ctx);
  return { ...ev, frame: textFrame(ev.payload) };
}

function encodeBody(e: BusEvent, ctx: EncodeContext): Omit<OutboundEvent, 'frame'> {
  const base = { type: TYPE_OF_CHANNEL[e.channel], channel: e.channel, symbol: e.symbol, seq: e.seq, time: e.time, key: null, final: false, barCloseAt: null };
  const head = { symbol: e.symbol, seq: e.seq, timestamp: toIsoUtc(e.time) };
  switch (e.channel) {
    case 'ticks': {
      const { price, bid, ask, spread, timestamp } = e.data;
      return { ...base, key: `md:${e.symbol}`, payload: json({ type: 'market_data', ...head, timestamp, data: { price, bid, ask, spread } }) };
    }
    case 'bars': {
      const data = barData(e.data);
      const closeAt = Date.parse(data.time) + BAR_MS;
      const withPrices = data.final && !data.empty && Number.isFinite(closeAt);
      return { ...base, key: `bar:${e.symbol}:${data.time}`, final: data.final, barCloseAt: withPrices ? closeAt : null, payload: json({ type: 'bar', ...head, data }) };
    }
    case 'status':
      return { ...base, payload: json({ type: 'market_status', ...head, data: { ...marketStatus(ctx.calendar.of(e.symbol), ctx.now), event: e.data } }) };
    case 'alerts':
      return { ...base, payload: json({ type: 'alert', ...head, data: e.data }) };
    case 'predictions':
      return { ...base, payload: json({ type: 'prediction', ...head, data: e.data }) };
    case 'orders':
      return { ...base, payload: json({ type: 'order', ...head, data: e.data }) };
    case 'fills':
      return { ...base, payload: json({ type: 'fill', ...head, data: e.data }) };
    case 'positions':
      return { ...base, payload: json({ type: 'position', ...head, data: e.data }) };
  }
}

/** Each tick's `ltp_update` encoding, made once for every client that asked for it. */
const ltpUpdates = new WeakMap<OutboundEvent, OutboundEvent>();

/** The event as the connection names tick messages: a market_data event as `ltp_update`, when asked. */
export function namedForClient(ev: OutboundEvent, tickMessage: TickMessageName): OutboundEvent {
  if (tickMessage === 'market_data' || ev.type !== 'market_data') return ev;
  let renamed = ltpUpdates.get(ev);
  if (renamed === undefined) {
    const message = JSON.parse(ev.payload.toString('utf8')) as Static<typeof MarketDataMessage>;
    const payload = json({ ...message, type: 'ltp_update' });
    renamed = { ...ev, payload, frame: textFrame(payload) };
    ltpUpdates.set(ev, renamed);
  }
  return renamed;
}

/** A gap, ordered like a data message at its last seq (`to`); never conflated. */
export function encodeGap(gap: SeqGap, refetch: string, now: number): OutboundEvent {
  const payload = json({ type: 'gap', symbol: gap.symbol, from: gap.from, to: gap.to, refetch });
  const time = gap.beforeTime ?? now;
  return { type: 'gap', channel: null, symbol: gap.symbol, seq: gap.to, time, key: null, final: false, barCloseAt: null, payload, frame: textFrame(payload) };
}

/** An empty slot has no prices; the dashboard keeps simulated bars apart from real history. */
function barData(d: BarEvent): BarData {
  if (d.empty === true) {
    return { time: d.time, open: null, high: null, low: null, close: null, revision: null, final: d.final, empty: true, partial: false, coverage: null, simulated: false };
  }
  const { time, open, high, low, close, revision, final } = d;
  return { time, open, high, low, close, revision, final, empty: false, partial: d.partial === true, coverage: d.coverage ?? null, simulated: d.source === 'simulator' };
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

/** One market's status; the message names its symbol. */
export function marketStatusPayload(calendar: MarketCalendar, now: number): Buffer {
  return json({ type: 'market_status', symbol: calendar.symbol, timestamp: toIsoUtc(now), data: marketStatus(calendar, now) });
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

function json(message: ServerMessage): Buffer {
  return Buffer.from(JSON.stringify(message));
}
