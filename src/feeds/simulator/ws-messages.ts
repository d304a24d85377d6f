/**
 * The WebSocket message formats (research/twelvedata-protocol.md, section A): what clients send,
 * and the events the server sends back.
 */
import { FOREX_TYPE, FOREX_WS_EXCHANGE, type SimInstrument } from './instruments.ts';
import type { SimTick } from './tick-path.ts';

export type ClientMessage =
  | { action: 'subscribe' | 'unsubscribe'; symbols: string[] }
  | { action: 'reset' }
  | { action: 'heartbeat' }
  | { action: 'invalid'; replyEvent: string; messages: string[] };

/** Only `symbol` is used from the object form; `exchange`, `mic_code` and `type` are accepted and ignored. */
export function parseClientMessage(text: string): ClientMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return invalid('message-processing', 'Invalid JSON: the message could not be parsed.');
  }
  if (!isRecord(parsed) || typeof parsed['action'] !== 'string') {
    return invalid('message-processing', 'The message must be a JSON object with an "action" field.');
  }
  const action = parsed['action'];
  if (action === 'reset' || action === 'heartbeat') return { action };
  if (action !== 'subscribe' && action !== 'unsubscribe') {
    return invalid('message-processing', `Unknown action "${action}": expected subscribe, unsubscribe, reset or heartbeat.`);
  }
  const symbols = symbolsParam(parsed['params']);
  if (symbols === null || symbols.length === 0) {
    return invalid(`${action}-status`, 'params.symbols must be a comma-separated string or an array of objects with a "symbol" field.');
  }
  return { action, symbols };
}

function symbolsParam(params: unknown): string[] | null {
  if (!isRecord(params)) return null;
  const symbols = params['symbols'];
  if (typeof symbols === 'string') return symbols.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (!Array.isArray(symbols)) return null;
  const out: string[] = [];
  for (const item of symbols as unknown[]) {
    const symbol = typeof item === 'string' ? item : isRecord(item) ? item['symbol'] : undefined;
    if (typeof symbol !== 'string' || symbol.trim().length === 0) return null;
    out.push(symbol.trim());
  }
  return out;
}

function invalid(replyEvent: string, message: string): ClientMessage {
  return { action: 'invalid', replyEvent, messages: [message] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface SuccessEntry {
  symbol: string;
  exchange: string;
  country: string;
  type: string;
}

export function successEntry(instrument: SimInstrument): SuccessEntry {
  return { symbol: instrument.symbol, exchange: FOREX_WS_EXCHANGE, country: '', type: FOREX_TYPE };
}

/**
 * `subscribe-status` / `unsubscribe-status`: status "error" only when every symbol failed. The real
 * server writes `null` for an empty array; `nullArrays: false` gives the documented `[]`.
 */
export function statusEvent(
  event: 'subscribe-status' | 'unsubscribe-status',
  success: SuccessEntry[],
  fails: Array<{ symbol: string }>,
  nullArrays: boolean,
): string {
  const list = <T>(items: T[]): T[] | null => (items.length === 0 && nullArrays ? null : items);
  const status = success.length === 0 && fails.length > 0 ? 'error' : 'ok';
  return JSON.stringify({ event, status, success: list(success), fails: list(fails) });
}

export function errorEvent(event: string, messages: string[]): string {
  return JSON.stringify({ event, status: 'error', messages });
}

export const HEARTBEAT_REPLY = JSON.stringify({ event: 'heartbeat', status: 'ok' });
export const RESET_REPLY = JSON.stringify({ event: 'reset-status', status: 'ok' });

/** A forex price event; `timestamp` is the tick's exchange time floored to the second. */
export function priceEvent(instrument: SimInstrument, tick: SimTick): string {
  return JSON.stringify({
    event: 'price',
    symbol: instrument.symbol,
    currency_base: instrument.currencyBase,
    currency_quote: instrument.currencyQuote,
    type: FOREX_TYPE,
    timestamp: Math.floor(tick.time / 1000),
    price: tick.price,
    bid: tick.bid,
    ask: tick.ask,
  });
}
