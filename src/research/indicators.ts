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
 */
import { ATR, BollingerBands, EMA, MACD, SMA, WSMA } from 'trading-signals';
import { ohlcViolation } from '../domain/bar.ts';
import { TasaError } from '../errors.ts';
import type { IndicatorName, IndicatorRow, SeriesBar } from './types.ts';

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
    if (this.lastTime !== undefined && !(bar.time > this.lastTime)) {
      throw new TasaError('bad_input', `Indicator bar ${new Date(bar.time).toISOString()} is not after the previous bar ${new Date(this.lastTime).toISOString()}.`, {
        input: new Date(bar.time).toISOString(),
      });
    }
    assertPrices(bar);
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

function assertPrices(bar: IndicatorInput): void {
  const violation = ohlcViolation(bar);
  if (violation !== null) {
    throw new TasaError('bad_input', `Indicator bar ${new Date(bar.time).toISOString()} is not a valid bar: ${violation}.`, { input: new Date(bar.time).toISOString() });
  }
}

/** One indicator row per bar of `series` (which must be in time order). */
export function computeIndicators(series: readonly IndicatorInput[]): IndicatorRow[] {
  const state = new IndicatorState();
  const rows = new Array<IndicatorRow>(series.length);
  for (let i = 0; i < series.length; i++) rows[i] = state.add(series[i]!);
  return rows;
}

/** One indicator as a column (NaN where missing), e.g. for the feature layer. */
export function indicatorColumn(rows: readonly IndicatorRow[], name: IndicatorName): Float64Array {
  const column = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) column[i] = rows[i]![name];
  return column;
}
