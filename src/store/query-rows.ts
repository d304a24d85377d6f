/**
 * The rows of the read-only views: `tasa bars|sessions|gaps|calendar` print them and the HTTP
 * API serves them. They are computed here once, so both show the same data under the same
 * column names (snake_case, as in the CSV headers). Times are UTC ISO 8601 with Z.
 */
import type { BarRow, CalendarRow, GapRow, SessionRow } from '../contracts/api/market.ts';
import type { Bar } from '../domain/bar.ts';
import type { MarketCalendar } from '../domain/calendar.ts';
import { findGaps } from '../domain/gaps.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { toIsoUtc, type IsoDate } from '../domain/time.ts';
import type { Column } from '../row-writer.ts';
import { barTimesBetween } from './bars-repo.ts';
import type { Db } from './db.ts';
import { sessionsBetween } from './sessions-repo.ts';

/** Inclusive market dates (the instrument's session dates). */
export interface DateRange {
  from: IsoDate;
  to: IsoDate;
}

/**
 * UTC bounds [from, to) of inclusive market dates: their sessions and local days. USD/COP: from
 * 00:00 Bogota to 00:00 Bogota after `to`; EUR/USD: from the evening before `from` (its session opens then).
 */
export function utcBounds(calendar: MarketCalendar, range: DateRange): { from: number; to: number } {
  return calendar.instantsOfDates(range.from, range.to);
}

export const BAR_COLUMNS: readonly Column[] = [
  { key: 'time' },
  { key: 'open', numeric: true },
  { key: 'high', numeric: true },
  { key: 'low', numeric: true },
  { key: 'close', numeric: true },
  { key: 'volume', numeric: true },
  { key: 'source' },
  { key: 'revision', numeric: true },
  { key: 'flags' },
];

export function barRow(b: Bar): BarRow {
  return {
    time: toIsoUtc(b.time),
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
    source: b.source,
    revision: b.revision,
    flags: b.flags.join('|'),
  };
}

export const SESSION_COLUMNS: readonly Column[] = [
  { key: 'date' },
  { key: 'expected', numeric: true },
  { key: 'present', numeric: true },
  { key: 'missing', numeric: true },
  { key: 'flat_share', numeric: true },
  { key: 'repaired', numeric: true },
  { key: 'status' },
];

/** One row per trading day of the range, from the stored session quality. */
export async function sessionRows(db: Db, calendar: MarketCalendar, symbol: SymbolCode, range: DateRange): Promise<SessionRow[]> {
  const stored = await sessionsBetween(db, symbol, range.from, range.to);
  const byDate = new Map(stored.map((s) => [s.date, s]));
  return calendar.sessionsBetween(range.from, range.to).map((session) => {
    // A trading day with no stored row has never had a bar: all of it is missing.
    const q = byDate.get(session.date);
    return {
      date: session.date,
      expected: session.barCount,
      present: q?.present ?? 0,
      missing: q?.missing ?? session.barCount,
      flat_share: q?.flatShare == null ? null : Number(q.flatShare.toFixed(4)),
      repaired: q?.repaired ?? 0,
      status: q?.status ?? 'missing',
    };
  });
}

export const GAP_COLUMNS: readonly Column[] = [{ key: 'date' }, { key: 'from' }, { key: 'to' }, { key: 'bars', numeric: true }];

/** Missing bars inside the range's sessions, merged into intervals, by time. */
export async function gapRows(db: Db, calendar: MarketCalendar, symbol: SymbolCode, range: DateRange): Promise<GapRow[]> {
  const { from, to } = utcBounds(calendar, range);
  const present = new Set(await barTimesBetween(db, symbol, from, to));
  return calendar
    .sessionsBetween(range.from, range.to)
    .flatMap((session) => findGaps(session.date, calendar.barGrid(session), present))
    .map((g) => ({ date: g.date, from: toIsoUtc(g.from), to: toIsoUtc(g.to), bars: g.bars }));
}

export const CALENDAR_COLUMNS: readonly Column[] = [
  { key: 'date' },
  { key: 'weekday' },
  { key: 'trading_day' },
  { key: 'holiday' },
  { key: 'next_day_settlement' },
  { key: 'us_holiday' },
  { key: 'session_open' },
  { key: 'session_close' },
  { key: 'bars' },
];

const WEEKDAYS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Every day of the range: trading or not, the market's holiday, (USD/COP) US next-day settlement, session times and bars. */
export function calendarRows(calendar: MarketCalendar, range: DateRange): CalendarRow[] {
  return calendar.days(range.from, range.to).map((d) => {
    const session = d.tradingDay ? calendar.sessionFor(d.date) : null;
    return {
      date: d.date,
      weekday: WEEKDAYS[d.weekday] ?? String(d.weekday),
      trading_day: d.tradingDay,
      holiday: d.holiday,
      next_day_settlement: d.nextDaySettlement,
      us_holiday: d.usHoliday,
      session_open: session ? toIsoUtc(session.open) : null,
      session_close: session ? toIsoUtc(session.close) : null,
      bars: session ? session.barCount : null,
    };
  });
}
