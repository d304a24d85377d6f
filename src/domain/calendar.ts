/**
 * The USD/COP trading calendar: the single source of truth for when the spot market trades.
 *
 * - Spot (SET-FX, T+0) trades Monday to Friday, 08:00-13:00 America/Bogota, on Colombian business days.
 * - Colombian public holidays close the market (Ley 51 de 1983 "Ley Emiliani", Ley 2578 de 2026).
 * - US federal holidays never close it: on a Colombian business day the market trades but settles
 *   the next day ("Next Day"), flagged as `nextDaySettlement`.
 *
 * Holiday rules come from `date-holidays`, which nothing else in the project imports. Everything is
 * precomputed per calendar year on first use, so after warm-up the per-date and per-instant queries
 * are Map lookups. Pure: no I/O and no clock reads.
 */
import Holidays from 'date-holidays';
import type { HolidaysTypes } from 'date-holidays';
import { BAR_MS } from './bar.ts';
import HOLIDAY_COUNTRIES from './holiday-countries.json' with { type: 'json' };
import { DAY_MS, HOUR_MS, bogotaWallTime, datesBetween, isIsoDate, weekday, type IsoDate } from './time.ts';

export const SESSION_OPEN_HOUR = 8;
export const SESSION_CLOSE_HOUR = 13;
export const BARS_PER_SESSION = ((SESSION_CLOSE_HOUR - SESSION_OPEN_HOUR) * HOUR_MS) / BAR_MS;

/**
 * Years the calendar answers for. America/Bogota has had no DST since 1993; the holiday rules are
 * pinned by tests for 2015-2035 and the library's rules are used as-is outside that window.
 */
export const FIRST_CALENDAR_YEAR = 1994;
export const LAST_CALENDAR_YEAR = 2099;

export interface Holiday {
  date: IsoDate;
  name: string;
  market: 'CO' | 'US';
  origin: 'date-holidays' | 'override';
}

/** Colombian decree changes on top of the library's rules. */
export interface CalendarOverrides {
  add?: Array<{ date: IsoDate; name: string }>;
  remove?: IsoDate[];
}

export interface Session {
  /** Bogota date. */
  date: IsoDate;
  /** Epoch ms UTC of 08:00 Bogota (13:00Z). */
  open: number;
  /** Epoch ms UTC of 13:00 Bogota (18:00Z), exclusive end. */
  close: number;
  barCount: number;
  /** A US federal holiday on a Colombian business day: trades, settles the next day. */
  nextDaySettlement: boolean;
  /** The US holiday's name when `nextDaySettlement`. */
  usHoliday: string | null;
}

export interface DayInfo {
  date: IsoDate;
  /** ISO weekday, 1 = Monday .. 7 = Sunday. */
  weekday: number;
  tradingDay: boolean;
  /** The Colombian holiday's name, also on weekends. */
  holiday: string | null;
  nextDaySettlement: boolean;
  /** The observed US federal holiday's name, whether or not Colombia trades that day. */
  usHoliday: string | null;
}

interface DayEntry {
  info: DayInfo;
  session: Session | null;
}

interface YearTable {
  holidays: readonly Holiday[];
  usHolidays: readonly Holiday[];
}

/** Longest run of days without a session before we decide the calendar is broken (only overrides could do it). */
const MAX_DAYS_WITHOUT_SESSION = 400;

// ---------------------------------------------------------------------------------------------
// date-holidays, kept behind this module
// ---------------------------------------------------------------------------------------------

let colombiaSource: Holidays | undefined;
let usSource: Holidays | undefined;

/**
 * The library's rules of one country. The CLI build keeps only the countries of
 * holiday-countries.json in its copy of the library's data, so a country missing there is refused
 * here rather than silently having no holidays.
 */
function countryRules(country: string): Holidays {
  const rules = new Holidays();
  if (!HOLIDAY_COUNTRIES.includes(country) || rules.getCountries()[country] === undefined) {
    throw new Error(`No holiday rules for country ${country}: add it to src/domain/holiday-countries.json`);
  }
  rules.init(country);
  return rules;
}

function colombiaRules(): Holidays {
  return (colombiaSource ??= countryRules('CO'));
}

function usRules(): Holidays {
  return (usSource ??= countryRules('US'));
}

/** The library's `date` is local wall time, "YYYY-MM-DD hh:mm:ss". */
function libraryDate(h: HolidaysTypes.Holiday): IsoDate {
  return h.date.slice(0, 10);
}

/** Easter Sunday ("Pascua") is listed as public but is not a legal holiday; it is always a Sunday anyway. */
function isEasterSunday(h: HolidaysTypes.Holiday): boolean {
  return h.rule === 'easter';
}

/** date-holidays 3.37.0 names Ascension (Easter + 43) "La Asunción", which is 15 August's feast. */
function colombianName(h: HolidaysTypes.Holiday): string {
  return h.rule === 'easter 43' && h.name === 'La Asunción' ? 'Ascensión del Señor' : h.name;
}

/**
 * Colombian public holidays from the library, one per date. Two feasts can share a Monday
 * (2025-06-30: Sagrado Corazón and San Pedro y San Pablo); their names are joined with " / "
 * in the library's order, so nothing is lost.
 */
function libraryColombianHolidays(year: number): Holiday[] {
  const namesByDate = new Map<IsoDate, string[]>();
  for (const h of colombiaRules().getHolidays(year, 'es')) {
    if (h.type !== 'public' || isEasterSunday(h)) continue;
    const date = libraryDate(h);
    namesByDate.set(date, [...(namesByDate.get(date) ?? []), colombianName(h)]);
  }
  return [...namesByDate].map(([date, names]) => colombianHoliday(date, names.join(' / '), 'date-holidays'));
}

function colombianHoliday(date: IsoDate, name: string, origin: Holiday['origin']): Holiday {
  return Object.freeze({ date, name, market: 'CO', origin });
}

const US_FEDERAL_HOLIDAYS = new Set([
  "New Year's Day",
  'Martin Luther King Jr. Day',
  "Washington's Birthday",
  'Memorial Day',
  'Juneteenth',
  'Independence Day',
  'Labor Day',
  'Columbus Day',
  'Veterans Day',
  'Thanksgiving Day',
  'Christmas Day',
]);
const LIBRARY_SUBSTITUTE_SUFFIX = ' (substitute day)';
const JUNETEENTH_FIRST_YEAR = 2021;

function isWeekend(date: IsoDate): boolean {
  return weekday(date) >= 6;
}

/**
 * US federal holidays on their observed dates. The library lists both the legal date and, when that
 * is a weekend, a "(substitute day)" entry on the Friday before / Monday after; we keep the weekday
 * one. Its Veterans Day substitutes are typed `bank`, not `public`, so substitutes of any of the
 * two types count. A Saturday 1 January is observed on 31 December and is listed in that year.
 */
function libraryUsHolidays(year: number): Holiday[] {
  const byDate = new Map<IsoDate, Holiday>();
  const seen = new Set<string>();
  // 'en-us', not 'en': the plain English names include "Labour Day".
  for (const h of usRules().getHolidays(year, 'en-us')) {
    const substitute = h.substitute === true;
    const federalName = h.name.replace(LIBRARY_SUBSTITUTE_SUFFIX, '');
    const counted = h.type === 'public' || (substitute && h.type === 'bank');
    if (!counted || !US_FEDERAL_HOLIDAYS.has(federalName)) continue;
    seen.add(federalName);
    const date = libraryDate(h);
    if (isWeekend(date)) continue;
    const name = substitute ? `${federalName} (observed)` : federalName;
    byDate.set(date, Object.freeze({ date, name, market: 'US', origin: 'date-holidays' }));
  }
  assertAllFederalHolidaysSeen(year, seen);
  return [...byDate.values()].sort(byHolidayDate);
}

/** We match the library by name, so a renamed holiday would silently vanish; fail instead. */
function assertAllFederalHolidaysSeen(year: number, seen: Set<string>): void {
  const missing = [...US_FEDERAL_HOLIDAYS].filter((name) => !seen.has(name) && !(name === 'Juneteenth' && year < JUNETEENTH_FIRST_YEAR));
  if (missing.length > 0) throw new Error(`date-holidays lists no ${missing.join(', ')} for the US in ${year}`);
}

function byHolidayDate(a: Holiday, b: Holiday): number {
  return a.date < b.date ? -1 : a.date > b.date ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Date arithmetic for the hot path (integers, no luxon)
// ---------------------------------------------------------------------------------------------

/** Days since 1970-01-01 of a valid `YYYY-MM-DD`. */
function dayNumber(date: IsoDate): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY_MS;
}

function dateOfDayNumber(n: number): IsoDate {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

/** The UTC day an instant falls in. A session lies inside its date's UTC day (asserted when built). */
function utcDayNumber(t: number): number {
  return Math.floor(t / DAY_MS);
}

function assertDate(date: IsoDate): void {
  if (typeof date !== 'string' || !isIsoDate(date)) {
    throw new RangeError(`Invalid date ${JSON.stringify(date)}: expected a real calendar date as YYYY-MM-DD`);
  }
  assertYear(Number(date.slice(0, 4)));
}

function assertYear(year: number): void {
  if (!Number.isInteger(year) || year < FIRST_CALENDAR_YEAR || year > LAST_CALENDAR_YEAR) {
    throw new RangeError(`Year ${year} is outside the market calendar (${FIRST_CALENDAR_YEAR}-${LAST_CALENDAR_YEAR})`);
  }
}

function assertInstant(t: number): void {
  if (!Number.isFinite(t)) throw new RangeError(`Invalid instant ${t}: expected epoch milliseconds`);
}

// ---------------------------------------------------------------------------------------------
// The calendar
// ---------------------------------------------------------------------------------------------

export class MarketCalendar {
  static readonly SESSION_OPEN_HOUR = SESSION_OPEN_HOUR;
  static readonly SESSION_CLOSE_HOUR = SESSION_CLOSE_HOUR;
  static readonly BARS_PER_SESSION = BARS_PER_SESSION;

  private readonly additions = new Map<IsoDate, string>();
  private readonly removals = new Set<IsoDate>();
  private readonly years = new Map<number, YearTable>();
  private readonly byDate = new Map<IsoDate, DayEntry>();
  private readonly byDayNumber = new Map<number, DayEntry>();

  /**
   * Overrides apply to the library's Colombian holidays: `remove` drops the library's holiday on a
   * date, then `add` declares a holiday (replacing any library name). A date both added and removed
   * is therefore a holiday: the explicit addition wins. A repeated `add` date keeps the last name.
   */
  constructor(overrides: CalendarOverrides = {}) {
    for (const date of overrides.remove ?? []) {
      assertDate(date);
      this.removals.add(date);
    }
    for (const { date, name } of overrides.add ?? []) {
      assertDate(date);
      if (typeof name !== 'string' || name.trim() === '') throw new RangeError(`Holiday override on ${date} needs a name`);
      this.additions.set(date, name);
    }
  }

  /** The decree overrides in force, normalised (sorted), e.g. to tell whether a copy of the calendar is stale. */
  overrides(): Required<CalendarOverrides> {
    return {
      add: [...this.additions].sort(([a], [b]) => (a < b ? -1 : 1)).map(([date, name]) => ({ date, name })),
      remove: [...this.removals].sort(),
    };
  }

  isTradingDay(date: IsoDate): boolean {
    return this.entry(date).info.tradingDay;
  }

  /** The session on a Bogota date, or null on weekends and Colombian holidays. */
  sessionFor(date: IsoDate): Session | null {
    return this.entry(date).session;
  }

  /** The open times (epoch ms UTC) of the session's 5-minute bars: 13:00Z .. 17:55Z. */
  barGrid(session: Session): number[] {
    return Array.from({ length: session.barCount }, (_, i) => session.open + i * BAR_MS);
  }

  /** The session whose [open, close) contains `t`. */
  sessionAt(t: number): Session | null {
    assertInstant(t);
    const session = this.entryForDay(utcDayNumber(t)).session;
    return session !== null && t >= session.open && t < session.close ? session : null;
  }

  isMarketOpen(t: number): boolean {
    return this.sessionAt(t) !== null;
  }

  /** The session open at `t`, or else the next one to open after `t`. */
  nextSession(t: number): Session {
    assertInstant(t);
    const first = utcDayNumber(t);
    for (let n = first; n <= first + MAX_DAYS_WITHOUT_SESSION; n++) {
      const session = this.entryForDay(n).session;
      if (session !== null && t < session.close) return session;
    }
    throw new Error(`No session within ${MAX_DAYS_WITHOUT_SESSION} days after ${dateOfDayNumber(first)}`);
  }

  /** The last session that closed at or before `t` (so never the one containing `t`). */
  previousSession(t: number): Session {
    assertInstant(t);
    const first = utcDayNumber(t);
    for (let n = first; n >= first - MAX_DAYS_WITHOUT_SESSION; n--) {
      const session = this.entryForDay(n).session;
      if (session !== null && session.close <= t) return session;
    }
    throw new Error(`No session within ${MAX_DAYS_WITHOUT_SESSION} days before ${dateOfDayNumber(first)}`);
  }

  /** Sessions from `from` to `to`, both inclusive; empty when `from` is after `to`. */
  sessionsBetween(from: IsoDate, to: IsoDate): Session[] {
    const sessions: Session[] = [];
    for (const entry of this.entriesBetween(from, to)) if (entry.session !== null) sessions.push(entry.session);
    return sessions;
  }

  /** Colombian holidays of a year, sorted, one per date, weekend ones included. */
  holidays(year: number): Holiday[] {
    return [...this.yearTable(year).holidays];
  }

  /** US federal holidays of a year on their observed (weekday) dates. */
  usHolidays(year: number): Holiday[] {
    return [...this.yearTable(year).usHolidays];
  }

  dayInfo(date: IsoDate): DayInfo {
    return this.entry(date).info;
  }

  /** Every day from `from` to `to`, both inclusive; empty when `from` is after `to`. */
  days(from: IsoDate, to: IsoDate): DayInfo[] {
    return this.entriesBetween(from, to).map((entry) => entry.info);
  }

  // -- lookups -----------------------------------------------------------------------------------

  /** The hot path: one Map lookup once the year is built; validation only on a miss. */
  private entry(date: IsoDate): DayEntry {
    return this.byDate.get(date) ?? this.loadEntry(date);
  }

  private loadEntry(date: IsoDate): DayEntry {
    assertDate(date);
    this.yearTable(Number(date.slice(0, 4)));
    return this.builtEntry(this.byDate.get(date), date);
  }

  private entryForDay(n: number): DayEntry {
    return this.byDayNumber.get(n) ?? this.loadEntry(dateOfDayNumber(n));
  }

  private entriesBetween(from: IsoDate, to: IsoDate): DayEntry[] {
    const first = dayNumber(this.entry(from).info.date);
    const last = dayNumber(this.entry(to).info.date);
    const entries: DayEntry[] = [];
    for (let n = first; n <= last; n++) entries.push(this.entryForDay(n));
    return entries;
  }

  private builtEntry(entry: DayEntry | undefined, date: IsoDate): DayEntry {
    if (entry === undefined) throw new Error(`Calendar has no entry for ${date} after building its year`);
    return entry;
  }

  // -- per-year precomputation -------------------------------------------------------------------

  private yearTable(year: number): YearTable {
    const cached = this.years.get(year);
    if (cached !== undefined) return cached;
    assertYear(year);
    const table: YearTable = {
      holidays: Object.freeze(this.colombianHolidays(year)),
      usHolidays: Object.freeze(libraryUsHolidays(year)),
    };
    this.indexDays(year, table);
    this.years.set(year, table);
    return table;
  }

  private colombianHolidays(year: number): Holiday[] {
    const byDate = new Map(libraryColombianHolidays(year).map((h) => [h.date, h]));
    for (const date of this.removals) byDate.delete(date);
    for (const [date, name] of this.additions) {
      if (date.startsWith(`${year}-`)) byDate.set(date, colombianHoliday(date, name, 'override'));
    }
    return [...byDate.values()].sort(byHolidayDate);
  }

  private indexDays(year: number, table: YearTable): void {
    const colombian = new Map(table.holidays.map((h) => [h.date, h.name]));
    const us = new Map(table.usHolidays.map((h) => [h.date, h.name]));
    for (const date of datesBetween(`${year}-01-01`, `${year}-12-31`)) {
      const entry = buildDay(date, colombian.get(date) ?? null, us.get(date) ?? null);
      this.byDate.set(date, entry);
      this.byDayNumber.set(dayNumber(date), entry);
    }
  }
}

function buildDay(date: IsoDate, holiday: string | null, usHoliday: string | null): DayEntry {
  const isoWeekday = weekday(date);
  const tradingDay = isoWeekday <= 5 && holiday === null;
  const nextDaySettlement = tradingDay && usHoliday !== null;
  const info: DayInfo = Object.freeze({ date, weekday: isoWeekday, tradingDay, holiday, nextDaySettlement, usHoliday });
  return { info, session: tradingDay ? buildSession(date, usHoliday) : null };
}

function buildSession(date: IsoDate, usHoliday: string | null): Session {
  const open = bogotaWallTime(date, SESSION_OPEN_HOUR);
  const close = bogotaWallTime(date, SESSION_CLOSE_HOUR);
  assertSessionShape(date, open, close);
  return Object.freeze({ date, open, close, barCount: BARS_PER_SESSION, nextDaySettlement: usHoliday !== null, usHoliday });
}

/**
 * The instant lookups find a session through the UTC day of `t`, which is right only while the
 * session sits inside its own date's UTC day (true for UTC-5). Fail loudly if tzdata ever says otherwise.
 */
function assertSessionShape(date: IsoDate, open: number, close: number): void {
  const day = dayNumber(date);
  const insideUtcDay = utcDayNumber(open) === day && utcDayNumber(close - 1) === day;
  if (!insideUtcDay || close - open !== BARS_PER_SESSION * BAR_MS) {
    throw new Error(`Session of ${date} (${open}..${close}) breaks the calendar's time-zone assumptions`);
  }
}
