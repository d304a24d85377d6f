/**
 * Reference rows derived from code: the known instruments and the holiday table (a copy of the
 * calendar's answers for SQL joins). Rewritten only when the calendar's answers changed.
 */
import type { MarketCalendar } from '../domain/calendar.ts';
import { INSTRUMENTS } from '../domain/symbol.ts';
import type { Db } from './db.ts';
import { holidaysBetween, replaceHolidays, type Holiday } from './holidays-repo.ts';
import { ensureSymbols } from './symbols-repo.ts';

/** The years the holiday table covers. */
export const HOLIDAY_TABLE_YEARS = { from: 2015, to: 2035 } as const;

export async function syncReferenceData(db: Db, calendar: MarketCalendar): Promise<void> {
  await ensureSymbols(db, INSTRUMENTS);
  const { from, to } = HOLIDAY_TABLE_YEARS;
  const wanted: Holiday[] = [];
  for (let year = from; year <= to; year++) wanted.push(...calendar.holidays(year), ...calendar.usHolidays(year));
  const stored = await holidaysBetween(db, `${from}-01-01`, `${to}-12-31`);
  if (!sameHolidays(wanted, stored)) await replaceHolidays(db, wanted, from, to);
}

function sameHolidays(a: readonly Holiday[], b: readonly Holiday[]): boolean {
  const key = (h: Holiday) => `${h.date}|${h.market}|${h.name}|${h.origin}`;
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.length === right.length && left.every((k, i) => k === right[i]);
}
