/**
 * L3: the feature table, one row per bar, computed from the series and its indicator rows.
 * Pure: no I/O. Every feature at row t reads rows <= t only (test/research/features.test.ts
 * perturbs every later bar and checks the row is bit-identical).
 *
 * Conventions:
 * - "k bars back" means k rows back in the series (bars present), across sessions like the
 *   indicators: a session's first rows see the previous session's last bars, so `ret_1` at a
 *   session's first bar is the overnight return. A gap inside a session is not filled.
 * - r_t = ln(close_t / close_(t-1)), the 1-bar log return (NaN on the series' first row).
 * - Features that stay inside a session say so: `ret_prev_close` (vs the previous session's
 *   last close, NaN in the series' first session), `rv_session`, `bar_of_session`.
 * - Rolling statistics are over the last w values of r (rows t-w+1..t) and NaN until all w
 *   exist; std is the population std (divide by w). Undefined values are NaN, never 0.
 *
 * The default columns (see `featureNames`):
 *   ret_1 ret_2 ret_5 ret_12      ln(close_t / close_(t-k))
 *   ret_prev_close                 ln(close_t / last close of the previous session in the series)
 *   ret_{mean,std,min,max}_{6,12,30}  rolling statistics of r
 *   mom_5 mom_12                   close_t / close_(t-k) - 1
 *   dist_ema20 dist_ema50          (close - ema) / close
 *   bb_position                    (close - bbLower) / (bbUpper - bbLower); NaN on a zero-width band
 *   bb_width                       (bbUpper - bbLower) / close; a width below 1e-9 of close counts as zero
 *   rsi_scaled                     (rsi14 - 50) / 50, in [-1, 1]
 *   macd_hist_rel                  macdHistogram / close
 *   atr_rel                        atr14 / close
 *   bar_of_session                 1..60 (the slot, from the calendar's open)
 *   day_of_week                    1 = Monday .. 5 = Friday, of the session date
 *   rv_session                     sqrt(sum of r^2 over the session's bars after its first); NaN at the first bar
 *   rv_12                          sqrt(sum of r^2 over the last 12 rows)
 */
import type { IsoDate } from '../domain/time.ts';
import { weekday } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import { indicatorColumn } from './indicators.ts';
import { assertSeries, sessionRanges, type SessionRange } from './series.ts';
import type { FeatureTable, IndicatorRow, SeriesBar } from './types.ts';

export interface FeatureOptions {
  /** k of the k-bar log returns `ret_k` (default 1, 2, 5, 12). */
  returnHorizons?: readonly number[];
  /** w of the rolling statistics of r (default 6, 12, 30). */
  rollingWindows?: readonly number[];
  /** k of the momentum features `mom_k` (default 5, 12). */
  momentumHorizons?: readonly number[];
  /** Rows in the trailing realized volatility `rv_w` (default 12). */
  realizedVolWindow?: number;
}

interface ResolvedOptions {
  returnHorizons: readonly number[];
  rollingWindows: readonly number[];
  momentumHorizons: readonly number[];
  realizedVolWindow: number;
}

const DEFAULTS: ResolvedOptions = Object.freeze({
  returnHorizons: Object.freeze([1, 2, 5, 12]),
  rollingWindows: Object.freeze([6, 12, 30]),
  momentumHorizons: Object.freeze([5, 12]),
  realizedVolWindow: 12,
});

const INDICATOR_FEATURES = ['dist_ema20', 'dist_ema50', 'bb_position', 'bb_width', 'rsi_scaled', 'macd_hist_rel', 'atr_rel'] as const;
const ROLLING_STATS = ['mean', 'std', 'min', 'max'] as const;

function resolve(opts: FeatureOptions = {}): ResolvedOptions {
  const resolved: ResolvedOptions = {
    returnHorizons: opts.returnHorizons ?? DEFAULTS.returnHorizons,
    rollingWindows: opts.rollingWindows ?? DEFAULTS.rollingWindows,
    momentumHorizons: opts.momentumHorizons ?? DEFAULTS.momentumHorizons,
    realizedVolWindow: opts.realizedVolWindow ?? DEFAULTS.realizedVolWindow,
  };
  const all = [...resolved.returnHorizons, ...resolved.rollingWindows, ...resolved.momentumHorizons, resolved.realizedVolWindow];
  for (const k of all) {
    if (!Number.isInteger(k) || k < 1) throw new TasaError('bad_argument', `Feature horizons and windows must be integers >= 1, got ${k}.`, { input: String(k) });
  }
  return resolved;
}

/** The column names `computeFeatures` produces with these options, in order. */
export function featureNames(opts?: FeatureOptions): string[] {
  const o = resolve(opts);
  const names = [
    ...o.returnHorizons.map((k) => `ret_${k}`),
    'ret_prev_close',
    ...o.rollingWindows.flatMap((w) => ROLLING_STATS.map((stat) => `ret_${stat}_${w}`)),
    ...o.momentumHorizons.map((k) => `mom_${k}`),
    ...INDICATOR_FEATURES,
    'bar_of_session',
    'day_of_week',
    'rv_session',
    `rv_${o.realizedVolWindow}`,
  ];
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) throw new TasaError('bad_argument', `Feature options repeat a horizon or window: ${repeated} would appear twice.`, { input: repeated });
  return names;
}

/** The feature table of `series`; `indicators` must be `computeIndicators(series)` (same rows). */
export function computeFeatures(series: readonly SeriesBar[], indicators: readonly IndicatorRow[], opts?: FeatureOptions): FeatureTable {
  const o = resolve(opts);
  assertSeries(series);
  assertAligned(series, indicators);
  const n = series.length;
  const close = new Float64Array(n);
  for (let i = 0; i < n; i++) close[i] = series[i]!.close;
  const r = logReturns(close, 1);
  const ranges = sessionRanges(series);

  const columns: Float64Array[] = [
    ...o.returnHorizons.map((k) => logReturns(close, k)),
    returnVsPreviousSession(close, ranges),
    ...o.rollingWindows.flatMap((w) => rollingStats(r, w)),
    ...o.momentumHorizons.map((k) => momentum(close, k)),
    ...indicatorFeatures(close, indicators),
    calendarColumn(series, (bar) => bar.barOfSession),
    dayOfWeek(series),
    sessionRealizedVol(r, ranges),
    trailingRealizedVol(r, o.realizedVolWindow),
  ];
  const sessions: IsoDate[] = new Array<IsoDate>(n);
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    sessions[i] = series[i]!.session;
    times[i] = series[i]!.time;
  }
  return { names: featureNames(opts), times, sessions, columns };
}

function assertAligned(series: readonly SeriesBar[], indicators: readonly IndicatorRow[]): void {
  if (indicators.length !== series.length) {
    throw new TasaError('bad_argument', `computeFeatures got ${indicators.length} indicator rows for ${series.length} bars; they must be aligned.`, { input: 'indicators' });
  }
  for (let i = 0; i < series.length; i++) {
    if (indicators[i]!.time !== series[i]!.time) {
      throw new TasaError('bad_argument', `Indicator row ${i} is for ${new Date(indicators[i]!.time).toISOString()}, not its bar's ${new Date(series[i]!.time).toISOString()}.`, {
        input: `indicators[${i}]`,
      });
    }
  }
}

/** ln(close_t / close_(t-k)), NaN for t < k. */
function logReturns(close: Float64Array, k: number): Float64Array {
  const out = new Float64Array(close.length).fill(NaN);
  for (let t = k; t < close.length; t++) out[t] = Math.log(close[t]! / close[t - k]!);
  return out;
}

function momentum(close: Float64Array, k: number): Float64Array {
  const out = new Float64Array(close.length).fill(NaN);
  for (let t = k; t < close.length; t++) out[t] = close[t]! / close[t - k]! - 1;
  return out;
}

function returnVsPreviousSession(close: Float64Array, ranges: readonly SessionRange[]): Float64Array {
  const out = new Float64Array(close.length).fill(NaN);
  for (let j = 1; j < ranges.length; j++) {
    const previousClose = close[ranges[j - 1]!.end - 1]!;
    for (let t = ranges[j]!.start; t < ranges[j]!.end; t++) out[t] = Math.log(close[t]! / previousClose);
  }
  return out;
}

/** Mean, population std, min and max of r over rows t-w+1..t; NaN until those w values all exist. */
function rollingStats(r: Float64Array, w: number): Float64Array[] {
  const n = r.length;
  const [mean, std, min, max] = [0, 1, 2, 3].map(() => new Float64Array(n).fill(NaN)) as [Float64Array, Float64Array, Float64Array, Float64Array];
  // r[0] is NaN, so the first full window ends at row w. Each window is summed afresh: no running
  // sums whose rounding would depend on how far back the series starts.
  for (let t = w; t < n; t++) {
    let sum = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = t - w + 1; i <= t; i++) {
      const x = r[i]!;
      sum += x;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    const m = sum / w;
    let squares = 0;
    for (let i = t - w + 1; i <= t; i++) squares += (r[i]! - m) ** 2;
    mean[t] = m;
    std[t] = Math.sqrt(squares / w);
    min[t] = lo;
    max[t] = hi;
  }
  return [mean, std, min, max];
}

function indicatorFeatures(close: Float64Array, indicators: readonly IndicatorRow[]): Float64Array[] {
  const n = close.length;
  const ema20 = indicatorColumn(indicators, 'ema20');
  const ema50 = indicatorColumn(indicators, 'ema50');
  const upper = indicatorColumn(indicators, 'bbUpper');
  const lower = indicatorColumn(indicators, 'bbLower');
  const rsi = indicatorColumn(indicators, 'rsi14');
  const histogram = indicatorColumn(indicators, 'macdHistogram');
  const atr = indicatorColumn(indicators, 'atr14');
  const out = INDICATOR_FEATURES.map(() => new Float64Array(n));
  const [distEma20, distEma50, bbPosition, bbWidth, rsiScaled, macdHist, atrRel] = out as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  for (let t = 0; t < n; t++) {
    const c = close[t]!;
    const width = bandWidth(upper[t]!, lower[t]!, c);
    distEma20[t] = (c - ema20[t]!) / c;
    distEma50[t] = (c - ema50[t]!) / c;
    // A zero-width band (20 equal closes) has no position inside it: NaN (NaN inputs stay NaN).
    bbPosition[t] = width > 0 ? (c - lower[t]!) / width : NaN;
    bbWidth[t] = width / c;
    rsiScaled[t] = (rsi[t]! - 50) / 50;
    macdHist[t] = histogram[t]! / c;
    atrRel[t] = atr[t]! / c;
  }
  return out;
}

/**
 * Below this fraction of the price a band width is rounding noise, not volatility: over 20 equal
 * closes the library's running sums can leave a width of 3.6e-12 at 3,917.83 (1e-15 of the price),
 * where a real band is at least ~2e-6 of it (one 0.01 COP move in 20 bars).
 */
const ZERO_BAND_WIDTH = 1e-9;

/** bbUpper - bbLower, 0 when within rounding noise of zero (NaN stays NaN). */
function bandWidth(upper: number, lower: number, close: number): number {
  const width = upper - lower;
  return width < ZERO_BAND_WIDTH * close ? 0 : width;
}

function calendarColumn(series: readonly SeriesBar[], value: (bar: SeriesBar) => number): Float64Array {
  const out = new Float64Array(series.length);
  for (let t = 0; t < series.length; t++) out[t] = value(series[t]!);
  return out;
}

function dayOfWeek(series: readonly SeriesBar[]): Float64Array {
  const cache = new Map<IsoDate, number>();
  return calendarColumn(series, (bar) => {
    let day = cache.get(bar.session);
    if (day === undefined) cache.set(bar.session, (day = weekday(bar.session)));
    return day;
  });
}

/** sqrt(sum of r^2) over the session's rows after its first, up to t; NaN at the session's first row. */
function sessionRealizedVol(r: Float64Array, ranges: readonly SessionRange[]): Float64Array {
  const out = new Float64Array(r.length).fill(NaN);
  for (const { start, end } of ranges) {
    let squares = 0;
    for (let t = start + 1; t < end; t++) {
      squares += r[t]! * r[t]!;
      out[t] = Math.sqrt(squares);
    }
  }
  return out;
}

/** sqrt(sum of r^2 over rows t-w+1..t); NaN until those w returns exist. */
function trailingRealizedVol(r: Float64Array, w: number): Float64Array {
  const out = new Float64Array(r.length).fill(NaN);
  for (let t = w; t < r.length; t++) {
    let squares = 0;
    for (let i = t - w + 1; i <= t; i++) squares += r[i]! * r[i]!;
    out[t] = Math.sqrt(squares);
  }
  return out;
}
