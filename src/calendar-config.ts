/**
 * The configured instruments (TASA_INSTRUMENTS, else the shipped list) and their market
 * calendars with the configured decree overrides (TASA_CALENDAR_OVERRIDES): files are read here so
 * `domain/` stays pure.
 */
import { readFileSync } from 'node:fs';
import { CalendarSet, MarketCalendar, type CalendarOverrides } from './domain/calendar.ts';
import { instruments, normalizeSymbol, useInstruments, validateInstruments, type SymbolCode } from './domain/symbol.ts';
import { isIsoDate } from './domain/time.ts';
import type { Config } from './config.ts';
import { errorMessage, TasaError } from './errors.ts';

/** TASA_SYMBOLS as canonical symbols of configured instruments (load the instruments first). */
export function servedSymbols(config: Pick<Config, 'TASA_SYMBOLS'>): SymbolCode[] {
  return config.TASA_SYMBOLS.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(normalizeSymbol);
}

/** Loads the instruments, then builds each one's calendar. */
export function loadMarketCalendar(config: Pick<Config, 'TASA_CALENDAR_OVERRIDES' | 'TASA_INSTRUMENTS'>): CalendarSet {
  if (config.TASA_INSTRUMENTS !== undefined) useInstruments(validateInstruments(readJson(config.TASA_INSTRUMENTS, 'TASA_INSTRUMENTS'), config.TASA_INSTRUMENTS));
  const path = config.TASA_CALENDAR_OVERRIDES;
  const overrides = path === undefined ? {} : readOverrides(path);
  const known = new Set(instruments().map((i) => i.symbol));
  for (const symbol of Object.keys(overrides)) {
    if (!known.has(symbol)) throw new TasaError('bad_argument', `${path}: overrides for "${symbol}", which is not a configured instrument (${[...known].join(', ')}).`, { input: symbol });
  }
  return new CalendarSet(instruments().map((instrument) => new MarketCalendar(overrides[instrument.symbol] ?? {}, instrument)));
}

function readJson(path: string, variable: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TasaError('bad_argument', `Cannot read ${variable} file ${path}: ${errorMessage(err)}.`, { input: path });
  }
}

/**
 * Per symbol, `{"USD/COP":{"add":[{"date":"2027-03-22","name":"..."}],"remove":["2027-01-11"]}}`;
 * the older form without symbols (`{"add":[...],"remove":[...]}`) is USD/COP's. Every date checked.
 */
function readOverrides(path: string): Record<string, CalendarOverrides> {
  const parsed = readJson(path, 'TASA_CALENDAR_OVERRIDES');
  const bad = (what: string) => new TasaError('bad_argument', `${path}: ${what}.`, { input: path });
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('expected an object of symbols, each with "add" and/or "remove"');
  const record = parsed as Record<string, unknown>;
  const legacy = 'add' in record || 'remove' in record;
  const bySymbol = legacy ? { 'USD/COP': record } : record;
  return Object.fromEntries(Object.entries(bySymbol).map(([symbol, value]) => [symbol, symbolOverrides(value, (what) => bad(`${symbol}: ${what}`))]));
}

function symbolOverrides(value: unknown, bad: (what: string) => TasaError): CalendarOverrides {
  if (typeof value !== 'object' || value === null) throw bad('expected an object with "add" and/or "remove"');
  const { add = [], remove = [] } = value as { add?: unknown; remove?: unknown };
  if (!Array.isArray(add) || !Array.isArray(remove)) throw bad('"add" and "remove" must be arrays');
  for (const entry of add as unknown[]) {
    const { date, name } = (entry ?? {}) as { date?: unknown; name?: unknown };
    if (typeof date !== 'string' || !isIsoDate(date) || typeof name !== 'string') throw bad(`bad "add" entry ${JSON.stringify(entry)}; expected {"date":"YYYY-MM-DD","name":"..."}`);
  }
  for (const date of remove as unknown[]) {
    if (typeof date !== 'string' || !isIsoDate(date)) throw bad(`bad "remove" date ${JSON.stringify(date)}`);
  }
  return { add: add as Array<{ date: string; name: string }>, remove: remove as string[] };
}
