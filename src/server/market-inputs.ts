/**
 * Schemas of the market-data request values and the checks built on request-inputs.ts (symbols,
 * dates and instants in the years the market calendar covers). Each bad value is one TasaError
 * naming the parameter.
 */
import { Type } from 'typebox';
import type { MarketCalendar } from '../domain/calendar.ts';
import { TasaError } from '../errors.ts';
import type { DateRange } from '../store/query-rows.ts';
import { calendarDate, inCalendarYears, instantParam, outsideCalendar } from './request-inputs.ts';

export const SymbolString = Type.String({
  minLength: 1,
  maxLength: 32,
  description: 'Instrument: `USD/COP` (URL-encoded `USD%2FCOP` in a path) or `USDCOP`',
  examples: ['USD/COP', 'USDCOP'],
});

export const DateString = Type.String({ description: "A session date of the market's own calendar, YYYY-MM-DD (Bogota for USD/COP)", examples: ['2024-01-02'] });

/** Inclusive market dates (the symbol's calendar's; Bogota for USD/COP); `to` defaults to `from`. */
export function calendarDateRange(from: string, to: string | undefined): DateRange {
  const range = { from: calendarDate('from', from), to: calendarDate('to', to ?? from) };
  if (range.to < range.from) throw new TasaError('bad_argument', `to ${range.to} is before from ${range.from}.`, { input: `to=${range.to}` });
  return range;
}

/** An instant (see instantParam: a market date of `calendar` or an ISO time with a zone) in the years the calendar covers. */
export function calendarInstant(name: string, value: string, bound: 'start' | 'end', calendar: MarketCalendar): number {
  const t = instantParam(name, value, bound, calendar);
  if (!inCalendarYears(new Date(t).getUTCFullYear())) throw outsideCalendar(name, value);
  return t;
}
