/**
 * Request values that need more than a schema: a symbol this server serves, a range of session
 * dates (the market's own; Bogota for USD/COP and the desk's days), an instant given as a date or
 * a date-time, the authenticated principal. Each bad
 * value is one TasaError that names the input.
 */
import type { FastifyRequest } from 'fastify';
import type { Principal } from './auth.ts';
import { FIRST_CALENDAR_YEAR, LAST_CALENDAR_YEAR, type MarketCalendar } from '../domain/calendar.ts';
import { normalizeSymbol, type SymbolCode } from '../domain/symbol.ts';
import { addDays, bogotaWallTime, DAY_MS, isIsoDate, type IsoDate } from '../domain/time.ts';
import { errorMessage, TasaError } from '../errors.ts';
import { HttpError } from './http-errors.ts';

/** `USD/COP`, `USDCOP` or `usd-cop` -> `USD/COP`; a symbol this server does not serve is not_found (404). */
export function servedSymbol(served: readonly string[], input: string, name = 'symbol'): SymbolCode {
  const unknown = () => new TasaError('not_found', `Unknown ${name} "${input}"; this server serves ${served.join(', ')}.`, { input: name });
  let symbol: SymbolCode;
  try {
    symbol = normalizeSymbol(input);
  } catch {
    throw unknown();
  }
  if (!served.includes(symbol)) throw unknown();
  return symbol;
}

/** A configured instrument a request names (served or not: its calendar and reference data exist), or 404. */
export function configuredSymbol(input: string, name = 'symbol'): SymbolCode {
  try {
    return normalizeSymbol(input);
  } catch (err) {
    throw new TasaError('not_found', errorMessage(err), { input: name });
  }
}

/** The served symbol a request names, or the first served one when it names none (as the original system's routes did). */
export function servedOrDefault(served: readonly string[], input: string | undefined, name = 'symbol'): SymbolCode {
  if (input !== undefined) return servedSymbol(served, input, name);
  const first = served[0];
  if (first === undefined) throw new TasaError('not_found', 'This server serves no instrument (TASA_SYMBOLS is empty).', { input: name });
  return first;
}

/** Market dates from..to (inclusive) and the instants they span (see `datePeriod`). */
export interface DatePeriod {
  from: IsoDate;
  to: IsoDate;
  fromMs: number;
  toMs: number;
  days: number;
}

export function outsideCalendar(name: string, value: string): TasaError {
  return new TasaError('bad_argument', `${name} must lie in ${FIRST_CALENDAR_YEAR}-${LAST_CALENDAR_YEAR}, the years the market calendar covers, not ${value}.`, {
    input: `${name}=${value}`,
  });
}

export function inCalendarYears(year: number): boolean {
  return year >= FIRST_CALENDAR_YEAR && year <= LAST_CALENDAR_YEAR;
}

/** A `YYYY-MM-DD` the market calendar covers. */
export function calendarDate(name: string, value: string): IsoDate {
  if (!isIsoDate(value)) throw new TasaError('bad_argument', `${name} must be a date as YYYY-MM-DD, not "${value}".`, { input: `${name}=${value}` });
  if (!inCalendarYears(Number(value.slice(0, 4)))) throw outsideCalendar(name, value);
  return value;
}

/**
 * Inclusive dates and the instants they span. With a calendar, they are that market's dates and
 * span its sessions (EUR/USD's session dated D opens the evening before); with `null`, Bogota
 * days (the desk's own dates: P&L days).
 */
export function datePeriod(
  from: string,
  to: string,
  maxDays: number,
  calendar: MarketCalendar | null,
  names: { from: string; to: string } = { from: 'from', to: 'to' },
): DatePeriod {
  calendarDate(names.from, from);
  calendarDate(names.to, to);
  if (to < from) throw new TasaError('bad_argument', `${names.to} ${to} is before ${names.from} ${from}.`, { input: names.to });
  const { from: fromMs, to: toMs } = instantsOfDates(calendar, from, to);
  const days = Math.round((Date.parse(addDays(to, 1)) - Date.parse(from)) / DAY_MS);
  if (days > maxDays) throw new TasaError('bad_argument', `${names.from}..${names.to} spans ${days} days; at most ${maxDays} are allowed per request.`, { input: names.to });
  return { from, to, fromMs, toMs, days };
}

const DATE_TIME_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** The instants inclusive dates span: the market's (session-aware), or Bogota days without a calendar. */
function instantsOfDates(calendar: MarketCalendar | null, from: IsoDate, to: IsoDate): { from: number; to: number } {
  if (calendar !== null) return calendar.instantsOfDates(from, to);
  return { from: bogotaWallTime(from, 0), to: bogotaWallTime(addDays(to, 1), 0) };
}

/**
 * An instant: ISO 8601 date-time with `Z` or an offset, or a date, which means the start of that
 * day for a `start` bound and the start of the next day for an (exclusive) `end` bound, so that
 * `to=2024-01-31` includes all of the 31st. A date is the calendar's market date (all of its
 * session, which for EUR/USD opens the evening before), or a Bogota date with `null` (fills, audit).
 */
export function instantParam(name: string, value: string, bound: 'start' | 'end', calendar: MarketCalendar | null): number {
  if (isIsoDate(value)) {
    // A market calendar answers only for the years it covers.
    if (calendar !== null && !inCalendarYears(Number(value.slice(0, 4)))) throw outsideCalendar(name, value);
    const span = instantsOfDates(calendar, value, value);
    return bound === 'start' ? span.from : span.to;
  }
  const t = DATE_TIME_WITH_ZONE.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(t)) {
    const date = calendar === null ? 'YYYY-MM-DD, Bogota' : `YYYY-MM-DD, a session date of ${calendar.symbol}'s market`;
    throw new TasaError('bad_argument', `${name} must be a date (${date}) or an ISO 8601 time with Z or an offset, not "${value}".`, { input: name });
  }
  return t;
}

/** Who sent a request on a route behind `requireRole` (which already answered 401 without a token). */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new HttpError(401, 'This route needs a token: send X-API-Key or Authorization: Bearer.');
  return request.principal;
}

/** OpenAPI `security` of routes that need a token: X-API-Key or Authorization: Bearer. */
export const TOKEN_SECURITY: Array<Record<string, string[]>> = [{ apiKey: [] }, { bearer: [] }];
