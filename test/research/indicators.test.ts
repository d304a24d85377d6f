import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ATR, BollingerBands, EMA, MACD, RSI, SMA } from 'trading-signals';
import { BAR_MS } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { TasaError } from '../../src/errors.ts';
import { computeIndicatorColumns, computeIndicators, IndicatorState, indicatorColumn, WARMUP } from '../../src/research/indicators.ts';
import { toSeries } from '../../src/research/series.ts';
import { INDICATOR_NAMES, type IndicatorName, type SeriesBar } from '../../src/research/types.ts';
import { realBars, REAL_FILE_SKIP } from '../support/real-history.ts';
import { prng, syntheticSeries } from './synthetic-series.ts';

// ---------------------------------------------------------------------------------------------
// Reference implementations: plain loops over arrays, written from the textbook definitions.
// ---------------------------------------------------------------------------------------------

const nan = (n: number): number[] => new Array<number>(n).fill(NaN);

function refSma(x: readonly number[], period: number): number[] {
  const out = nan(x.length);
  for (let t = period - 1; t < x.length; t++) {
    let sum = 0;
    for (let i = t - period + 1; i <= t; i++) sum += x[i]!;
    out[t] = sum / period;
  }
  return out;
}

/** EMA seeded with the first value; reported once `period` values were seen. */
function refEmaAll(x: readonly number[], period: number): number[] {
  const k = 2 / (period + 1);
  const out: number[] = [];
  let e = x[0]!;
  for (let t = 0; t < x.length; t++) {
    e = t === 0 ? x[0]! : k * x[t]! + (1 - k) * e;
    out.push(e);
  }
  return out;
}

function refEma(x: readonly number[], period: number): number[] {
  return refEmaAll(x, period).map((v, t) => (t >= period - 1 ? v : NaN));
}

/** Wilder smoothing: the mean of the first `period` values, then avg += (v - avg) / period. */
function refWilder(x: readonly number[], period: number): number[] {
  const out = nan(x.length);
  let avg = NaN;
  for (let t = period - 1; t < x.length; t++) {
    if (t === period - 1) {
      avg = 0;
      for (let i = 0; i < period; i++) avg += x[i]! / period;
    } else {
      avg += (x[t]! - avg) / period;
    }
    out[t] = avg;
  }
  return out;
}

function refRsi(close: readonly number[], period = 14): number[] {
  const gains: number[] = [];
  const losses: number[] = [];
  for (let t = 1; t < close.length; t++) {
    const d = close[t]! - close[t - 1]!;
    gains.push(Math.max(d, 0));
    losses.push(Math.max(-d, 0));
  }
  const g = refWilder(gains, period);
  const l = refWilder(losses, period);
  return [NaN, ...g.map((gain, i) => (Number.isNaN(gain) ? NaN : l[i] === 0 ? (gain === 0 ? NaN : 100) : 100 - 100 / (1 + gain / l[i]!)))];
}

function refMacd(close: readonly number[]): { macd: number[]; signal: number[]; histogram: number[] } {
  const e12 = refEmaAll(close, 12);
  const e26 = refEmaAll(close, 26);
  const macd = close.map((_, t) => (t >= 25 ? e12[t]! - e26[t]! : NaN));
  const signalAll = refEmaAll(macd.slice(25), 9);
  const signal = close.map((_, t) => (t >= 33 ? signalAll[t - 25]! : NaN));
  return { macd, signal, histogram: macd.map((m, t) => m - signal[t]!) };
}

function refBollinger(close: readonly number[]): { upper: number[]; middle: number[]; lower: number[] } {
  const middle = refSma(close, 20);
  const sd = close.map((_, t) => {
    if (t < 19) return NaN;
    let squares = 0;
    for (let i = t - 19; i <= t; i++) squares += (close[i]! - middle[t]!) ** 2;
    return Math.sqrt(squares / 20);
  });
  return { middle, upper: middle.map((m, t) => m + 2 * sd[t]!), lower: middle.map((m, t) => m - 2 * sd[t]!) };
}

function refAtr(series: readonly SeriesBar[]): number[] {
  const tr = series.map((b, t) => {
    if (t === 0) return b.high - b.low;
    const pc = series[t - 1]!.close;
    return Math.max(b.high - b.low, Math.abs(b.high - pc), Math.abs(b.low - pc));
  });
  return refWilder(tr, 14);
}

function reference(series: readonly SeriesBar[]): Record<IndicatorName, number[]> {
  const close = series.map((b) => b.close);
  const macd = refMacd(close);
  const bands = refBollinger(close);
  return {
    ema20: refEma(close, 20),
    ema50: refEma(close, 50),
    sma10: refSma(close, 10),
    sma20: refSma(close, 20),
    rsi14: refRsi(close),
    macd: macd.macd,
    macdSignal: macd.signal,
    macdHistogram: macd.histogram,
    bbUpper: bands.upper,
    bbMiddle: bands.middle,
    bbLower: bands.lower,
    atr14: refAtr(series),
  };
}

/** Equal within `tolerance` relative to the magnitude involved (and to `scale`), NaN only where NaN. */
function assertClose(actual: Float64Array, expected: readonly number[], name: string, scale: number, tolerance = 1e-9): void {
  assert.equal(actual.length, expected.length, name);
  for (let t = 0; t < expected.length; t++) {
    const a = actual[t]!;
    const e = expected[t]!;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${name}[${t}] should be NaN, got ${a}`);
      continue;
    }
    assert.ok(Math.abs(a - e) <= tolerance * Math.max(scale, Math.abs(e)), `${name}[${t}] = ${a}, expected ${e}`);
  }
}

function bars(closes: readonly number[], range = 0): SeriesBar[] {
  const open = Date.parse('2024-01-02T13:00:00Z');
  return closes.map((close, i) => ({ time: open + i * BAR_MS, session: '2024-01-02', barOfSession: i + 1, open: close, high: close + range / 2, low: close - range / 2, close }));
}

const column = (series: readonly SeriesBar[], name: IndicatorName): Float64Array => indicatorColumn(computeIndicators(series), name);

// ---------------------------------------------------------------------------------------------

describe('indicators against plain-loop references', () => {
  const series = syntheticSeries(500, { seed: 11 });
  const rows = computeIndicators(series);
  const expected = reference(series);

  it('computes one row per bar, aligned by time', () => {
    assert.equal(rows.length, series.length);
    assert.ok(series.length >= 500);
    for (let t = 0; t < series.length; t++) assert.equal(rows[t]!.time, series[t]!.time);
  });

  for (const name of INDICATOR_NAMES) {
    it(`${name} matches the reference on ${series.length} synthetic bars`, () => {
      // Price-level indicators are compared relative to the price; oscillators to their range.
      const scale = name === 'rsi14' ? 100 : name.startsWith('macd') || name === 'atr14' ? 4000 : 1;
      assertClose(indicatorColumn(rows, name), expected[name], name, scale);
    });

    it(`${name} is NaN exactly before its warm-up of ${WARMUP[name]} bars`, () => {
      const values = indicatorColumn(rows, name);
      for (let t = 0; t < WARMUP[name] - 1; t++) assert.ok(Number.isNaN(values[t]!), `${name}[${t}] should be NaN`);
      for (let t = WARMUP[name] - 1; t < values.length; t++) assert.ok(Number.isFinite(values[t]!), `${name}[${t}] should be a number, got ${values[t]}`);
    });
  }

  it('runs across the overnight gap: the first bar of a session uses the previous session close', () => {
    const first = series.findIndex((b, i) => i > 40 && b.session !== series[i - 1]!.session);
    const cut = computeIndicators(series.slice(first));
    // Restarting at the session would give a different (here: still warming-up) value.
    assert.ok(Number.isNaN(cut[0]!.rsi14) && Number.isFinite(rows[first]!.rsi14));
    const b = series[first]!;
    const pc = series[first - 1]!.close;
    const tr = Math.max(b.high - b.low, Math.abs(b.high - pc), Math.abs(b.low - pc));
    const atr = rows[first - 1]!.atr14 + (tr - rows[first - 1]!.atr14) / 14;
    assert.ok(Math.abs(rows[first]!.atr14 - atr) < 1e-9 * atr);
  });
});

describe('indicators on hand-checked tiny cases', () => {
  const oneToTwenty = Array.from({ length: 20 }, (_, i) => i + 1);

  it('SMA10 of 1..10 is 5.5 at the tenth bar and NaN before', () => {
    const sma = column(bars(oneToTwenty.slice(0, 10)), 'sma10');
    assert.ok(sma.slice(0, 9).every(Number.isNaN));
    assert.equal(sma[9], 5.5);
  });

  it('SMA20 and Bollinger(20, 2) of 1..20: middle 10.5, population std sqrt(33.25)', () => {
    const row = computeIndicators(bars(oneToTwenty))[19]!;
    assert.equal(row.sma20, 10.5);
    assert.equal(row.bbMiddle, 10.5);
    assert.ok(Math.abs(row.bbUpper - (10.5 + 2 * Math.sqrt(33.25))) < 1e-12);
    assert.ok(Math.abs(row.bbLower - (10.5 - 2 * Math.sqrt(33.25))) < 1e-12);
  });

  it('EMA seeded with the first close: after 1, 2, 3 with period 20, k = 2/21', () => {
    const ema = column(bars([...[1, 2, 3], ...new Array<number>(17).fill(3)]), 'ema20');
    const k = 2 / 21;
    let e = 1;
    e = k * 2 + (1 - k) * e;
    for (let i = 2; i < 20; i++) e = k * 3 + (1 - k) * e;
    assert.ok(Number.isNaN(ema[18]!));
    assert.ok(Math.abs(ema[19]! - e) < 1e-12, `${ema[19]} vs ${e}`);
    assert.ok(Math.abs(e - 3) > 0.1, 'the seed still shows after 20 bars');
  });

  it('EMA50 and MACD of a constant series: the constant, and 0 / 0 / 0 once warm', () => {
    const rows = computeIndicators(bars(new Array<number>(60).fill(4000)));
    // k·p + (1 - k)·p rounds to within an ulp or two of p.
    assert.ok(Number.isNaN(rows[48]!.ema50) && Math.abs(rows[49]!.ema50 - 4000) < 1e-9);
    assert.ok(Number.isNaN(rows[24]!.macd) && Math.abs(rows[25]!.macd) < 1e-9);
    assert.ok(Number.isNaN(rows[32]!.macdSignal) && Number.isNaN(rows[32]!.macdHistogram));
    assert.ok(Math.abs(rows[33]!.macdSignal) < 1e-9);
    assert.ok(Math.abs(rows[33]!.macdHistogram) < 1e-9);
  });

  it('RSI14: 100 on a rising series, 0 on a falling one, 50 when gains equal losses, NaN while flat', () => {
    const rising = column(bars(Array.from({ length: 20 }, (_, i) => 100 + i)), 'rsi14');
    assert.ok(Number.isNaN(rising[13]!));
    assert.equal(rising[14], 100);
    assert.equal(column(bars(Array.from({ length: 20 }, (_, i) => 100 - i)), 'rsi14')[14], 0);
    assert.equal(column(bars(Array.from({ length: 20 }, (_, i) => 100 + (i % 2))), 'rsi14')[14], 50);
    const flat = column(bars(new Array<number>(20).fill(100)), 'rsi14');
    assert.ok(flat.every(Number.isNaN), '0/0 is undefined, not 100');
  });

  it('ATR14 of bars 2 wide with unchanged closes is 2 from the 14th bar', () => {
    const atr = column(bars(new Array<number>(20).fill(100), 2), 'atr14');
    assert.ok(Number.isNaN(atr[12]!));
    assert.equal(atr[13], 2);
    assert.equal(atr[19], 2);
  });
});

describe('streaming IndicatorState', () => {
  const series = syntheticSeries(300, { seed: 5 });
  const batch = computeIndicators(series);

  it('add() bar by bar equals the batch', () => {
    const state = new IndicatorState();
    for (let t = 0; t < series.length; t++) assert.deepEqual(state.add(series[t]!), batch[t]);
  });

  it('add() of a provisional bar then replace() with revisions equals the batch', () => {
    const random = prng(99);
    const state = new IndicatorState();
    const wiggle = (bar: SeriesBar): SeriesBar => {
      const f = 1 + (random() - 0.5) * 0.004;
      return { ...bar, open: bar.open * f, high: bar.high * f * 1.001, low: bar.low * f * 0.999, close: bar.close * f };
    };
    for (let t = 0; t < series.length; t++) {
      const first = state.add(wiggle(series[t]!));
      const second = state.replace(wiggle(series[t]!));
      assert.equal(first.time, second.time);
      assert.deepEqual(state.replace(series[t]!), batch[t], `row ${t}`);
    }
    assert.equal(state.count, series.length);
  });

  it('replace() before any add() is an add()', () => {
    assert.deepEqual(new IndicatorState().replace(series[0]!), batch[0]);
  });

  it('rejects a bar out of order, a replace for another time, and impossible prices', () => {
    const state = new IndicatorState();
    state.add(series[1]!);
    assert.throws(() => state.add(series[0]!), TasaError);
    assert.throws(() => state.add(series[1]!), TasaError);
    assert.throws(() => state.replace(series[2]!), TasaError);
    assert.throws(() => state.add({ ...series[2]!, close: NaN }), TasaError);
    assert.throws(() => state.add({ ...series[2]!, low: series[2]!.close * 1.01 }), TasaError);
  });
});

// ---------------------------------------------------------------------------------------------
// The typed-array columns against the library itself, bit for bit.
// ---------------------------------------------------------------------------------------------

/** Each indicator from trading-signals' own classes, bar by bar, NaN before our documented warm-up. */
function libraryColumns(series: readonly SeriesBar[]): Record<IndicatorName, number[]> {
  const sma10 = new SMA(10);
  const sma20 = new SMA(20);
  const ema20 = new EMA(20);
  const ema50 = new EMA(50);
  const rsi = new RSI(14);
  const macd = new MACD(new EMA(12), new EMA(26), new EMA(9));
  const bands = new BollingerBands(20, 2);
  const atr = new ATR(14);
  const out = Object.fromEntries(INDICATOR_NAMES.map((name) => [name, [] as number[]])) as Record<IndicatorName, number[]>;
  const push = (name: IndicatorName, t: number, value: number | null | undefined): void => {
    out[name].push(t >= WARMUP[name] - 1 && value !== null && value !== undefined ? value : NaN);
  };
  series.forEach((bar, t) => {
    push('sma10', t, sma10.add(bar.close));
    push('sma20', t, sma20.add(bar.close));
    push('ema20', t, ema20.add(bar.close));
    push('ema50', t, ema50.add(bar.close));
    push('rsi14', t, rsi.add(bar.close));
    const m = macd.add(bar.close);
    push('macd', t, m?.macd);
    push('macdSignal', t, m?.signal);
    push('macdHistogram', t, m?.histogram);
    const b = bands.add(bar.close);
    push('bbUpper', t, b?.upper);
    push('bbMiddle', t, b?.middle);
    push('bbLower', t, b?.lower);
    push('atr14', t, atr.add({ high: bar.high, low: bar.low, close: bar.close }));
  });
  return out;
}

/**
 * Every typed-array column equals the library's value exactly (Object.is), except the one
 * documented difference: RSI is NaN, where the library says 100, when gains and losses are both 0.
 */
function assertSameAsLibrary(series: readonly SeriesBar[]): void {
  const library = libraryColumns(series);
  for (const name of INDICATOR_NAMES) {
    const ours = computeIndicatorColumns(series, [name])[name]!;
    assert.equal(ours.length, series.length, name);
    for (let t = 0; t < series.length; t++) {
      const documented = name === 'rsi14' && Number.isNaN(ours[t]) && library[name][t] === 100;
      if (!Object.is(ours[t], library[name][t]) && !documented) assert.fail(`${name}[${t}] = ${ours[t]}, the library gives ${library[name][t]}`);
    }
  }
}

describe('typed-array indicator columns against trading-signals', () => {
  it('each column equals the library bar for bar on a USD/COP-like series (gaps, flat bars, short sessions)', () => {
    assertSameAsLibrary(syntheticSeries(6_000, { seed: 13 }));
  });

  it('a series opening on flat prices: RSI NaN where the library says 100, everything else equal', () => {
    const flatStart = bars([...new Array<number>(30).fill(4000), ...syntheticSeries(200, { seed: 2 }).map((b) => b.close)], 2);
    assertSameAsLibrary(flatStart);
    const rsi = computeIndicatorColumns(flatStart, ['rsi14']).rsi14!;
    assert.ok(Number.isNaN(rsi[20]!));
  });

  it('each column equals the library on the real 2020-2025 history', { skip: REAL_FILE_SKIP }, async () => {
    const calendar = new MarketCalendar();
    assertSameAsLibrary(toSeries(await realBars(calendar), calendar));
  });

  it('computes only the indicators asked for (a group such as MACD or the bands comes whole)', () => {
    const series = syntheticSeries(200, { seed: 4 });
    const keys = (names: readonly IndicatorName[]): string[] => Object.keys(computeIndicatorColumns(series, names)).sort();
    assert.deepEqual(keys([]), ['time']);
    assert.deepEqual(keys(['sma10', 'rsi14']), ['rsi14', 'sma10', 'time']);
    assert.deepEqual(keys(['macdSignal']), ['macd', 'macdHistogram', 'macdSignal', 'time']);
    assert.deepEqual(keys(['bbLower']), ['bbLower', 'bbMiddle', 'bbUpper', 'time']);
    assert.deepEqual([...computeIndicatorColumns(series, []).time], series.map((b) => b.time));
  });

  it('fewer bars than a warm-up give NaN columns, and bad input is refused as by the streaming state', () => {
    const few = syntheticSeries(200, { seed: 4 }).slice(0, 5);
    const columns = computeIndicatorColumns(few, INDICATOR_NAMES);
    for (const name of INDICATOR_NAMES) assert.ok(columns[name]!.every(Number.isNaN), name);
    assert.equal(computeIndicatorColumns([], INDICATOR_NAMES).atr14!.length, 0);
    assert.throws(() => computeIndicatorColumns([few[1]!, few[0]!], ['sma10']), (e: unknown) => e instanceof TasaError && /is not after the previous bar/.test(e.message));
    assert.throws(() => computeIndicatorColumns([{ ...few[0]!, close: -1 }], []), (e: unknown) => e instanceof TasaError && /not a valid bar/.test(e.message));
  });
});
