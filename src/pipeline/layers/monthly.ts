/**
 * The archive layout's monthly partitions (layout.ts `monthKey`) and Bogota dates for rows
 * in time order, with one calendar conversion per month (or day) instead of one per row: on 5.5
 * years of bars that conversion was a second of the pipeline's time. The partitions go by the
 * month of each row's session date in the symbol's market (`sessionDateOf`): for USD/COP that is
 * its Bogota date, the layout's key; an EUR/USD bar at 22:30Z on 31 March is in April's file,
 * since its session (dated 1 April) opened at 17:00 New York.
 */
import { sessionDateOf, type Calendars, type MarketCalendar } from '../../domain/calendar.ts';
import { addDays, bogotaDate, bogotaWallTime, type IsoDate } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import { sliceTable, type TableColumn } from '../archive/parquet-table.ts';
import { monthKey, monthOfDate, type LayerId, type YearMonth } from '../layout.ts';

/** The first instant whose session date is in `month` (YYYY-MM) or later. */
function monthStart(calendar: MarketCalendar, month: YearMonth): number {
  // From the session open when the 1st's session opens the day before, else from the 1st's midnight.
  return calendar.instantsOfDates(`${month}-01`, `${month}-01`).from;
}

function nextMonth(month: YearMonth): YearMonth {
  const year = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7));
  return m === 12 ? `${year + 1}-01` : `${year}-${String(m + 1).padStart(2, '0')}`;
}

/**
 * The months of the session dates over [fromMs, toMs), each with the instant its first session
 * date begins (the first one's may lie before `fromMs`): bucket bounds for grouping by month in SQL.
 */
export function sessionMonthStarts(calendar: MarketCalendar, fromMs: number, toMs: number): Array<{ month: YearMonth; from: number }> {
  const out: Array<{ month: YearMonth; from: number }> = [];
  // A time outside every session has its local date, which may lie before its month's first session.
  let month = monthOfDate(addDays(`${monthOfDate(sessionDateOf(calendar, fromMs))}-01`, -1));
  while (monthStart(calendar, nextMonth(month)) <= fromMs) month = nextMonth(month);
  for (; ; month = nextMonth(month)) {
    const from = monthStart(calendar, month);
    if (from >= toMs) return out;
    out.push({ month, from });
  }
}

function assertOrdered(times: ArrayLike<number>, i: number): void {
  const t = times[i]!;
  if (!Number.isFinite(t)) throw new TasaError('bad_input', `Row ${i} has no time, so it has no month.`, { input: String(i) });
  if (i > 0 && t < times[i - 1]!) throw new TasaError('bad_input', `Row ${i} is earlier than row ${i - 1}: rows must be in time order to be split by month.`, { input: String(i) });
}

/**
 * `columns` split into one archive file per month of the session dates of `times` (epoch ms,
 * ascending) in `symbol`'s market; `calendars` must hold it.
 */
export function monthlyPartitions(
  layer: LayerId,
  symbol: string,
  columns: readonly TableColumn[],
  times: ArrayLike<number>,
  calendars: Calendars,
): Array<{ key: string; columns: TableColumn[] }> {
  const calendar = calendars.of(symbol);
  const out: Array<{ key: string; columns: TableColumn[] }> = [];
  let start = 0;
  while (start < times.length) {
    assertOrdered(times, start);
    const month = monthOfDate(sessionDateOf(calendar, times[start]!));
    const end = monthStart(calendar, nextMonth(month));
    let i = start + 1;
    for (; i < times.length; i++) {
      assertOrdered(times, i);
      if (times[i]! >= end) break;
    }
    out.push({ key: monthKey(layer, symbol, month), columns: sliceTable(columns, start, i) });
    start = i;
  }
  return out;
}

/** The Bogota date of each time (ascending epoch ms). */
export function bogotaDates(times: ArrayLike<number>): IsoDate[] {
  const out = new Array<IsoDate>(times.length);
  let date = '';
  let end = -Infinity;
  for (let i = 0; i < times.length; i++) {
    assertOrdered(times, i);
    if (times[i]! >= end) {
      date = bogotaDate(times[i]!);
      end = bogotaWallTime(addDays(date, 1), 0);
    }
    out[i] = date;
  }
  return out;
}
