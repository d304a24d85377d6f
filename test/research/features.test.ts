import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TasaError } from '../../src/errors.ts';
import { computeFeatures, featureNames } from '../../src/research/features.ts';
import { computeIndicators } from '../../src/research/indicators.ts';
import type { FeatureTable, SeriesBar } from '../../src/research/types.ts';
import { prng, syntheticSeries } from './synthetic-series.ts';

const build = (series: readonly SeriesBar[]): FeatureTable => computeFeatures(series, computeIndicators(series));
const col = (table: FeatureTable, name: string): Float64Array => {
  const j = table.names.indexOf(name);
  assert.ok(j >= 0, `no feature ${name}`);
  return table.columns[j]!;
};
const near = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

/** Every price of every bar after `t` moved, OHLC kept consistent. */
function perturbAfter(series: readonly SeriesBar[], t: number, seed: number): SeriesBar[] {
  const random = prng(seed);
  return series.map((bar, i) => {
    if (i <= t) return bar;
    const f = 1 + (random() - 0.5) * 0.02;
    return { ...bar, open: bar.open * f, high: bar.high * f * (1 + random() * 0.001), low: bar.low * f * (1 - random() * 0.001), close: bar.close * f };
  });
}

describe('features: no look-ahead', () => {
  const series = syntheticSeries(420, { seed: 3 });
  const base = build(series);

  it('every feature at rows <= t is bit-identical when every bar after t changes, for every t', () => {
    let changedLater = 0;
    for (let t = 0; t < series.length - 1; t++) {
      const moved = build(perturbAfter(series, t, 1000 + t));
      for (let j = 0; j < base.columns.length; j++) {
        const a = base.columns[j]!;
        const b = moved.columns[j]!;
        for (let i = 0; i <= t; i++) {
          if (!Object.is(a[i], b[i])) assert.fail(`${base.names[j]} at row ${i} changed when bars after ${t} moved: ${a[i]} -> ${b[i]}`);
        }
        if (!Object.is(a[t + 1], b[t + 1])) changedLater++;
      }
    }
    // The perturbation does reach the features: row t + 1 moves (otherwise this test proves nothing).
    assert.ok(changedLater > (series.length - 1) * 10, `only ${changedLater} later values moved`);
  });
});

describe('features: formulas', () => {
  const series = syntheticSeries(700, { seed: 21 });
  const table = build(series);
  const indicators = computeIndicators(series);
  const close = series.map((b) => b.close);
  const r = close.map((c, t) => (t === 0 ? NaN : Math.log(c / close[t - 1]!)));
  const firstOfSession = series.map((b, t) => t === 0 || b.session !== series[t - 1]!.session);

  it('has one named column per default feature, aligned with the bars', () => {
    assert.deepEqual(table.names, featureNames());
    // Written out literally: not derived from the code under test.
    assert.deepEqual(table.names, [
      'ret_1', 'ret_2', 'ret_5', 'ret_12', 'ret_prev_close',
      'ret_mean_6', 'ret_std_6', 'ret_min_6', 'ret_max_6',
      'ret_mean_12', 'ret_std_12', 'ret_min_12', 'ret_max_12',
      'ret_mean_30', 'ret_std_30', 'ret_min_30', 'ret_max_30',
      'mom_5', 'mom_12',
      'dist_ema20', 'dist_ema50', 'bb_position', 'bb_width', 'rsi_scaled', 'macd_hist_rel', 'atr_rel',
      'bar_of_session', 'day_of_week', 'rv_session', 'rv_12',
    ]);
    assert.equal(table.columns.length, table.names.length);
    for (const c of table.columns) assert.equal(c.length, series.length);
    assert.deepEqual([...table.times], series.map((b) => b.time));
    assert.deepEqual(table.sessions, series.map((b) => b.session));
  });

  it('k-bar log returns and momentum, across sessions, NaN for the first k rows', () => {
    for (const k of [1, 2, 5, 12]) {
      const ret = col(table, `ret_${k}`);
      for (let t = 0; t < k; t++) assert.ok(Number.isNaN(ret[t]!));
      for (const t of [k, 100, 333, series.length - 1]) near(ret[t]!, Math.log(close[t]! / close[t - k]!), `ret_${k}[${t}]`);
    }
    for (const k of [5, 12]) {
      const mom = col(table, `mom_${k}`);
      assert.ok(Number.isNaN(mom[k - 1]!));
      for (const t of [k, 250, series.length - 1]) near(mom[t]!, close[t]! / close[t - k]! - 1, `mom_${k}[${t}]`);
    }
  });

  it('return vs the previous session close: NaN in the first session, then against its last bar', () => {
    const ret = col(table, 'ret_prev_close');
    const firstSession = series[0]!.session;
    let previousClose = NaN;
    for (let t = 0; t < series.length; t++) {
      if (series[t]!.session === firstSession) {
        assert.ok(Number.isNaN(ret[t]!));
        continue;
      }
      if (firstOfSession[t]) previousClose = close[t - 1]!;
      near(ret[t]!, Math.log(close[t]! / previousClose), `ret_prev_close[${t}]`);
    }
  });

  it('rolling mean, population std, min and max of 1-bar returns', () => {
    for (const w of [6, 12, 30]) {
      for (const stat of ['mean', 'std', 'min', 'max']) {
        const values = col(table, `ret_${stat}_${w}`);
        assert.ok(Number.isNaN(values[w - 1]!), `ret_${stat}_${w} needs ${w} returns`);
        for (const t of [w, 77, 400, series.length - 1]) {
          const window = r.slice(t - w + 1, t + 1);
          const mean = window.reduce((s, x) => s + x, 0) / w;
          const expected = { mean, std: Math.sqrt(window.reduce((s, x) => s + (x - mean) ** 2, 0) / w), min: Math.min(...window), max: Math.max(...window) }[stat]!;
          assert.ok(Math.abs(values[t]! - expected) < 1e-15, `ret_${stat}_${w}[${t}] = ${values[t]} vs ${expected}`);
        }
      }
    }
  });

  it('distances to the indicators', () => {
    for (const t of [60, 300, series.length - 1]) {
      const c = close[t]!;
      const ind = indicators[t]!;
      near(col(table, 'dist_ema20')[t]!, (c - ind.ema20) / c, 'dist_ema20');
      near(col(table, 'dist_ema50')[t]!, (c - ind.ema50) / c, 'dist_ema50');
      near(col(table, 'bb_position')[t]!, (c - ind.bbLower) / (ind.bbUpper - ind.bbLower), 'bb_position');
      near(col(table, 'bb_width')[t]!, (ind.bbUpper - ind.bbLower) / c, 'bb_width');
      near(col(table, 'rsi_scaled')[t]!, (ind.rsi14 - 50) / 50, 'rsi_scaled');
      near(col(table, 'macd_hist_rel')[t]!, ind.macdHistogram / c, 'macd_hist_rel');
      near(col(table, 'atr_rel')[t]!, ind.atr14 / c, 'atr_rel');
    }
    assert.ok(Number.isNaN(col(table, 'dist_ema50')[48]!) && Number.isNaN(col(table, 'macd_hist_rel')[32]!));
  });

  it('bb_position is NaN on a zero-width band (20 equal closes), never a made-up number', () => {
    const flat = series.slice(0, 40).map((b) => ({ ...b, open: 4000, high: 4000, low: 4000, close: 4000 }));
    const position = col(build(flat), 'bb_position');
    assert.ok(position.every(Number.isNaN));
  });

  it('treats a band width of rounding noise as zero: flat closes after moving ones give NaN, not 0.25 or 0.75', () => {
    // At 3,917.83 the library's running sums leave bbUpper - bbLower = 3.6e-12 once the window is flat.
    const price = 3917.83;
    const flat = series.slice(0, 80).map((b, i) => (i < 40 ? b : { ...b, open: price, high: price, low: price, close: price }));
    const indicators = computeIndicators(flat);
    const noise = indicators.slice(59).map((r) => r.bbUpper - r.bbLower);
    assert.ok(noise.some((w) => w > 0 && w < 1e-10), `the band width is rounding noise: ${noise[0]}`);
    const table = computeFeatures(flat, indicators);
    assert.ok(col(table, 'bb_position').slice(59).every(Number.isNaN), 'no position inside a zero-width band');
    assert.deepEqual([...col(table, 'bb_width').slice(59)], new Array<number>(21).fill(0));
    assert.ok(col(table, 'bb_width')[58]! > 1e-6, 'a window holding one moving close is a real band');
  });

  it('bar of session, day of week, realized volatility', () => {
    const rvSession = col(table, 'rv_session');
    const rv12 = col(table, 'rv_12');
    let squares = 0;
    for (let t = 0; t < series.length; t++) {
      assert.equal(col(table, 'bar_of_session')[t], series[t]!.barOfSession);
      assert.equal(col(table, 'day_of_week')[t], new Date(`${series[t]!.session}T12:00:00Z`).getUTCDay());
      if (firstOfSession[t]) {
        squares = 0;
        assert.ok(Number.isNaN(rvSession[t]!), 'no return inside the session yet');
      } else {
        squares += r[t]! ** 2;
        near(rvSession[t]!, Math.sqrt(squares), `rv_session[${t}]`);
      }
      if (t >= 12) near(rv12[t]!, Math.sqrt(r.slice(t - 11, t + 1).reduce((s, x) => s + x * x, 0)), `rv_12[${t}]`);
      else assert.ok(Number.isNaN(rv12[t]!));
    }
  });

  it('rejects misaligned indicators and repeated horizons', () => {
    assert.throws(() => computeFeatures(series, indicators.slice(1)), TasaError);
    assert.throws(() => computeFeatures(series.slice(1), indicators.slice(0, -1)), TasaError);
    assert.throws(() => featureNames({ returnHorizons: [1, 1] }), TasaError);
    assert.throws(() => featureNames({ rollingWindows: [0] }), TasaError);
  });
});
