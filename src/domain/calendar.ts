/**
 * The market calendars: the single source of truth for when each instrument trades. One
 * `MarketCalendar` per instrument, built from its market rules (`symbol.ts`, `instruments.json`):
 *
 * - Sessions on the listed weekdays, from `open` to `close` in the market's own zone (DST
 *   included); a session with `opensDayBefore` opens the evening before its date, as the global
 *   24-hour FX week does (Sunday 17:00 to Friday 17:00 New York). Bars per session follow from
 *   its length, never a constant.
 * - Holidays close the market: a country's holidays from `date-holidays` of the listed types,
 *   plus named ones, minus excluded ones, fixed dates, and decree changes (the instrument's and
 *   the configured overrides).
 * - USD/COP: US federal holidays never close it; on a Colombian business day the market trades but
 *   settles the next day ("Next Day"), flagged as `nextDaySettlement`.
 *
 * `date-holidays` is imported by nothing else in the project. Everything is precomputed per
 * calendar year on first use, so after warm-up the per-date queries are Map lookups and the
 * per-instant ones binary searches. Pure: no I/O and no clock reads.
 */
import Holidays from 'date-holidays';
import type { HolidaysTypes } from 'date-holidays';
import { TasaError } from '../errors.ts';
import { BAR_MS } from './bar.ts';
import HOLIDAY_COUNTRIES from './holiday-countries.json' with { type: 'json' };
import { instrumentOf, shippedInstrument, type Instrument, type SymbolCode } from './symbol.ts';
import { DAY_MS, MINUTE_MS, addDays, datesBetween, isIsoDate, minuteOfDay, weekday, zonedDate, zonedHour, zonedWallTime, type IsoDate } from './time.ts';

/**
 * Years the calendar answers for. The holiday rules are pinned by tests for 2015-2035 and the
 * library's rules are used as-is outside that window.
 */
export const FIRST_CALENDAR_YEAR = 1994;
export const LAST_CALENDAR_YEAR = 2099;

export interface Holiday {
  date: IsoDate;
  name: string;
  /** The country whose holiday it is (`CO`, `US`, `BR`, ...), or `FX` for a closure of the global FX week. */
  market: string;
  origin: 'date-holidays' | 'override' | 'market rule';
}

/** Decree changes on top of the library's rules. */
export interface CalendarOverrides {
  add?: Array<{ date: IsoDate; name: string }>;
  remove?: IsoDate[];
}

export interface Session {
  /** The session's (trade) date in the market's zone. */
  date: IsoDate;
  /** Epoch ms UTC of the open. */
  open: number;
  /** Epoch ms UTC of the close, exclusive end. */
  close: number;
  barCount: number;
  /** A settlement holiday (USD/COP: US federal) on a business day: trades, settles the next day. */
  nextDaySettlement: boolean;
  /** The settlement holiday's name when `nextDaySettlement`. */
  usHoliday: string | null;
}

export interface DayInfo {
  date: IsoDate;
  /** ISO weekday, 1 = Monday .. 7 = Sunday. */
  weekday: number;
  tradingDay: boolean;
  /** The market's holiday name, also on weekends. */
  holiday: string | null;
  nextDaySettlement: boolean;
  /** The observed settlement (US federal) holiday's name, whether or not the market trades that day. */
  usHoliday: string | null;
}

/** Every configured instrument's calendar; a `MarketCalendar` is the book of its own instrument. */
export interface Calendars {
  of(symbol: SymbolCode): MarketCalendar;
  all(): MarketCalendar[];
}

interface DayEntry {
  info: DayInfo;
  session: Session | null;
}

interface YearTable {
  holidays: readonly Holiday[];
  usHolidays: readonly Holiday[];
  /** The year's sessions (by date), sorted by open. */
  sessions: readonly Session[];
}

/** Longest run of days without a session before we decide the calendar is broken (only overrides could do it). */
const MAX_DAYS_WITHOUT_SESSION = 400;

// ---------------------------------------------------------------------------------------------
// date-holidays, kept behind this module
// ---------------------------------------------------------------------------------------------

const librarySources = new Map<string, Holidays>();

/**
 * The library's rules of one country. The CLI build keeps only the countries of
 * holiday-countries.json in its copy of the library's data, so a country missing there is refused
 * here rather than silently having no holidays.
 */
function countryRules(country: string): Holidays {
  const cached = librarySources.get(country);
  if (cached !== undefined) return cached;
  const rules = new Holidays();
  if (!HOLIDAY_COUNTRIES.includes(country) || rules.getCountries()[country] === undefined) {
    throw new Error(`No holiday rules for country ${country}: add it to src/domain/holiday-countries.json`);
  }
  rules.init(country);
  librarySources.set(country, rules);
  return rules;
}

/** The library's `date` is local wall time, "YYYY-MM-DD hh:mm:ss". */
function libraryDate(h: HolidaysTypes.Holiday): IsoDate {
  return h.date.slice(0, 10);
}

/** date-holidays 3.37.0 names Ascension (Easter + 43) "La Asunción" in Spanish, which is 15 August's feast. */
function localName(h: HolidaysTypes.Holiday): string {
  return h.rule === 'easter 43' && h.name === 'La Asunción' ? 'Ascensión del Señor' : h.name;
}

/**
 * The country's holidays that close the market, from the library, one per date. Two feasts can
 * share a Monday (Colombia, 2025-06-30: Sagrado Corazón and San Pedro y San Pablo); their names
 * are joined with " / " in the library's order, so nothing is lost. Types and names (in the
 * market's language, as the library gives them) select which close it. One library call per
 * year: each costs tens of milliseconds.
 */
function libraryHolidays(instrument: Instrument, year: number): Holiday[] {
  const rules = instrument.market.holidays;
  if (rules.country === undefined) return [];
  const types = new Set(rules.types ?? ['public']);
  const namesByDate = new Map<IsoDate, string[]>();
  for (const h of countryRules(rules.country).getHolidays(year, rules.language ?? 'en')) {
    const closes = (types.has(h.type) || (rules.alsoNamed ?? []).includes(h.name)) && !(rules.excludeNamed ?? []).includes(h.name);
    if (!closes) continue;
    const date = libraryDate(h);
    namesByDate.set(date, [...(namesByDate.get(date) ?? []), localName(h)]);
  }
  const country = rules.country;
  return [...namesByDate].map(([date, names]) => holiday(date, names.join(' / '), country, 'date-holidays'));
}

function fixedHolidays(instrument: Instrument, year: number): Holiday[] {
  return (instrument.market.holidays.fixed ?? []).map((f) => holiday(`${year}-${f.monthDay}`, f.name, instrument.market.holidays.country ?? 'FX', 'market rule'));
}

function holiday(date: IsoDate, name: string, market: string, origin: Holiday['origin']): Holiday {
  return Object.freeze({ date, name, market, origin });
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
  for (const h of countryRules('US').getHolidays(year, 'en-us')) {
    const substitute = h.substitute === true;
    const federalName = h.name.replace(LIBRARY_SUBSTITUTE_SUFFIX, '');
    const counted = h.type === 'public' || (substitute && h.type === 'bank');
    if (!counted || !US_FEDERAL_HOLIDAYS.has(federalName)) continue;
    seen.add(federalName);
    const date = libraryDate(h);
    if (isWeekend(date)) continue;
    const name = substitute ? `${federalName} (observed)` : federalName;
    byDate.set(date, holiday(date, name, 'US', 'date-holidays'));
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
// Validation
// ---------------------------------------------------------------------------------------------

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

/** A finite instant inside the calendar's years. */
function assertInstant(t: number): void {
  if (!Number.isFinite(t)) throw new RangeError(`Invalid instant ${t}: expected epoch milliseconds`);
  assertYear(utcYear(t));
}

function utcYear(t: number): number {
  return new Date(t).getUTCFullYear();
}

function inCalendar(year: number): boolean {
  return year >= FIRST_CALENDAR_YEAR && year <= LAST_CALENDAR_YEAR;
}

// ---------------------------------------------------------------------------------------------
// The calendar of one instrument
// ---------------------------------------------------------------------------------------------

export class MarketCalendar implements Calendars {
  readonly symbol: SymbolCode;
  /** The market's IANA zone: its dates and the times people see. */
  readonly zone: string;
  private readonly additions = new Map<IsoDate, string>();
  private readonly removals = new Set<IsoDate>();
  private readonly weekdays: ReadonlySet<number>;
  private readonly years = new Map<number, YearTable>();
  private readonly byDate = new Map<IsoDate, DayEntry>();
  /** The last `sessionAt` answer and the span of instants it holds for: ticks come in time order, so nearly every call hits it. */
  private lastAnswer: { from: number; to: number; session: Session | null } = { from: 0, to: 0, session: null };
  /** The last `localHour` answer and the instants it holds for: fills come in time order. */
  private lastHour: { from: number; to: number; hour: number } = { from: 0, to: 0, hour: 0 };

  /**
   * Overrides apply to the library's holidays: `remove` drops the library's holiday on a date,
   * then `add` declares a holiday (replacing any library name). A date both added and removed
   * is therefore a holiday: the explicit addition wins. A repeated `add` date keeps the last
   * name. The instrument's own decree changes come first, the configured overrides after them.
   * Without an instrument, the calendar is USD/COP's as shipped.
   */
  constructor(
    overrides: CalendarOverrides = {},
    readonly instrument: Instrument = shippedInstrument('USD/COP'),
  ) {
    this.symbol = instrument.symbol;
    this.zone = instrument.market.zone;
    this.weekdays = new Set(instrument.market.weekdays);
    const rules = instrument.market.holidays;
    for (const date of [...(rules.remove ?? []), ...(overrides.remove ?? [])]) {
      assertDate(date);
      this.removals.add(date);
    }
    for (const { date, name } of [...(rules.add ?? []), ...(overrides.add ?? [])]) {
      assertDate(date);
      if (typeof name !== 'string' || name.trim() === '') throw new RangeError(`Holiday override on ${date} needs a name`);
      this.additions.set(date, name);
    }
  }

  /** A calendar is the book of its own instrument: asked for another, it refuses. */
  of(symbol: SymbolCode): MarketCalendar {
    if (symbol !== this.symbol) throw noCalendar(symbol, [this.symbol]);
    return this;
  }

  all(): MarketCalendar[] {
    return [this];
  }

  /** Bars in a session as the market states its hours (a session's own `barCount` is the truth for that date). */
  nominalBarCount(): number {
    const { open, close, opensDayBefore } = this.instrument.market.session;
    const length = minuteOfDay(close) - minuteOfDay(open) + (opensDayBefore === true ? 24 * 60 : 0);
    return (length * MINUTE_MS) / BAR_MS;
  }

  /** The decree overrides in force, normalised (sorted), e.g. to tell whether a copy of the calendar is stale. */
  overrides(): Required<CalendarOverrides> {
    return {
      add: [...this.additions].sort(([a], [b]) => (a < b ? -1 : 1)).map(([date, name]) => ({ date, name })),
      remove: [...this.removals].sort(),
    };
  }

  /** Session hours as the market states them, in its own zone. */
  sessionHours(): { open: string; close: string; opensDayBefore: boolean; timeZone: string } {
    const { open, close, opensDayBefore = false } = this.instrument.market.session;
    return { open, close, opensDayBefore, timeZone: this.zone };
  }

  /**
   * The instants market dates `from`..`to` (inclusive) span: from the earlier of the first date's
   * midnight in the market's zone and its session's open (a 24-hour week session opens the evening
   * before), to the midnight after `to` (or the later close of `to`'s session); but an evening that
   * belongs to the next date's session (it opens the evening before) is left to that date.
   */
  instantsOfDates(from: IsoDate, to: IsoDate): { from: number; to: number } {
    const start = zonedWallTime(this.zone, from, 0);
    const next = addDays(to, 1);
    const midnight = zonedWallTime(this.zone, next, 0);
    // Past the calendar's last year there is no next session to ask about.
    const nextOpen = inCalendar(Number(next.slice(0, 4))) ? this.sessionFor(next)?.open : undefined;
    const end = Math.min(midnight, nextOpen ?? midnight);
    return { from: Math.min(start, this.sessionFor(from)?.open ?? start), to: Math.max(end, this.sessionFor(to)?.close ?? end) };
  }

  /** The market's calendar date of an instant (its wall date, not necessarily a session's date). */
  localDate(t: number): IsoDate {
    assertInstant(t);
    return zonedDate(this.zone, t);
  }

  /** The market's wall-clock hour of day (0-23) of an instant: any instant, holidays and sessions aside. */
  localHour(t: number): number {
    const last = this.lastHour;
    if (t >= last.from && t < last.to) return last.hour;
    this.lastHour = zonedHour(this.zone, t);
    return this.lastHour.hour;
  }

  isTradingDay(date: IsoDate): boolean {
    return this.entry(date).info.tradingDay;
  }

  /** Whether the market trades on the local date of `t` or has a session open at `t` (the 24-hour week's Monday session opens on Sunday). */
  tradesOnDayOf(t: number): boolean {
    return this.isTradingDay(this.localDate(t)) || this.sessionAt(t) !== null;
  }

  /** The session of a date, or null on days without one (weekends, holidays). */
  sessionFor(date: IsoDate): Session | null {
    return this.entry(date).session;
  }

  /** The open times (epoch ms UTC) of the session's 5-minute bars. */
  barGrid(session: Session): number[] {
    return Array.from({ length: session.barCount }, (_, i) => session.open + i * BAR_MS);
  }

  /** The session whose [open, close) contains `t`. */
  sessionAt(t: number): Session | null {
    const last = this.lastAnswer;
    if (t >= last.from && t < last.to) return last.session;
    assertInstant(t);
    const opened = this.lastOpenedBy(t);
    if (opened !== null && t < opened.close) {
      this.lastAnswer = { from: opened.open, to: opened.close, session: opened };
      return opened;
    }
    // Between sessions: null until the next one opens (at most the calendar's last instant).
    const to = utcYear(t) >= LAST_CALENDAR_YEAR ? t + 1 : this.nextSession(t).open;
    this.lastAnswer = { from: opened?.close ?? t, to, session: null };
    return null;
  }

  isMarketOpen(t: number): boolean {
    return this.sessionAt(t) !== null;
  }

  /** The session open at `t`, or else the next one to open after `t`. */
  nextSession(t: number): Session {
    assertInstant(t);
    const first = utcYear(t) - 1;
    for (let year = Math.max(first, FIRST_CALENDAR_YEAR); year <= first + 3 && inCalendar(year); year++) {
      const found = this.yearTable(year).sessions.find((s) => t < s.close);
      if (found !== undefined) return found;
    }
    throw new Error(`No ${this.symbol} session within ${MAX_DAYS_WITHOUT_SESSION} days after ${new Date(t).toISOString()}`);
  }

  /** The last session that closed at or before `t` (so never the one containing `t`). */
  previousSession(t: number): Session {
    assertInstant(t);
    const first = utcYear(t) + 1;
    for (let year = Math.min(first, LAST_CALENDAR_YEAR); year >= first - 3 && inCalendar(year); year--) {
      const sessions = this.yearTable(year).sessions;
      for (let i = sessions.length - 1; i >= 0; i--) if ((sessions[i] as Session).close <= t) return sessions[i] as Session;
    }
    throw new Error(`No ${this.symbol} session within ${MAX_DAYS_WITHOUT_SESSION} days before ${new Date(t).toISOString()}`);
  }

  /** Sessions from `from` to `to`, both inclusive; empty when `from` is after `to`. */
  sessionsBetween(from: IsoDate, to: IsoDate): Session[] {
    const sessions: Session[] = [];
    for (const entry of this.entriesBetween(from, to)) if (entry.session !== null) sessions.push(entry.session);
    return sessions;
  }

  /** The market's holidays of a year, sorted, one per date, weekend ones included. */
  holidays(year: number): Holiday[] {
    return [...this.yearTable(year).holidays];
  }

  /** Settlement holidays of a year on their observed (weekday) dates: US federal for USD/COP, none elsewhere. */
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
    const entry = this.byDate.get(date);
    if (entry === undefined) throw new Error(`Calendar has no entry for ${date} after building its year`);
    return entry;
  }

  private entriesBetween(from: IsoDate, to: IsoDate): DayEntry[] {
    this.entry(from);
    this.entry(to);
    const entries: DayEntry[] = [];
    for (let date = from; date <= to; date = addDays(date, 1)) entries.push(this.entry(date));
    return entries;
  }

  /**
   * The session with the latest open at or before `t`. Sessions never overlap, so it is the only
   * one that can contain `t`. A session belongs to its date's year but may open in the year
   * before (the 24-hour week), so the neighbouring years are searched too.
   */
  private lastOpenedBy(t: number): Session | null {
    let best: Session | null = null;
    const year = utcYear(t);
    for (const y of [year - 1, year, year + 1]) {
      if (!inCalendar(y)) continue;
      const found = lastOpenedIn(this.yearTable(y).sessions, t);
      if (found !== null && (best === null || found.open > best.open)) best = found;
    }
    return best;
  }

  // -- per-year precomputation -------------------------------------------------------------------

  private yearTable(year: number): YearTable {
    const cached = this.years.get(year);
    if (cached !== undefined) return cached;
    assertYear(year);
    const holidays = Object.freeze(this.marketHolidays(year));
    const usHolidays = Object.freeze(this.instrument.market.settlementHolidays === 'US' ? libraryUsHolidays(year) : []);
    const sessions = Object.freeze(this.indexDays(year, holidays, usHolidays));
    const table: YearTable = { holidays, usHolidays, sessions };
    this.years.set(year, table);
    return table;
  }

  private marketHolidays(year: number): Holiday[] {
    const country = this.instrument.market.holidays.country ?? 'FX';
    const byDate = new Map(libraryHolidays(this.instrument, year).map((h) => [h.date, h]));
    for (const h of fixedHolidays(this.instrument, year)) if (!byDate.has(h.date)) byDate.set(h.date, h);
    for (const date of this.removals) byDate.delete(date);
    for (const [date, name] of this.additions) {
      if (date.startsWith(`${year}-`)) byDate.set(date, holiday(date, name, country, 'override'));
    }
    return [...byDate.values()].sort(byHolidayDate);
  }

  private indexDays(year: number, holidays: readonly Holiday[], usHolidays: readonly Holiday[]): Session[] {
    const closed = new Map(holidays.map((h) => [h.date, h.name]));
    const settlement = new Map(usHolidays.map((h) => [h.date, h.name]));
    const sessions: Session[] = [];
    for (const date of datesBetween(`${year}-01-01`, `${year}-12-31`)) {
      const entry = this.buildDay(date, closed.get(date) ?? null, settlement.get(date) ?? null);
      this.byDate.set(date, entry);
      if (entry.session !== null) sessions.push(entry.session);
    }
    return sessions;
  }

  private buildDay(date: IsoDate, holidayName: string | null, usHoliday: string | null): DayEntry {
    const isoWeekday = weekday(date);
    const tradingDay = this.weekdays.has(isoWeekday) && holidayName === null;
    const nextDaySettlement = tradingDay && usHoliday !== null;
    const info: DayInfo = Object.freeze({ date, weekday: isoWeekday, tradingDay, holiday: holidayName, nextDaySettlement, usHoliday });
    return { info, session: tradingDay ? this.buildSession(date, usHoliday) : null };
  }

  private buildSession(date: IsoDate, usHoliday: string | null): Session {
    const { open: openAt, close: closeAt, opensDayBefore } = this.instrument.market.session;
    const open = wallTime(this.zone, opensDayBefore === true ? addDays(date, -1) : date, openAt);
    const close = wallTime(this.zone, date, closeAt);
    assertSessionShape(this.symbol, date, open, close);
    return Object.freeze({ date, open, close, barCount: (close - open) / BAR_MS, nextDaySettlement: usHoliday !== null, usHoliday });
  }
}

function wallTime(zone: string, date: IsoDate, hhmm: string): number {
  return zonedWallTime(zone, date, 0, minuteOfDay(hhmm));
}

/** The bar grid needs sessions on 5-minute UTC boundaries and a positive length; fail loudly if tzdata ever says otherwise. */
function assertSessionShape(symbol: SymbolCode, date: IsoDate, open: number, close: number): void {
  if (open % BAR_MS !== 0 || close % BAR_MS !== 0 || close <= open || close - open > DAY_MS + 60 * MINUTE_MS) {
    throw new Error(`Session of ${symbol} on ${date} (${open}..${close}) breaks the calendar's bar grid`);
  }
}

function lastOpenedIn(sessions: readonly Session[], t: number): Session | null {
  let lo = 0;
  let hi = sessions.length - 1;
  let found: Session | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = sessions[mid] as Session;
    if (s.open <= t) {
      found = s;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

function noCalendar(symbol: SymbolCode, known: readonly SymbolCode[]): TasaError {
  return new TasaError('bad_argument', `No market calendar for "${symbol}"; calendars exist for ${known.join(', ')}.`, { input: symbol });
}

// ---------------------------------------------------------------------------------------------
// The calendars of several instruments
// ---------------------------------------------------------------------------------------------

/** The calendars of the configured instruments, each built once. */
export class CalendarSet implements Calendars {
  private readonly bySymbol: ReadonlyMap<SymbolCode, MarketCalendar>;

  constructor(calendars: readonly MarketCalendar[]) {
    this.bySymbol = new Map(calendars.map((c) => [c.symbol, c]));
  }

  of(symbol: SymbolCode): MarketCalendar {
    const calendar = this.bySymbol.get(symbol);
    if (calendar === undefined) throw noCalendar(symbol, [...this.bySymbol.keys()]);
    return calendar;
  }

  all(): MarketCalendar[] {
    return [...this.bySymbol.values()];
  }
}

/** The session (trade) date a bar or tick at `t` belongs to; the market's own date outside sessions. */
export function sessionDateOf(calendar: MarketCalendar, t: number): IsoDate {
  return calendar.sessionAt(t)?.date ?? calendar.localDate(t);
}

const instrumentCalendars = new Map<SymbolCode, MarketCalendar>();

/**
 * A configured instrument's calendar without decree overrides, built once per symbol: for pure
 * code that knows only a symbol and needs its market's hours of day, which no override moves
 * (and `runBacktest`'s default, USD/COP's: its session dates are its Bogota dates, overrides or not).
 */
export function instrumentCalendar(symbol: SymbolCode): MarketCalendar {
  let calendar = instrumentCalendars.get(symbol);
  if (calendar === undefined) {
    calendar = new MarketCalendar({}, instrumentOf(symbol));
    instrumentCalendars.set(symbol, calendar);
  }
  return calendar;
}

/** True when any of the symbols' markets is open at `t`. */
export function anyMarketOpen(calendars: Calendars, symbols: readonly SymbolCode[], t: number): boolean {
  return symbols.some((symbol) => calendars.of(symbol).isMarketOpen(t));
}

/** The earliest session (open or next) among the symbols' markets at `t`. */
export function nextSessionOfAny(calendars: Calendars, symbols: readonly SymbolCode[], t: number): Session {
  const sessions = symbols.map((symbol) => calendars.of(symbol).nextSession(t));
  return sessions.reduce((a, b) => (b.open < a.open ? b : a));
}
