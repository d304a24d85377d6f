/**
 * Indicators over API candles, one rule for both routes that serve them (GET
 * /api/candlesticks/{symbol}?indicators= and GET /api/candlesticks/{symbol}/indicators): the
 * indicator names a request may ask for, and the values over a page of candles of any interval,
 * warmed up on up to WARMUP_FACTOR times the longest warm-up in earlier candles of the same
 * interval and provenance (so consecutive pages agree; at 1min those come from the stored ticks,
 * as the page's do). Each provenance segment (real or simulated) is computed apart: the
 * indicators restart where the provenance changes. NaN before warm-up becomes null.
 */
import type { CandlestickInterval } from '../contracts/candle-intervals.ts';
import type { MarketCalendar } from '../domain/calendar.ts';
import { provenanceSegments, type Candle } from '../domain/resample.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { TasaError } from '../errors.ts';
import { WARMUP, computeIndicators } from '../research/indicators.ts';
import { INDICATOR_NAMES, type IndicatorName, type IndicatorRow } from '../research/types.ts';
import type { Db } from '../store/db.ts';
import { loadCandles } from './candle-query.ts';

/** EMAs never forget: five times the longest warm-up makes a page's first values agree with the page before it to well under a centavo. */
const WARMUP_FACTOR = 5;

export type IndicatorValues = Record<string, number | null>;

/** The distinct names of a comma-separated list; a clear error names the unknown ones, or says none was given, with the available names. */
export function parseIndicatorNames(value: string): IndicatorName[] {
  const names = [...new Set(value.split(',').map((s) => s.trim()))].filter((n) => n !== '');
  const unknown = names.filter((n) => !(INDICATOR_NAMES as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new TasaError('bad_argument', `Unknown indicator ${unknown.join(', ') || '(none given)'}; available: ${INDICATOR_NAMES.join(', ')}.`, { input: `indicators=${value}` });
  }
  return names as IndicatorName[];
}

/** For each of `candles` (in time order, of `interval`), the named indicators' values (null until warmed up). */
export async function indicatorValues(
  db: Db,
  calendar: MarketCalendar,
  symbol: SymbolCode,
  interval: CandlestickInterval,
  candles: readonly Candle[],
  names: readonly IndicatorName[],
): Promise<IndicatorValues[]> {
  const first = candles[0];
  if (first === undefined) return [];
  const limit = WARMUP_FACTOR * Math.max(...names.map((n) => WARMUP[n]));
  // Warm-up candles only feed the indicators, which do not read `complete`: `now` is their end.
  const earlier = (await loadCandles(db, calendar, { symbol, interval, from: null, to: first.time, limit, now: first.time })).candles;
  return indicatorRows(candles, earlier).map((row) => Object.fromEntries(names.map((n) => [n, Number.isFinite(row[n]) ? row[n] : null])));
}

/**
 * The indicator rows of `candles`, each provenance segment computed apart; the first one warmed up
 * on the trailing `earlier` candles of its own provenance (back to the last one of the other).
 */
function indicatorRows(candles: readonly Candle[], earlier: readonly Candle[]): IndicatorRow[] {
  const rows: IndicatorRow[] = [];
  let start = 0;
  for (const segment of provenanceSegments(candles)) {
    const warmup = start === 0 ? earlier.slice(earlier.findLastIndex((c) => c.simulated !== segment.simulated) + 1) : [];
    rows.push(...computeIndicators([...warmup, ...candles.slice(start, start + segment.candles)]).slice(warmup.length));
    start += segment.candles;
  }
  return rows;
}
