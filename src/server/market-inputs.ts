/**
 * Schemas and checks of the market-data request values, on top of request-inputs.ts (symbols,
 * instants): dates must also lie in the years the market calendar covers, since every answer
 * about a day goes through it. Each bad value is one TasaError naming the parameter.
 */
import { Type, type TSchema } from 'typebox';
import { FIRST_CALENDAR_YEAR, LAST_CALENDAR_YEAR } from '../domain/calendar.ts';
import { isIsoDate, type IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import type { DateRange } from '../store/query-rows.ts';
import { instantParam } from './request-inputs.ts';

/** `schema` or null. */
export function Nullable<T extends TSchema>(schema: T, description?: string) {
  return Type.Union([schema, Type.Null()], description === undefined ? {} : { description });
}

export const SymbolString = Type.String({
  minLength: 1,
  maxLength: 32,
  description: 'Instrument: `USD/COP` (URL-encoded `USD%2FCOP` in a path) or `USDCOP`',
  examples: ['USD/COP', 'USDCOP'],
});

export const DateString = Type.String({ description: 'A Bogota calendar date, YYYY-MM-DD', examples: ['2024-01-02'] });

export const IsoTime = Type.String({ format: 'date-time', description: 'UTC, ISO 8601 with Z', examples: ['2024-01-02T13:00:00.000Z'] });

function outsideCalendar(name: string, value: string): TasaError {
  return new TasaError('bad_argument', `${name} must lie in ${FIRST_CALENDAR_YEAR}-${LAST_CALENDAR_YEAR}, the years the market calendar covers, not ${value}.`, {
    input: `${name}=${value}`,
  });
}

function inCalendarYears(year: number): boolean {
  return year >= FIRST_CALENDAR_YEAR && year <= LAST_CALENDAR_YEAR;
}

/** A `YYYY-MM-DD` the market calendar covers. */
export function calendarDate(name: string, value: string): IsoDate {
  if (!isIsoDate(value)) throw new TasaError('bad_argument', `${name} must be a date as YYYY-MM-DD, not "${value}".`, { input: `${name}=${value}` });
  if (!inCalendarYears(Number(value.slice(0, 4)))) throw outsideCalendar(name, value);
  return value;
}

/** Inclusive Bogota dates; `to` defaults to `from`. */
export function calendarDateRange(from: string, to: string | undefined): DateRange {
  const range = { from: calendarDate('from', from), to: calendarDate('to', to ?? from) };
  if (range.to < range.from) throw new TasaError('bad_argument', `to ${range.to} is before from ${range.from}.`, { input: `to=${range.to}` });
  return range;
}

/** An instant (see instantParam: a date or an ISO time with a zone) in the years the calendar covers. */
export function calendarInstant(name: string, value: string, bound: 'start' | 'end'): number {
  const t = instantParam(name, value, bound);
  if (!inCalendarYears(new Date(t).getUTCFullYear())) throw outsideCalendar(name, value);
  return t;
}
