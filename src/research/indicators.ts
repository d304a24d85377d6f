/**
 * L2: technical indicators over a research series, batch and streaming, on `trading-signals` 8.3.
 * Pure: no I/O.
 *
 * Overnight rule (types.ts): the indicators run straight across sessions; the first bar of a
 * session follows the previous session's last bar as one ordinary step (so its true range and
 * RSI change include the overnight gap). Rows are bars present: a missing bar is not filled.
 *
 * Each indicator, how the library seeds it, and its warm-up (`WARMUP`: the number of bars before
 * its first value; earlier rows are NaN, never 0):
 * - sma10, sma20: plain mean of the last N closes. First value at bar N.
 * - ema20, ema50: k = 2 / (N + 1), seeded with the FIRST close (EMA_0 = close_0, not an SMA of the
 *   first N), EMA_t = k·close_t + (1 - k)·EMA_(t-1). The library reports it from bar N on.
 * - rsi14 (Wilder): gains/losses of close-to-close changes, each averaged by the library's WSMA:
 *   the mean of the first 14 changes, then avg += (x - avg) / 14. RSI = 100 - 100 / (1 + G/L);
 *   100 when L = 0 < G. The first change needs two bars, so the first value is at bar 15.
 *   Where G = L = 0 (every change so far was zero, e.g. a series opening on flat prices) RSI is
 *   0/0: NaN here, where the library would say 100. That is why it is built from the library's
 *   WSMA rather than its RSI class; otherwise the two agree.
 * - macd (12, 26, 9): EMA12 - EMA26 of closes (both seeded with the first close), from bar 26.
 *   macdSignal = EMA9 of macd seeded with the first macd value (bar 26) and reported once it has
 *   9 values, i.e. from bar 34; macdHistogram = macd - macdSignal from bar 34. (The library's MACD
 *   returns a signal from bar 26, equal to macd at first; we hide it until its EMA is stable.)
 * - bbMiddle/bbUpper/bbLower (20, 2): SMA20 ± 2 population standard deviations (divide by N) of
 *   the last 20 closes. First value at bar 20.
 * - atr14 (Wilder): true range = max(high - low, |high - prevClose|, |low - prevClose|), and
 *   high - low on the series' first bar (no previous close); the mean of the first 14 true
 *   ranges, then avg += (tr - avg) / 14. First value at bar 14.
 *
 * Two implementations of the same definitions: the batch one (`computeIndicatorColumns`, one
 * Float64Array pass per indicator, computing only the indicators asked for) and the streaming one
 * (`IndicatorState`, on the library, for live bars that are revised). The batch one repeats the
 * library's arithmetic operation for operation (window sums from 0 in bar order, EMA as
 * x·k + prev·(1 - k), Wilder as (x - avg)·(1/N) + avg), so the two agree to the last bit; the tests
 * check each column against the library's classes.
 */
import { ATR, BollingerBands, EMA, MACD, SMA, WSMA } from 'trading-signals';
import { ohlcViolation } from '../domain/bar.ts';
import { TasaError } from '../errors.ts';
import { INDICATOR_NAMES, type IndicatorName, type IndicatorRow, type SeriesBar } from './types.ts';

/** Bars an indicator needs before its first value (its first non-NaN row is WARMUP - 1). */
export const WARMUP: Readonly<Record<IndicatorName, number>> = Object.freeze({
  ema20: 20,
  ema50: 50,
  sma10: 10,
  sma20: 20,
  rsi14: 15,
  macd: 26,
  macdSignal: 34,
  macdHistogram: 34,
  bbUpper: 20,
  bbMiddle: 20,
  bbLower: 20,
  atr14: 14,
});

/** What the indicators read from a bar. */
export type IndicatorInput = Pick<SeriesBar, 'time' | 'open' | 'high' | 'low' | 'close'>;

const RSI_PERIOD = 14;

/**
 * Wilder's RSI from the library's WSMA of gains and losses, with replace() support: a revision
 * of the latest bar recomputes its change against the bar before it.
 */
class WilderRsi {
  private readonly gains = new WSMA(RSI_PERIOD);
  private readonly losses = new WSMA(RSI_PERIOD);
  /** Close of the bar before the latest, and of the latest. */
  private before: number | undefined;
  private latest: number | undefined;

  update(close: number, replace: boolean): number {
    if (!replace) this.before = this.latest;
    this.latest = close;
    if (this.before === undefined) return NaN;
    const change = close - this.before;
    const gain = this.gains.update(change > 0 ? change : 0, replace);
    const loss = this.losses.update(change < 0 ? -change : 0, replace);
    if (gain === null || loss === null) return NaN;
    if (loss === 0) return gain === 0 ? NaN : 100;
    return 100 - 100 / (1 + gain / loss);
  }
}

/**
 * The indicators of one series, fed bar by bar. `add` appends the next bar; `replace` revises the
 * latest one (a live bar updated before it closes) and returns the row as if that bar had been
 * added with its new values. Both return a fresh row.
 */
export class IndicatorState {
  private readonly ema20 = new EMA(20);
  private readonly ema50 = new EMA(50);
  private readonly sma10 = new SMA(10);
  private readonly sma20 = new SMA(20);
  private readonly rsi = new WilderRsi();
  private readonly macd = new MACD(new EMA(12), new EMA(26), new EMA(9));
  private readonly bands = new BollingerBands(20, 2);
  private readonly atr = new ATR(14);
  private lastTime: number | undefined;

  /** Bars added so far (a replace does not count). */
  count = 0;

  add(bar: IndicatorInput): IndicatorRow {
    assertNextBar(bar, this.lastTime);
    this.lastTime = bar.time;
    this.count++;
    return this.update(bar, false);
  }

  /** Revises the latest bar (same open time); before any bar, it is an add. */
  replace(bar: IndicatorInput): IndicatorRow {
    if (this.lastTime === undefined) return this.add(bar);
    if (bar.time !== this.lastTime) {
      throw new TasaError('bad_input', `A replaced bar must keep the latest bar's time ${new Date(this.lastTime).toISOString()}, got ${new Date(bar.time).toISOString()}.`, {
        input: new Date(bar.time).toISOString(),
      });
    }
    assertPrices(bar);
    return this.update(bar, true);
  }

  private update(bar: IndicatorInput, replace: boolean): IndicatorRow {
    const close = bar.close;
    const ema20 = this.ema20.update(close, replace);
    const ema50 = this.ema50.update(close, replace);
    const macd = this.macd.update(close, replace);
    const signalReady = macd !== null && this.macd.signal.isStable;
    const bands = this.bands.update(close, replace);
    return {
      time: bar.time,
      ema20: this.ema20.isStable ? ema20 : NaN,
      ema50: this.ema50.isStable ? ema50 : NaN,
      sma10: this.sma10.update(close, replace) ?? NaN,
      sma20: this.sma20.update(close, replace) ?? NaN,
      rsi14: this.rsi.update(close, replace),
      macd: macd?.macd ?? NaN,
      macdSignal: signalReady ? macd.signal : NaN,
      macdHistogram: signalReady ? macd.histogram : NaN,
      bbUpper: bands?.upper ?? NaN,
      bbMiddle: bands?.middle ?? NaN,
      bbLower: bands?.lower ?? NaN,
      // A copy: the library keeps the candle as the previous one, and a live caller may mutate its bar.
      atr14: this.atr.update({ high: bar.high, low: bar.low, close }, replace) ?? NaN,
    };
  }
}

/** Throws unless `bar` comes after the bar at `lastTime` (undefined: none yet) and has valid prices. */
function assertNextBar(bar: IndicatorInput, lastTime: number | undefined): void {
  if (lastTime !== undefined && !(bar.time > lastTime)) {
    throw new TasaError('bad_input', `Indicator bar ${new Date(bar.time).toISOString()} is not after the previous bar ${new Date(lastTime).toISOString()}.`, {
      input: new Date(bar.time).toISOString(),
    });
  }
  assertPrices(bar);
}

function assertPrices(bar: IndicatorInput): void {
  const violation = ohlcViolation(bar);
  if (violation !== null) {
    throw new TasaError('bad_input', `Indicator bar ${new Date(bar.time).toISOString()} is not a valid bar: ${violation}.`, { input: new Date(bar.time).toISOString() });
  }
}

/**
 * Indicator columns aligned with a series: `time` (bar open times) and the indicators asked for,
 * each a Float64Array with NaN before its warm-up. An indicator not asked for is absent.
 */
export type IndicatorColumns = { readonly time: Float64Array } & Readonly<Partial<Record<IndicatorName, Float64Array>>>;

type Writable = { time: Float64Array } & Partial<Record<IndicatorName, Float64Array>>;

/** The indicators computed together (one pass gives all of a group) and the pass that computes them. */
const GROUPS: ReadonlyArray<{ names: readonly IndicatorName[]; compute: (bars: Prices, out: Writable) => void }> = [
  { names: ['sma10'], compute: (b, out) => (out.sma10 = smaPass(b.close, 10)) },
  { names: ['sma20'], compute: (b, out) => (out.sma20 = smaPass(b.close, 20)) },
  { names: ['ema20'], compute: (b, out) => (out.ema20 = fromBar(emaPass(b.close, 0, 20), WARMUP.ema20)) },
  { names: ['ema50'], compute: (b, out) => (out.ema50 = fromBar(emaPass(b.close, 0, 50), WARMUP.ema50)) },
  { names: ['rsi14'], compute: (b, out) => (out.rsi14 = rsiPass(b.close)) },
  { names: ['macd', 'macdSignal', 'macdHistogram'], compute: macdPass },
  { names: ['bbUpper', 'bbMiddle', 'bbLower'], compute: bollingerPass },
  { names: ['atr14'], compute: (b, out) => (out.atr14 = wilderPass(trueRanges(b), 0, 14)) },
];

/** The price columns of a series. */
interface Prices {
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
}

/**
 * The indicators named in `names` over `series` (time order, valid prices; TasaError otherwise),
 * each computed in one pass over typed arrays; the others are not computed.
 */
export function computeIndicatorColumns(series: readonly IndicatorInput[], names: readonly IndicatorName[]): IndicatorColumns {
  const n = series.length;
  const out: Writable = { time: new Float64Array(n) };
  const prices: Prices = { high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n) };
  let lastTime: number | undefined;
  for (let i = 0; i < n; i++) {
    const bar = series[i]!;
    assertNextBar(bar, lastTime);
    lastTime = bar.time;
    out.time[i] = bar.time;
    prices.high[i] = bar.high;
    prices.low[i] = bar.low;
    prices.close[i] = bar.close;
  }
  for (const group of GROUPS) if (group.names.some((name) => names.includes(name))) group.compute(prices, out);
  return out;
}

/** `values` with NaN before its `warmup`-th entry (in place). */
function fromBar(values: Float64Array, warmup: number): Float64Array {
  values.fill(NaN, 0, Math.min(warmup - 1, values.length));
  return values;
}

/** Mean of the last `period` values, summed from 0 in order as the library's SMA does; NaN before. */
function smaPass(x: Float64Array, period: number): Float64Array {
  const out = new Float64Array(x.length).fill(NaN);
  for (let t = period - 1; t < x.length; t++) {
    let sum = 0;
    for (let i = t - period + 1; i <= t; i++) sum += x[i]!;
    out[t] = sum / period;
  }
  return out;
}

/** EMA of x[from..] seeded with x[from], every value (no warm-up mask); NaN before `from`. */
function emaPass(x: Float64Array, from: number, period: number): Float64Array {
  const out = new Float64Array(x.length).fill(NaN);
  const k = 2 / (period + 1);
  let previous = x[from]!;
  for (let t = from; t < x.length; t++) {
    previous = x[t]! * k + previous * (1 - k);
    out[t] = previous;
  }
  return out;
}

/** Wilder smoothing of x[from..] (the library's WSMA): the mean of the first `period` values, then (x - avg)·(1/period) + avg. */
function wilderPass(x: Float64Array, from: number, period: number): Float64Array {
  const out = new Float64Array(x.length).fill(NaN);
  const first = from + period - 1;
  if (first >= x.length) return out;
  let sum = 0;
  for (let i = from; i <= first; i++) sum += x[i]!;
  let average = sum / period;
  out[first] = average;
  const factor = 1 / period;
  for (let t = first + 1; t < x.length; t++) {
    average = (x[t]! - average) * factor + average;
    out[t] = average;
  }
  return out;
}

function rsiPass(close: Float64Array): Float64Array {
  const n = close.length;
  const gains = new Float64Array(n);
  const losses = new Float64Array(n);
  for (let t = 1; t < n; t++) {
    const change = close[t]! - close[t - 1]!;
    gains[t] = change > 0 ? change : 0;
    losses[t] = change < 0 ? -change : 0;
  }
  const gain = wilderPass(gains, 1, RSI_PERIOD);
  const loss = wilderPass(losses, 1, RSI_PERIOD);
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const g = gain[t]!;
    const l = loss[t]!;
    out[t] = l === 0 ? (g === 0 ? NaN : 100) : 100 - 100 / (1 + g / l);
  }
  return out;
}

/** MACD (12, 26, 9): macd from bar 26, its EMA9 signal seeded with the first macd and shown from bar 34. */
function macdPass(b: Prices, out: Writable): void {
  const short = emaPass(b.close, 0, 12);
  const long = emaPass(b.close, 0, 26);
  const n = b.close.length;
  const first = WARMUP.macd - 1;
  const macd = new Float64Array(n).fill(NaN);
  for (let t = first; t < n; t++) macd[t] = short[t]! - long[t]!;
  const signal = first < n ? fromBar(emaPass(macd, first, 9), WARMUP.macdSignal) : new Float64Array(n).fill(NaN);
  const histogram = new Float64Array(n);
  for (let t = 0; t < n; t++) histogram[t] = macd[t]! - signal[t]!;
  out.macd = macd;
  out.macdSignal = signal;
  out.macdHistogram = histogram;
}

/** Bollinger (20, 2): the SMA20 ± 2 population standard deviations, both summed as the library does. */
function bollingerPass(b: Prices, out: Writable): void {
  const period = 20;
  const x = b.close;
  const middle = smaPass(x, period);
  const upper = new Float64Array(x.length).fill(NaN);
  const lower = new Float64Array(x.length).fill(NaN);
  for (let t = period - 1; t < x.length; t++) {
    const m = middle[t]!;
    let squares = 0;
    for (let i = t - period + 1; i <= t; i++) squares += (x[i]! - m) * (x[i]! - m);
    const deviation = Math.sqrt(squares / period);
    upper[t] = m + deviation * 2;
    lower[t] = m - deviation * 2;
  }
  out.bbUpper = upper;
  out.bbMiddle = middle;
  out.bbLower = lower;
}

/** True range of each bar: high - low on the first, then the largest move from the previous close. */
function trueRanges(b: Prices): Float64Array {
  const out = new Float64Array(b.close.length);
  for (let t = 0; t < out.length; t++) {
    const range = b.high[t]! - b.low[t]!;
    out[t] = t === 0 ? range : Math.max(range, Math.abs(b.high[t]! - b.close[t - 1]!), Math.abs(b.low[t]! - b.close[t - 1]!));
  }
  return out;
}

/** One indicator row per bar of `series` (which must be in time order). */
export function computeIndicators(series: readonly IndicatorInput[]): IndicatorRow[] {
  const columns = withEveryIndicator(computeIndicatorColumns(series, INDICATOR_NAMES));
  const rows = new Array<IndicatorRow>(series.length);
  for (let i = 0; i < series.length; i++) rows[i] = indicatorRowAt(columns, i);
  return rows;
}

/** Every indicator column, with a NaN column for each one `columns` lacks. */
export function withEveryIndicator(columns: IndicatorColumns): Required<IndicatorColumns> {
  const missing = new Float64Array(columns.time.length).fill(NaN);
  const full = { time: columns.time } as Writable;
  for (const name of INDICATOR_NAMES) full[name] = columns[name] ?? missing;
  return full as Required<IndicatorColumns>;
}

/** Row `i` of full indicator columns, as a fresh object. */
export function indicatorRowAt(c: Required<IndicatorColumns>, i: number): IndicatorRow {
  return {
    time: c.time[i]!,
    ema20: c.ema20[i]!,
    ema50: c.ema50[i]!,
    sma10: c.sma10[i]!,
    sma20: c.sma20[i]!,
    rsi14: c.rsi14[i]!,
    macd: c.macd[i]!,
    macdSignal: c.macdSignal[i]!,
    macdHistogram: c.macdHistogram[i]!,
    bbUpper: c.bbUpper[i]!,
    bbMiddle: c.bbMiddle[i]!,
    bbLower: c.bbLower[i]!,
    atr14: c.atr14[i]!,
  };
}

/** The columns `names` (and time) of indicator rows, e.g. the rows of a span already computed. */
export function columnsOfRows(rows: readonly IndicatorRow[], names: readonly IndicatorName[]): IndicatorColumns {
  const out: Writable = { time: new Float64Array(rows.length) };
  for (let i = 0; i < rows.length; i++) out.time[i] = rows[i]!.time;
  for (const name of names) out[name] = indicatorColumn(rows, name);
  return out;
}

/** One indicator as a column (NaN where missing), e.g. for the feature layer. */
export function indicatorColumn(rows: readonly IndicatorRow[], name: IndicatorName): Float64Array {
  const column = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) column[i] = rows[i]![name];
  return column;
}
