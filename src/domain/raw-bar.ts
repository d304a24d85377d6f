/**
 * L0 rows: a bar exactly as a file or an API gave it, before any rule is applied.
 * Parsing turns the text fields into numbers and a UTC instant, or says why it cannot.
 */
import { DateTime } from 'luxon';
import { ohlcViolation } from './bar.ts';
import { priceBandViolation } from './symbol.ts';

/** One data row as received. `lineNo` is the 1-based line of the file (the header is line 1). */
export interface RawBarRecord {
  lineNo: number;
  /** The row as received: the CSV line, or the JSON text of the value. */
  raw: string;
  time: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string | null;
  /** The row's own symbol column, when the format has one. */
  symbol: string | null;
  /** The row's own source column (e.g. `twelvedata_backfill`), when the format has one. */
  sourceLabel: string | null;
}

export interface ParsedRawBar {
  lineNo: number;
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number | null;
  sourceLabel: string | null;
}

/** Why a row was rejected, as a count key; the reason text says which field and value. */
export type RawRowRejection = 'wrong_symbol' | 'bad_time' | 'bad_price' | 'ohlc_integrity' | 'bad_volume' | 'price_out_of_band';

export type ParseResult = { ok: true; bar: ParsedRawBar } | { ok: false; code: RawRowRejection; reason: string };

/** `2024-01-02 13:00:00`, `2024-01-02T13:00:00.000Z`, `2024-01-02 08:00:00-05:00`, `...-0500`. */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses a time with any ISO 8601 offset (`+00:00`, `-05:00`, `Z`, `+0000`) or, when the text
 * carries none, in `defaultZone` (TwelveData's exchange or `timezone` parameter). Returns null
 * for text that is not a real date-time (2024-02-30, 25:00).
 */
export function parseBarTime(text: string, defaultZone: string): number | null {
  const m = ISO_DATE_TIME.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '0', frac = '0', offset] = m as unknown as string[];
  const fields = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)] as const;
  if (!isRealDateTime(...fields)) return null;
  const millis = Math.floor(Number(`0.${frac}`) * 1000);
  const wall = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5], millis);
  if (offset !== undefined) return wall - offsetMinutes(offset) * 60_000;
  if (defaultZone === 'UTC') return wall;
  // A zone name: let luxon apply the zone's rules (Bogota has been UTC-5 since 1993, others move).
  const dt = DateTime.fromObject(
    { year: fields[0], month: fields[1], day: fields[2], hour: fields[3], minute: fields[4], second: fields[5], millisecond: millis },
    { zone: defaultZone },
  );
  return dt.isValid ? dt.toMillis() : null;
}

function isRealDateTime(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** `Z` -> 0, `-05:00` / `-0500` -> -300. */
function offsetMinutes(offset: string): number {
  if (offset === 'Z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
}

function parsePrice(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) return null;
  return Number(trimmed);
}

/**
 * Turns one received row into numbers and a UTC time, or names the field at fault. Prices must
 * lie in the symbol's plausible band (symbol.ts), so a corrupt 1e+23 never becomes a bar.
 */
export function parseRawBar(rec: RawBarRecord, expectedSymbol: string, defaultZone = 'UTC'): ParseResult {
  if (rec.symbol !== null && rec.symbol.trim() !== '' && rec.symbol.trim().toUpperCase() !== expectedSymbol.toUpperCase()) {
    return { ok: false, code: 'wrong_symbol', reason: `symbol "${rec.symbol}" is not ${expectedSymbol}` };
  }
  const time = parseBarTime(rec.time, defaultZone);
  if (time === null) return { ok: false, code: 'bad_time', reason: `time "${rec.time}" is not a valid date-time` };
  const prices: Record<'open' | 'high' | 'low' | 'close', number> = { open: 0, high: 0, low: 0, close: 0 };
  for (const field of ['open', 'high', 'low', 'close'] as const) {
    const value = parsePrice(rec[field]);
    if (value === null) return { ok: false, code: 'bad_price', reason: `${field} "${rec[field]}" is not a number` };
    prices[field] = value;
  }
  const violation = ohlcViolation(prices);
  if (violation) return { ok: false, code: 'ohlc_integrity', reason: `OHLC integrity: ${violation}` };
  for (const field of ['open', 'high', 'low', 'close'] as const) {
    const outside = priceBandViolation(expectedSymbol, prices[field]);
    if (outside !== null) return { ok: false, code: 'price_out_of_band', reason: `price_out_of_band: ${field} ${outside}` };
  }
  let volume: number | null = null;
  if (rec.volume !== null && rec.volume.trim() !== '') {
    volume = parsePrice(rec.volume);
    if (volume === null || volume < 0) return { ok: false, code: 'bad_volume', reason: `volume "${rec.volume}" is not a non-negative number` };
  }
  return { ok: true, bar: { lineNo: rec.lineNo, time, ...prices, volume, sourceLabel: rec.sourceLabel } };
}
