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
  const status = scanner.scan(text);
  if (status === FALLBACK) return fromJsonParse(text, receivedAt, source);
  if (status === MALFORMED) return problem('malformed_frame', `invalid JSON at character ${scanner.pos}: ${excerpt(text)}`);
  const s = scanner;
  if (s.event !== 'price') return NOT_PRICE;
  return buildTick(s.symbol, s.timestamp, s.price, s.bid, s.ask, receivedAt, source);
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
// The flat-object scanner: one instance, reused (it is synchronous and never re-entered).
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
const LOWER_T = 116;
const LOWER_F = 102;
const LOWER_N = 110;

/** Exact powers of ten: m / 10^k with m < 2^53 and k <= 22 is correctly rounded, like Number(text). */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
const MAX_EXACT_DIGITS = 15;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

class FlatScanner {
  src = '';
  pos = 0;
  end = 0;
  event: unknown = undefined;
  symbol: unknown = undefined;
  timestamp: unknown = undefined;
  price: unknown = undefined;
  bid: unknown = undefined;
  ask: unknown = undefined;

  /** Reads a flat JSON object, keeping the six price fields; OK, MALFORMED or FALLBACK. */
  scan(text: string): number {
    this.src = text;
    this.pos = 0;
    this.end = text.length;
    this.event = this.symbol = this.timestamp = this.price = this.bid = this.ask = undefined;
    this.skipWhitespace();
    if (this.src.charCodeAt(this.pos) !== LBRACE) return MALFORMED;
    this.pos++;
    this.skipWhitespace();
    if (this.src.charCodeAt(this.pos) === RBRACE) return this.closeObject();
    for (;;) {
      const member = this.scanMember();
      if (member !== OK) return member;
      this.skipWhitespace();
      const c = this.src.charCodeAt(this.pos);
      if (c === RBRACE) return this.closeObject();
      if (c !== COMMA) return MALFORMED;
      this.pos++;
      this.skipWhitespace();
    }
  }

  private closeObject(): number {
    this.pos++;
    this.skipWhitespace();
    return this.pos === this.end ? OK : MALFORMED;
  }

  /** `"key": value` */
  private scanMember(): number {
    if (this.src.charCodeAt(this.pos) !== QUOTE) return MALFORMED;
    const keyStart = ++this.pos;
    const scanned = this.scanStringBody();
    if (scanned !== OK) return scanned;
    const field = this.fieldOf(keyStart, this.pos - keyStart);
    this.pos++;
    this.skipWhitespace();
    if (this.src.charCodeAt(this.pos) !== COLON) return MALFORMED;
    this.pos++;
    this.skipWhitespace();
    return this.scanValue(field);
  }

  /** Advances to the closing quote of a string whose opening quote is behind `pos`. */
  private scanStringBody(): number {
    const src = this.src;
    for (let p = this.pos; p < this.end; p++) {
      const c = src.charCodeAt(p);
      if (c === QUOTE) {
        this.pos = p;
        return OK;
      }
      if (c === BACKSLASH) return FALLBACK;
      if (c < 32) return MALFORMED;
    }
    return MALFORMED;
  }

  private fieldOf(start: number, length: number): number {
    switch (length) {
      case 5:
        if (this.keyIs('event', start)) return F_EVENT;
        return this.keyIs('price', start) ? F_PRICE : F_OTHER;
      case 6:
        return this.keyIs('symbol', start) ? F_SYMBOL : F_OTHER;
      case 9:
        return this.keyIs('timestamp', start) ? F_TIMESTAMP : F_OTHER;
      case 3:
        if (this.keyIs('bid', start)) return F_BID;
        return this.keyIs('ask', start) ? F_ASK : F_OTHER;
      default:
        return F_OTHER;
    }
  }

  /** Char by char: much faster than String.prototype.startsWith(word, position) in V8. */
  private keyIs(word: string, start: number): boolean {
    for (let i = 0; i < word.length; i++) if (this.src.charCodeAt(start + i) !== word.charCodeAt(i)) return false;
    return true;
  }

  private scanValue(field: number): number {
    const c = this.src.charCodeAt(this.pos);
    if (c === QUOTE) {
      const start = ++this.pos;
      const scanned = this.scanStringBody();
      if (scanned !== OK) return scanned;
      if (field !== F_OTHER) this.store(field, this.src.slice(start, this.pos));
      this.pos++;
      return OK;
    }
    if (c === MINUS || isDigit(c)) {
      const n = this.scanNumber();
      if (Number.isNaN(n)) return MALFORMED;
      if (field !== F_OTHER) this.store(field, n);
      return OK;
    }
    if (c === LBRACE || c === LBRACKET) return FALLBACK;
    return this.scanLiteral(field, c);
  }

  private scanLiteral(field: number, c: number): number {
    const word = c === LOWER_T ? 'true' : c === LOWER_F ? 'false' : c === LOWER_N ? 'null' : null;
    if (word === null || !this.keyIs(word, this.pos)) return MALFORMED;
    this.pos += word.length;
    if (field !== F_OTHER) this.store(field, c === LOWER_N ? null : c === LOWER_T);
    return OK;
  }

  private store(field: number, value: unknown): void {
    if (field === F_PRICE) this.price = value;
    else if (field === F_TIMESTAMP) this.timestamp = value;
    else if (field === F_SYMBOL) this.symbol = value;
    else if (field === F_EVENT) this.event = value;
    else if (field === F_BID) this.bid = value;
    else if (field === F_ASK) this.ask = value;
  }

  /** A JSON number (RFC 8259 grammar); NaN when the text is not one. */
  private scanNumber(): number {
    const src = this.src;
    const start = this.pos;
    let p = start;
    const negative = src.charCodeAt(p) === MINUS;
    if (negative) p++;
    let mantissa = 0;
    let digits = 0;
    let c = src.charCodeAt(p);
    if (c === ZERO) {
      c = src.charCodeAt(++p);
      digits = 1;
    } else if (isDigit(c)) {
      for (; isDigit(c); c = src.charCodeAt(++p), digits++) mantissa = mantissa * 10 + (c - ZERO);
    } else {
      return Number.NaN;
    }
    let decimals = 0;
    if (c === DOT) {
      c = src.charCodeAt(++p);
      if (!isDigit(c)) return Number.NaN;
      for (; isDigit(c); c = src.charCodeAt(++p), decimals++) mantissa = mantissa * 10 + (c - ZERO);
    }
    this.pos = p;
    if (c === LOWER_E || c === UPPER_E) return this.scanExponent(start);
    if (digits + decimals > MAX_EXACT_DIGITS) return Number(src.slice(start, p));
    const value = decimals === 0 ? mantissa : mantissa / (POW10[decimals] as number);
    return negative ? -value : value;
  }

  private scanExponent(start: number): number {
    const src = this.src;
    let c = src.charCodeAt(++this.pos);
    if (c === PLUS || c === MINUS) c = src.charCodeAt(++this.pos);
    if (!isDigit(c)) return Number.NaN;
    while (isDigit(c)) c = src.charCodeAt(++this.pos);
    return Number(src.slice(start, this.pos));
  }

  private skipWhitespace(): void {
    const src = this.src;
    let p = this.pos;
    for (let c = src.charCodeAt(p); c === 32 || c === 10 || c === 13 || c === 9; c = src.charCodeAt(++p));
    this.pos = p;
  }
}

const scanner = new FlatScanner();
