/**
 * Parsing of WebSocket frames, price events first. Pure, and fast: the hot path (a price event,
 * a flat JSON object) is a single-pass scanner that only materialises the six fields it needs
 * (about 3x the speed of JSON.parse plus property reads). Anything the scanner does not handle
 * (escapes, nested values) goes through JSON.parse, with the same result. The scanner is strict:
 * what it accepts is valid JSON, so a truncated or garbled frame is reported, never half-read.
 *
 * A tick's `time` is the event's exchange `timestamp` (UNIX seconds) in ms, never the receive time,
 * which is kept apart in `receivedAt`.
 */
import type { Tick, TickSource } from '../../domain/tick.ts';
import { problem, type ProblemEvent, type TickEvent } from './feed-events.ts';

/** A parsed event other than `price` (subscribe-status, heartbeat, ...). */
export interface ServerMessage {
  type: 'message';
  event: string | null;
  body: Record<string, unknown>;
}

export type ParsedFrame = TickEvent | ProblemEvent | ServerMessage;

/** One price frame: its tick, or why it is not one (a non-price event is `unknown_event`). */
export function parsePriceFrame(text: string, receivedAt: number, source: TickSource = 'twelvedata_ws'): Tick | ProblemEvent {
  const result = scanFrame(text, receivedAt, source);
  return result === NOT_PRICE ? problem('unknown_event', `not a price event: ${excerpt(text)}`) : result;
}

/** Any frame: a tick, a problem, or another server event for the caller to dispatch. */
export function parseFrame(text: string, receivedAt: number, source: TickSource = 'twelvedata_ws'): ParsedFrame {
  const result = scanFrame(text, receivedAt, source);
  if (result === NOT_PRICE) return parseServerMessage(text);
  return isProblem(result) ? result : { type: 'tick', tick: result };
}

export function isProblem(value: Tick | ProblemEvent): value is ProblemEvent {
  return (value as Partial<ProblemEvent>).type === 'problem';
}

/** UNIX seconds outside these bounds are not a plausible exchange time (ms sent as seconds, zero, ...). */
const MIN_TIMESTAMP_S = 946_684_800; // 2000-01-01
const MAX_TIMESTAMP_S = 4_102_444_800; // 2100-01-01
const EXCERPT_CHARS = 120;

const NOT_PRICE = Object.freeze({ notPrice: true });
type ScanResult = Tick | ProblemEvent | typeof NOT_PRICE;

function scanFrame(text: string, receivedAt: number, source: TickSource): ScanResult {
  const status = scanFlatObject(text);
  if (status === FALLBACK) return fromJsonParse(text, receivedAt, source);
  if (status === MALFORMED) return problem('malformed_frame', `invalid JSON at character ${pos}: ${excerpt(text)}`);
  if (fEvent !== 'price') return NOT_PRICE;
  return buildTick(fSymbol, fTimestamp, fPrice, fBid, fAsk, receivedAt, source);
}

function fromJsonParse(text: string, receivedAt: number, source: TickSource): ScanResult {
  const body = parseObject(text);
  if (body === null) return problem('malformed_frame', `not a JSON object: ${excerpt(text)}`);
  if (body['event'] !== 'price') return NOT_PRICE;
  return buildTick(body['symbol'], body['timestamp'], body['price'], body['bid'], body['ask'], receivedAt, source);
}

function parseServerMessage(text: string): ServerMessage | ProblemEvent {
  const body = parseObject(text);
  if (body === null) return problem('malformed_frame', `not a JSON object: ${excerpt(text)}`);
  return { type: 'message', event: typeof body['event'] === 'string' ? body['event'] : null, body };
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function buildTick(symbol: unknown, timestamp: unknown, price: unknown, bid: unknown, ask: unknown, receivedAt: number, source: TickSource): Tick | ProblemEvent {
  if (typeof symbol !== 'string' || symbol === '') return problem('bad_price', `price event without a symbol (timestamp ${String(timestamp)})`);
  const seconds = toNumber(timestamp);
  if (!(seconds >= MIN_TIMESTAMP_S && seconds < MAX_TIMESTAMP_S)) {
    return problem('bad_timestamp', `${symbol}: timestamp ${JSON.stringify(timestamp) ?? 'missing'} is not UNIX seconds`);
  }
  const value = toNumber(price);
  if (!(value > 0 && value < Number.POSITIVE_INFINITY)) return problem('bad_price', `${symbol}: price ${JSON.stringify(price) ?? 'missing'} is not a positive number`);
  return { symbol, time: Math.round(seconds * 1000), price: value, bid: optionalNumber(bid), ask: optionalNumber(ask), receivedAt, source };
}

/** Prices are JSON numbers on the stream; numeric strings (the REST style) are accepted too. */
function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
}

function optionalNumber(value: unknown): number | null {
  const n = toNumber(value);
  return Number.isFinite(n) ? n : null;
}

function excerpt(text: string): string {
  return text.length <= EXCERPT_CHARS ? text : `${text.slice(0, EXCERPT_CHARS)}…`;
}

// ---------------------------------------------------------------------------------------------
// The flat-object scanner. Module-level state: it is synchronous and never re-entered.
// ---------------------------------------------------------------------------------------------

const OK = 0;
const MALFORMED = 1;
/** Valid-looking but outside the scanner's subset (escapes, nested values): use JSON.parse. */
const FALLBACK = 2;

const F_OTHER = 0;
const F_EVENT = 1;
const F_SYMBOL = 2;
const F_TIMESTAMP = 3;
const F_PRICE = 4;
const F_BID = 5;
const F_ASK = 6;

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const LOWER_E = 101;
const UPPER_E = 69;

/** Exact powers of ten: m / 10^k with m < 2^53 and k <= 22 is correctly rounded, like Number(text). */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
const MAX_EXACT_DIGITS = 15;

let src = '';
let pos = 0;
let end = 0;
let fEvent: unknown;
let fSymbol: unknown;
let fTimestamp: unknown;
let fPrice: unknown;
let fBid: unknown;
let fAsk: unknown;

function scanFlatObject(text: string): number {
  src = text;
  pos = 0;
  end = text.length;
  fEvent = fSymbol = fTimestamp = fPrice = fBid = fAsk = undefined;
  skipWhitespace();
  if (src.charCodeAt(pos) !== LBRACE) return MALFORMED;
  pos++;
  skipWhitespace();
  if (src.charCodeAt(pos) === RBRACE) return closeObject();
  for (;;) {
    const member = scanMember();
    if (member !== OK) return member;
    skipWhitespace();
    const c = src.charCodeAt(pos);
    if (c === COMMA) {
      pos++;
      skipWhitespace();
    } else if (c === RBRACE) {
      return closeObject();
    } else {
      return MALFORMED;
    }
  }
}

function closeObject(): number {
  pos++;
  skipWhitespace();
  return pos === end ? OK : MALFORMED;
}

/** `"key": value` */
function scanMember(): number {
  if (src.charCodeAt(pos) !== QUOTE) return MALFORMED;
  const keyStart = ++pos;
  const scanned = scanStringBody();
  if (scanned !== OK) return scanned;
  const field = fieldOf(keyStart, pos - keyStart);
  pos++;
  skipWhitespace();
  if (src.charCodeAt(pos) !== COLON) return MALFORMED;
  pos++;
  skipWhitespace();
  return scanValue(field);
}

/** Advances to the closing quote of a string whose opening quote is behind `pos`. */
function scanStringBody(): number {
  while (pos < end) {
    const c = src.charCodeAt(pos);
    if (c === QUOTE) return OK;
    if (c === BACKSLASH) return FALLBACK;
    if (c < 32) return MALFORMED;
    pos++;
  }
  return MALFORMED;
}

function fieldOf(start: number, length: number): number {
  switch (length) {
    case 5:
      if (src.startsWith('event', start)) return F_EVENT;
      if (src.startsWith('price', start)) return F_PRICE;
      return F_OTHER;
    case 6:
      return src.startsWith('symbol', start) ? F_SYMBOL : F_OTHER;
    case 9:
      return src.startsWith('timestamp', start) ? F_TIMESTAMP : F_OTHER;
    case 3:
      if (src.startsWith('bid', start)) return F_BID;
      if (src.startsWith('ask', start)) return F_ASK;
      return F_OTHER;
    default:
      return F_OTHER;
  }
}

function scanValue(field: number): number {
  const c = src.charCodeAt(pos);
  if (c === QUOTE) {
    const start = ++pos;
    const scanned = scanStringBody();
    if (scanned !== OK) return scanned;
    if (field !== F_OTHER) store(field, src.slice(start, pos));
    pos++;
    return OK;
  }
  if (c === MINUS || (c >= ZERO && c <= NINE)) {
    const n = scanNumber();
    if (Number.isNaN(n)) return MALFORMED;
    if (field !== F_OTHER) store(field, n);
    return OK;
  }
  if (c === LBRACE || c === LBRACKET) return FALLBACK;
  for (const [word, value] of LITERALS) {
    if (src.startsWith(word, pos)) {
      pos += word.length;
      if (field !== F_OTHER) store(field, value);
      return OK;
    }
  }
  return MALFORMED;
}

const LITERALS: ReadonlyArray<readonly [string, boolean | null]> = [
  ['true', true],
  ['false', false],
  ['null', null],
];

function store(field: number, value: unknown): void {
  switch (field) {
    case F_EVENT:
      fEvent = value;
      break;
    case F_SYMBOL:
      fSymbol = value;
      break;
    case F_TIMESTAMP:
      fTimestamp = value;
      break;
    case F_PRICE:
      fPrice = value;
      break;
    case F_BID:
      fBid = value;
      break;
    case F_ASK:
      fAsk = value;
  }
}

/** A JSON number (RFC 8259 grammar); NaN when the text is not one. */
function scanNumber(): number {
  const start = pos;
  const negative = src.charCodeAt(pos) === MINUS;
  if (negative) pos++;
  let mantissa = 0;
  let digits = 0;
  let c = src.charCodeAt(pos);
  if (c === ZERO) {
    pos++;
    digits = 1;
  } else if (c > ZERO && c <= NINE) {
    for (; c >= ZERO && c <= NINE; c = src.charCodeAt(++pos)) {
      mantissa = mantissa * 10 + (c - ZERO);
      digits++;
    }
  } else {
    return Number.NaN;
  }
  let decimals = 0;
  if (src.charCodeAt(pos) === DOT) {
    c = src.charCodeAt(++pos);
    if (!(c >= ZERO && c <= NINE)) return Number.NaN;
    for (; c >= ZERO && c <= NINE; c = src.charCodeAt(++pos)) {
      mantissa = mantissa * 10 + (c - ZERO);
      decimals++;
      digits++;
    }
  }
  c = src.charCodeAt(pos);
  if (c === LOWER_E || c === UPPER_E) return scanExponent(start);
  if (digits > MAX_EXACT_DIGITS) return Number(src.slice(start, pos));
  const value = decimals === 0 ? mantissa : mantissa / (POW10[decimals] as number);
  return negative ? -value : value;
}

function scanExponent(start: number): number {
  let c = src.charCodeAt(++pos);
  if (c === PLUS || c === MINUS) c = src.charCodeAt(++pos);
  if (!(c >= ZERO && c <= NINE)) return Number.NaN;
  while (c >= ZERO && c <= NINE) c = src.charCodeAt(++pos);
  return Number(src.slice(start, pos));
}

function skipWhitespace(): void {
  for (let c = src.charCodeAt(pos); c === 32 || c === 10 || c === 13 || c === 9; c = src.charCodeAt(++pos));
}
