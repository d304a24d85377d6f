/**
 * Instruments: what Tasa knows about each symbol it can serve, as data. The shipped list is
 * `instruments.json`; the composition root may replace it once at start-up with the file named
 * by TASA_INSTRUMENTS (`useInstruments`), before any symbol is read. The canonical symbol form is
 * TwelveData's `BASE/QUOTE`, e.g. `USD/COP`. Pure: no I/O.
 */
import { TasaError } from '../errors.ts';
import SHIPPED from './instruments.json' with { type: 'json' };
import { isIsoDate, isKnownZone, minuteOfDay } from './time.ts';
import HOLIDAY_COUNTRIES from './holiday-countries.json' with { type: 'json' };

export type SymbolCode = string;

export interface InstrumentInfo {
  symbol: SymbolCode;
  base: string;
  quote: string;
  /** Smallest price increment shown; USD/COP quotes in hundredths of a peso. */
  decimals: number;
}

/** A session in the market's own wall time; `opensDayBefore` when it opens the evening before its date (the 24-hour FX week). */
export interface SessionHours {
  open: string;
  close: string;
  opensDayBefore?: boolean;
}

/** Which holidays close the market: a `date-holidays` country's (of the listed types, plus the named ones) and fixed dates. */
export interface HolidayRules {
  country?: string;
  /** The language of the holiday names, e.g. `es`. */
  language?: string;
  /** The library's holiday types that close the market, e.g. `public`, `bank`. */
  types?: string[];
  /** Library holidays of other types that close it too (by their name in `language`). */
  alsoNamed?: string[];
  /** Library holidays that do not close it (by their name in `language`), e.g. a rule the library has wrong. */
  excludeNamed?: string[];
  /** Fixed closures every year, `MM-DD`. */
  fixed?: Array<{ monthDay: string; name: string }>;
  /** Decree changes: holidays added on a date, and library holidays removed. */
  add?: Array<{ date: string; name: string }>;
  remove?: string[];
}

export interface MarketRules {
  name: string;
  /** IANA zone of the market: sessions, dates and displayed times are in it. */
  zone: string;
  session: SessionHours;
  /** ISO weekdays (1 = Monday) of the session dates. */
  weekdays: number[];
  holidays: HolidayRules;
  /** A country whose holidays do not close the market but delay settlement (USD/COP: US). */
  settlementHolidays?: string;
}

export interface InstrumentCosts {
  spreadBps: number;
  feeBps: number;
  slippageBps: number;
}

export interface Instrument extends InstrumentInfo {
  /**
   * Prices outside [min, max] (quote units per base unit) are not this instrument's: a unit
   * error, a corrupt field, a wrong symbol. Imports reject such rows and live validation such ticks.
   */
  priceBand: { min: number; max: number };
  market: MarketRules;
  /** The research defaults: half-spread, fee and slippage in basis points. */
  costs: InstrumentCosts;
}

// Declared before SHIPPED_INSTRUMENTS: validating the shipped file at load time reads them.
const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const MONTH_DAY = /^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const CURRENCY = /^[A-Z]{3}$/;

const SHIPPED_INSTRUMENTS: readonly Instrument[] = validateInstruments(SHIPPED, 'src/domain/instruments.json');
let configured: readonly Instrument[] = SHIPPED_INSTRUMENTS;

/** An instrument as shipped, whatever TASA_INSTRUMENTS says (tests and defaults that mean USD/COP as such). */
export function shippedInstrument(symbol: SymbolCode): Instrument {
  const found = SHIPPED_INSTRUMENTS.find((i) => i.symbol === symbol);
  if (found === undefined) throw unknownSymbol(symbol);
  return found;
}

/** The configured instruments, in file order. */
export function instruments(): readonly Instrument[] {
  return configured;
}

/** Replaces the instruments (TASA_INSTRUMENTS); called once by the composition root before anything reads a symbol. */
export function useInstruments(list: readonly Instrument[]): void {
  configured = list;
}

/** The configured instrument of `symbol`, or undefined when none is configured. */
export function findInstrument(symbol: string): Instrument | undefined {
  return configured.find((i) => i.symbol === symbol);
}

export function instrumentOf(symbol: SymbolCode): Instrument {
  const found = findInstrument(symbol);
  if (found === undefined) throw unknownSymbol(symbol);
  return found;
}

/** Why `price` cannot be a price of `symbol` (outside its band), or null; null for an unknown symbol. */
export function priceBandViolation(symbol: SymbolCode, price: number): string | null {
  const band = findInstrument(symbol)?.priceBand;
  if (band === undefined || (price >= band.min && price <= band.max)) return null;
  const n = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 6 });
  return `${price} is outside the plausible band of ${symbol}, ${n(band.min)}-${n(band.max)}`;
}

/** Accepts `USD/COP`, `USDCOP`, `usd-cop`, `USD_COP`; returns the canonical `USD/COP` or throws. */
export function normalizeSymbol(input: string): SymbolCode {
  const letters = input.trim().toUpperCase().replace(/[/_\-\s]/g, '');
  const match = configured.find((i) => i.base + i.quote === letters);
  if (!match) throw unknownSymbol(input);
  return match.symbol;
}

function unknownSymbol(input: string): TasaError {
  return new TasaError('bad_argument', `Unknown symbol "${input}"; known symbols: ${configured.map((i) => i.symbol).join(', ')}.`, { input });
}

// ---------------------------------------------------------------------------------------------
// Validation of an instruments file: every field checked, each error naming where it is
// ---------------------------------------------------------------------------------------------


type Check = (ok: boolean, what: string) => void;

/** A parsed instruments file as instruments, or a `bad_argument` error saying which entry and field is wrong. */
export function validateInstruments(input: unknown, source: string): Instrument[] {
  if (!Array.isArray(input) || input.length === 0) throw badFile(source, 'expected a non-empty array of instruments');
  const list = input.map((entry: unknown, i) => validateInstrument(entry, (ok, what) => {
    if (!ok) throw badFile(source, `instrument ${i + 1}${symbolHint(entry)}: ${what}`);
  }));
  const seen = new Set<string>();
  for (const { symbol } of list) {
    if (seen.has(symbol)) throw badFile(source, `${symbol} is listed twice`);
    seen.add(symbol);
  }
  return list;
}

function symbolHint(entry: unknown): string {
  const symbol = (entry as { symbol?: unknown } | null)?.symbol;
  return typeof symbol === 'string' ? ` (${symbol})` : '';
}

function badFile(source: string, what: string): TasaError {
  return new TasaError('bad_argument', `${source}: ${what}.`, { input: source });
}

function validateInstrument(entry: unknown, check: Check): Instrument {
  check(isRecord(entry), 'expected an object');
  const e = entry as Record<string, unknown>;
  check(typeof e.base === 'string' && CURRENCY.test(e.base), '"base" must be a three-letter currency code such as USD');
  check(typeof e.quote === 'string' && CURRENCY.test(e.quote), '"quote" must be a three-letter currency code such as COP');
  check(e.symbol === `${String(e.base)}/${String(e.quote)}`, '"symbol" must be "BASE/QUOTE", e.g. "USD/COP"');
  check(Number.isInteger(e.decimals) && (e.decimals as number) >= 0 && (e.decimals as number) <= 8, '"decimals" must be an integer from 0 to 8');
  const band = e.priceBand as { min?: unknown; max?: unknown } | undefined;
  check(isRecord(band) && isPositive(band.min) && isPositive(band.max) && (band.min as number) < (band.max as number), '"priceBand" must be {"min","max"} with 0 < min < max');
  const costs = e.costs as Record<string, unknown> | undefined;
  check(isRecord(costs) && ['spreadBps', 'feeBps', 'slippageBps'].every((k) => isBps(costs[k])), '"costs" must give spreadBps, feeBps and slippageBps, each from 0 to 10000');
  const market = validateMarket(e.market, check);
  return {
    symbol: e.symbol as string,
    base: e.base as string,
    quote: e.quote as string,
    decimals: e.decimals as number,
    priceBand: { min: band?.min as number, max: band?.max as number },
    market,
    costs: { spreadBps: costs?.spreadBps as number, feeBps: costs?.feeBps as number, slippageBps: costs?.slippageBps as number },
  };
}

function validateMarket(input: unknown, check: Check): MarketRules {
  check(isRecord(input), '"market" must be an object');
  const m = input as Record<string, unknown>;
  check(typeof m.name === 'string' && m.name.trim() !== '', '"market.name" must be a non-empty string');
  check(typeof m.zone === 'string' && isKnownZone(m.zone), '"market.zone" must be an IANA time zone such as America/Bogota');
  const s = m.session as Record<string, unknown> | undefined;
  check(isRecord(s) && isHhMm(s.open) && isHhMm(s.close), '"market.session" must be {"open":"HH:MM","close":"HH:MM"}');
  const opensDayBefore = s?.opensDayBefore === true;
  check(s?.opensDayBefore === undefined || typeof s.opensDayBefore === 'boolean', '"market.session.opensDayBefore" must be true or false');
  check(opensDayBefore || String(s?.open) < String(s?.close), '"market.session" must open before it closes (or set "opensDayBefore")');
  check(minuteOfDay(String(s?.open)) % 5 === 0 && minuteOfDay(String(s?.close)) % 5 === 0, '"market.session" must open and close on the 5-minute bar grid');
  const weekdays = m.weekdays;
  check(Array.isArray(weekdays) && weekdays.length > 0 && weekdays.every((d) => Number.isInteger(d) && d >= 1 && d <= 7), '"market.weekdays" must list ISO weekdays, 1 (Monday) to 7');
  check(m.settlementHolidays === undefined || m.settlementHolidays === 'US', '"market.settlementHolidays" can only be "US" (US federal holidays: next-day settlement, as USD/COP has)');
  check(!opensDayBefore || String(s?.open) >= String(s?.close), '"market.session" with "opensDayBefore" must open at or after its close time of day (at most 24 hours)');
  return {
    name: m.name as string,
    zone: m.zone as string,
    session: { open: s?.open as string, close: s?.close as string, ...(opensDayBefore ? { opensDayBefore } : {}) },
    weekdays: [...(weekdays as number[])],
    holidays: validateHolidays(m.holidays, check),
    ...(m.settlementHolidays === undefined ? {} : { settlementHolidays: m.settlementHolidays as string }),
  };
}

function validateHolidays(input: unknown, check: Check): HolidayRules {
  check(isRecord(input), '"market.holidays" must be an object');
  const h = input as Record<string, unknown>;
  check(h.country === undefined || (typeof h.country === 'string' && HOLIDAY_COUNTRIES.includes(h.country)), `"market.holidays.country" must be one of the countries whose holiday rules are kept: ${HOLIDAY_COUNTRIES.join(', ')} (src/domain/holiday-countries.json)`);
  for (const key of ['types', 'alsoNamed', 'excludeNamed', 'remove'] as const) {
    check(h[key] === undefined || (Array.isArray(h[key]) && (h[key] as unknown[]).every((x) => typeof x === 'string')), `"market.holidays.${key}" must be an array of strings`);
  }
  check(h.remove === undefined || (h.remove as string[]).every(isIsoDate), '"market.holidays.remove" must list dates as YYYY-MM-DD');
  check(h.fixed === undefined || (Array.isArray(h.fixed) && h.fixed.every((f: unknown) => isRecord(f) && isMonthDay(f.monthDay) && isName(f.name))), '"market.holidays.fixed" must be [{"monthDay":"MM-DD","name":"..."}] with real days (a leap year counts)');
  check(h.add === undefined || (Array.isArray(h.add) && h.add.every((a: unknown) => isRecord(a) && typeof a.date === 'string' && isIsoDate(a.date) && isName(a.name))), '"market.holidays.add" must be [{"date":"YYYY-MM-DD","name":"..."}]');
  return { ...(h as HolidayRules) };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isPositive(x: unknown): boolean {
  return typeof x === 'number' && Number.isFinite(x) && x > 0;
}

function isBps(x: unknown): boolean {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 10_000;
}

function isMonthDay(x: unknown): boolean {
  return typeof x === 'string' && MONTH_DAY.test(x) && isIsoDate(`2024-${x}`);
}

function isName(x: unknown): boolean {
  return typeof x === 'string' && x.trim() !== '';
}

function isHhMm(x: unknown): boolean {
  return typeof x === 'string' && HH_MM.test(x);
}
