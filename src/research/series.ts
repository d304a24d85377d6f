/**
 * From stored bars to the research series: the bars inside a session, in time order, each with
 * its session date and slot number. Pure: the calendar decides what a session is.
 */
import { BAR_MS, ohlcViolation, type Bar } from '../domain/bar.ts';
import type { MarketCalendar } from '../domain/calendar.ts';
import type { IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import type { SeriesBar } from './types.ts';

/**
 * The bars of `bars` that fall inside a session, sorted by time, as `SeriesBar`s. Bars outside
 * every session (weekends, holidays, off-hours) are dropped; `barOfSession` is the bar's slot
 * counted from the calendar's session open (1 = the open), so a missing bar leaves a gap in the
 * numbering rather than shifting the bars after it.
 * Throws a TasaError on mixed symbols, duplicate times, off-grid times or impossible prices.
 */
export function toSeries(bars: readonly Bar[], calendar: MarketCalendar): SeriesBar[] {
  const sorted = [...bars].sort((a, b) => a.time - b.time);
  const series: SeriesBar[] = [];
  const symbol = sorted[0]?.symbol;
  for (let i = 0; i < sorted.length; i++) {
    const bar = sorted[i]!;
    assertUsable(bar, symbol, sorted[i - 1]);
    const session = calendar.sessionAt(bar.time);
    if (session === null) continue;
    const offset = bar.time - session.open;
    if (offset % BAR_MS !== 0) {
      throw new TasaError('bad_input', `Bar at ${new Date(bar.time).toISOString()} is not on the 5-minute grid of its session.`, { input: new Date(bar.time).toISOString() });
    }
    series.push({ time: bar.time, session: session.date, barOfSession: offset / BAR_MS + 1, open: bar.open, high: bar.high, low: bar.low, close: bar.close });
  }
  return series;
}

function assertUsable(bar: Bar, symbol: string | undefined, previous: Bar | undefined): void {
  const at = new Date(bar.time).toISOString();
  if (bar.symbol !== symbol) {
    throw new TasaError('bad_input', `The bars mix symbols ${symbol} and ${bar.symbol}; a research series holds one symbol.`, { input: `${bar.symbol} ${at}` });
  }
  if (previous !== undefined && previous.time === bar.time) {
    throw new TasaError('bad_input', `Two bars share the open time ${at}; a series holds one bar per slot.`, { input: at });
  }
  const violation = ohlcViolation(bar);
  if (violation !== null) throw new TasaError('bad_input', `Bar at ${at} is not a valid bar: ${violation}.`, { input: at });
}

/** One session's rows in a series: `series[start]` .. `series[end - 1]`. */
export interface SessionRange {
  session: IsoDate;
  start: number;
  end: number;
}

/**
 * The sessions of a series in order, as index ranges. The series must be in time order, so a
 * session's bars are contiguous; a session date seen again after another one is an error.
 */
export function sessionRanges(series: readonly Pick<SeriesBar, 'session'>[]): SessionRange[] {
  const ranges: SessionRange[] = [];
  const seen = new Set<IsoDate>();
  for (let i = 0; i < series.length; i++) {
    const session = series[i]!.session;
    const current = ranges[ranges.length - 1];
    if (current !== undefined && current.session === session) {
      current.end = i + 1;
      continue;
    }
    if (seen.has(session)) {
      throw new TasaError('bad_input', `Session ${session} appears twice in the series (row ${i}); a series must be in time order.`, { input: session });
    }
    seen.add(session);
    ranges.push({ session, start: i, end: i + 1 });
  }
  return ranges;
}

/** Throws unless the series is in strictly increasing time order with positive finite prices. */
export function assertSeries(series: readonly SeriesBar[], what = 'series'): void {
  let previous = -Infinity;
  for (let i = 0; i < series.length; i++) {
    const bar = series[i]!;
    if (!(bar.time > previous)) {
      throw new TasaError('bad_input', `The ${what} must be in strictly increasing time order; row ${i} is not.`, { input: `${what}[${i}]` });
    }
    const violation = ohlcViolation(bar);
    if (violation !== null) throw new TasaError('bad_input', `Row ${i} of the ${what} is not a valid bar: ${violation}.`, { input: `${what}[${i}]` });
    previous = bar.time;
  }
}
