import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BAR_MS } from '../../src/domain/bar.ts';
import { addDays, bogotaWallTime, type IsoDate } from '../../src/domain/time.ts';
import { TasaError } from '../../src/errors.ts';
import { escapeHtml, renderBacktestReport } from '../../src/research/backtest-report.ts';
import { decideTargets, runBacktest } from '../../src/research/backtest.ts';
import { BASELINE_IDS, baselinePolicy } from '../../src/research/baselines.ts';
import { DEFAULT_GATE_THRESHOLDS, evaluateGates } from '../../src/research/gates.ts';
import { computePerformance } from '../../src/research/performance.ts';
import { evaluatePolicies, evaluatePolicy, type EvaluationOptions, type EvaluationSpan } from '../../src/research/policy-evaluation.ts';
import { columnsOfRows, computeIndicatorColumns, type IndicatorColumns } from '../../src/research/indicators.ts';
import { syntheticSeries } from './synthetic-series.ts';
import { INDICATOR_NAMES, type IndicatorRow, type Observation, type Policy, type Position, type SeriesBar, type TradingCosts } from '../../src/research/types.ts';

const NO_COSTS: TradingCosts = { spreadBps: 0, feeBps: 0 };

/** Sessions of [open, close] pairs, one session per trading date from 2024-01-02 (dates need not be real sessions here). */
function series(...sessions: Array<Array<[number, number]>>): SeriesBar[] {
  const bars: SeriesBar[] = [];
  sessions.forEach((pairs, s) => {
    const session: IsoDate = addDays('2024-01-02', s);
    const open = bogotaWallTime(session, 8);
    pairs.forEach(([o, c], k) => bars.push({ time: open + k * BAR_MS, session, barOfSession: k + 1, open: o, high: Math.max(o, c), low: Math.min(o, c), close: c }));
  });
  return bars;
}

function near(actual: number, expected: number, what = 'value'): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`);
}

/** A seeded random walk: `sessions` sessions of 60 bars. */
function randomSeries(sessions: number, seed: number): SeriesBar[] {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let price = 4000;
  const out: Array<Array<[number, number]>> = [];
  for (let s = 0; s < sessions; s++) {
    const pairs: Array<[number, number]> = [];
    for (let k = 0; k < 60; k++) {
      const open = price * (1 + (random() - 0.5) * 0.0004);
      price = open * (1 + (random() - 0.5) * 0.002);
      pairs.push([open, price]);
    }
    out.push(pairs);
  }
  return series(...out);
}

/** `indicatorsOf` as the columns decideTargets takes. */
function columnsOf(bars: readonly SeriesBar[]): IndicatorColumns {
  return columnsOfRows(indicatorsOf(bars), INDICATOR_NAMES);
}

/** Causal test indicators (SMA 10/20 and a simple-average RSI 14): row t uses closes <= t only. */
function indicatorsOf(bars: readonly SeriesBar[]): IndicatorRow[] {
  const closes = bars.map((b) => b.close);
  const sma = (t: number, n: number): number => (t + 1 < n ? NaN : closes.slice(t + 1 - n, t + 1).reduce((a, b) => a + b, 0) / n);
  const rsi = (t: number): number => {
    if (t < 14) return NaN;
    let up = 0;
    let down = 0;
    for (let i = t - 13; i <= t; i++) {
      const d = closes[i]! - closes[i - 1]!;
      if (d > 0) up += d;
      else down -= d;
    }
    return up + down === 0 ? 50 : (100 * up) / (up + down);
  };
  return bars.map((b, t) => ({
    time: b.time,
    ema20: NaN,
    ema50: NaN,
    sma10: sma(t, 10),
    sma20: sma(t, 20),
    rsi14: rsi(t),
    macd: NaN,
    macdSignal: NaN,
    macdHistogram: NaN,
    bbUpper: NaN,
    bbMiddle: NaN,
    bbLower: NaN,
    atr14: NaN,
  }));
}

const noFeatures = (): Float32Array => new Float32Array(0);

describe('runBacktest: execution', () => {
  test('a target set at bar t is filled at bar t+1 open, not at bar t close', () => {
    // Decision "long" at bar 0's close (100); the fill is bar 1's open, 110. "Flat" at bar 1's close fills at bar 2's open, 130.
    const bars = series([
      [100, 100],
      [110, 120],
      [130, 140],
      [150, 160],
    ]);
    const r = runBacktest(bars, Int8Array.from([1, 0, 0, 0]), NO_COSTS);
    assert.deepEqual([...r.positions], [0, 1, 0, 0]);
    near(r.equity[0]!, 1, 'bar 0 (still flat)');
    near(r.equity[1]!, 120 / 110, 'bar 1 marked at its close');
    near(r.equity[2]!, 130 / 110, 'bar 2 after the exit at its open');
    near(r.equity[3]!, 130 / 110, 'bar 3 flat');
    assert.equal(r.trades.length, 1);
    const [t] = r.trades;
    assert.equal(t!.entryPrice, 110);
    assert.equal(t!.exitPrice, 130);
    assert.equal(t!.entryTime, bars[1]!.time);
    assert.equal(t!.exitTime, bars[2]!.time);
    assert.equal(t!.barsHeld, 1);
    assert.equal(t!.exitReason, 'signal');
    near(t!.pnl, 20 / 110, 'pnl');
    near(t!.return, 20 / 110, 'return');
    near(r.returns[1]!, 120 / 110 - 1, 'bar return');
  });

  test('a short earns when the price falls', () => {
    const bars = series([
      [100, 100],
      [100, 90],
      [80, 80],
    ]);
    const r = runBacktest(bars, Int8Array.from([-1, 0, 0]), NO_COSTS);
    near(r.equity[1]!, 1.1, 'short from 100 marked at 90');
    near(r.equity[2]!, 1.2, 'short covered at 80');
    assert.equal(r.trades[0]!.side, -1);
  });

  test('positions are closed at the last bar of each session, at its close, and the next session starts flat', () => {
    const bars = series(
      [
        [100, 100],
        [100, 100],
        [130, 140],
        [150, 160],
      ],
      [
        [170, 170],
        [180, 190],
        [200, 210],
      ],
    );
    const r = runBacktest(bars, Int8Array.from([0, 1, 1, 1, 1, 1, 1]), NO_COSTS);
    // Long from session 1 bar 2's open (130) to bar 3's close (160); the target at bar 3 is dropped,
    // session 2's first bar is flat, the long re-enters at bar 1's open (180) and the series end closes it at 210.
    assert.deepEqual([...r.positions], [0, 0, 1, 1, 0, 1, 1]);
    assert.equal(r.trades.length, 2);
    const [first, second] = r.trades;
    assert.deepEqual([first!.entryPrice, first!.exitPrice, first!.barsHeld, first!.exitReason], [130, 160, 2, 'session-end']);
    assert.equal(first!.exitTime, bars[3]!.time + BAR_MS);
    assert.deepEqual([second!.entryPrice, second!.exitPrice, second!.barsHeld, second!.exitReason], [180, 210, 2, 'series-end']);
    near(r.equity[4]!, 160 / 130, 'flat overnight: the 160 -> 170 gap earns nothing');
    near(r.equity[6]!, (160 / 130) * (210 / 180), 'compounded');
    near(r.exposure, 4 / 7, 'exposure');
  });

  test('without flatAtSessionEnd the position is held overnight', () => {
    const bars = series(
      [
        [100, 100],
        [100, 100],
      ],
      [
        [110, 120],
        [130, 140],
      ],
    );
    const r = runBacktest(bars, Int8Array.from([1, 1, 1, 1]), NO_COSTS, { flatAtSessionEnd: false });
    assert.deepEqual([...r.positions], [0, 1, 1, 1]);
    assert.equal(r.trades.length, 1);
    near(r.equity[3]!, 1.4, 'held from 100 to 140 across the night');
  });

  test('costs are |Δposition| × (spread + fee) bps × equity on every change, and only on changes', () => {
    // Constant prices, so every change in equity is a cost. Rate = (3 + 2) / 1e4 = 0.0005.
    const bars = series([
      [100, 100],
      [100, 100],
      [100, 100],
      [100, 100],
      [100, 100],
    ]);
    const r = runBacktest(bars, Int8Array.from([1, -1, -1, 0, 0]), { spreadBps: 3, feeBps: 2 });
    const rate = 0.0005;
    const afterEntry = 1 - rate; // |0 -> 1| = 1
    const afterReversal = afterEntry * (1 - 2 * rate); // |1 -> -1| = 2
    const afterExit = afterReversal * (1 - rate); // |-1 -> 0| = 1; holding at bar 3 costs nothing
    near(r.equity[1]!, afterEntry, 'entry');
    near(r.equity[2]!, afterReversal, 'reversal');
    near(r.equity[3]!, afterReversal, 'hold');
    near(r.equity[4]!, afterExit, 'exit');
    near(r.totalCosts, 1 - afterExit, 'total costs');
    assert.equal(r.trades.length, 2);
    near(r.trades[0]!.costs, rate + rate * afterEntry, 'long: entry leg + exit leg');
    near(r.trades[0]!.pnl, -r.trades[0]!.costs, 'flat prices: pnl is minus the costs');
    near(
      r.trades.reduce((a, t) => a + t.pnl, 0),
      afterExit - 1,
      'ledger pnl adds up to the equity change',
    );
  });

  test('initialEquity scales money, not returns', () => {
    const bars = series([
      [100, 100],
      [110, 120],
    ]);
    const one = runBacktest(bars, Int8Array.from([1, 0]), { spreadBps: 1, feeBps: 0 });
    const big = runBacktest(bars, Int8Array.from([1, 0]), { spreadBps: 1, feeBps: 0 }, { initialEquity: 1_000_000 });
    assert.ok(Math.abs(big.equity[1]! / 1_000_000 - one.equity[1]!) < 1e-12);
    assert.ok(Math.abs(big.trades[0]!.pnl / 1_000_000 - one.trades[0]!.pnl) < 1e-12);
    near(big.returns[1]!, one.returns[1]!, 'returns');
  });

  test('rejects misaligned targets, non-positions, negative costs and bad prices', () => {
    const bars = series([
      [100, 100],
      [100, 100],
    ]);
    const bad = (e: unknown): boolean => e instanceof TasaError && (e.code === 'bad_argument' || e.code === 'bad_input');
    assert.throws(() => runBacktest(bars, new Int8Array(1), NO_COSTS), bad);
    assert.throws(() => runBacktest(bars, Int8Array.from([2, 0]), NO_COSTS), bad);
    assert.throws(() => runBacktest(bars, new Int8Array(2), { spreadBps: -1, feeBps: 0 }), bad);
    assert.throws(() => runBacktest(bars, new Int8Array(2), NO_COSTS, { initialEquity: 0 }), bad);
    assert.throws(() => runBacktest([bars[0]!, { ...bars[1]!, open: NaN }], new Int8Array(2), NO_COSTS), bad);
    assert.throws(() => runBacktest([bars[1]!, bars[0]!], new Int8Array(2), NO_COSTS), bad);
  });

  test('an empty series gives an empty run', () => {
    const r = runBacktest([], new Int8Array(0), NO_COSTS);
    assert.equal(r.equity.length, 0);
    assert.equal(r.trades.length, 0);
  });
});

describe('no look-ahead', () => {
  const bars = randomSeries(6, 7);
  const t = 150; // inside the third session
  /** Every bar after t replaced: prices moved by +3%, so any peeking would change decisions or equity up to t. */
  const perturbed = bars.map((b, i) => (i <= t ? b : { ...b, open: b.open * 1.03, high: b.high * 1.03, low: b.low * 1.03, close: b.close * 1.03 }));

  test('perturbing bars after t leaves targets and equity up to t unchanged, for every baseline', () => {
    for (const id of BASELINE_IDS) {
      const policy = baselinePolicy(id);
      const a = decideTargets(policy, bars, columnsOf(bars), noFeatures);
      const b = decideTargets(policy, perturbed, columnsOf(perturbed), noFeatures);
      assert.deepEqual([...a.subarray(0, t + 1)], [...b.subarray(0, t + 1)], `${id} targets up to t`);
      const ra = runBacktest(bars, a, { spreadBps: 2, feeBps: 1 });
      const rb = runBacktest(perturbed, b, { spreadBps: 2, feeBps: 1 });
      assert.deepEqual([...ra.equity.subarray(0, t + 1)], [...rb.equity.subarray(0, t + 1)], `${id} equity up to t`);
      if (id === 'sma-crossover') assert.notDeepEqual([...ra.equity], [...rb.equity], 'the perturbation does matter later');
    }
  });

  test('everything a policy is shown up to t is identical whatever comes after t', () => {
    const seen = (input: SeriesBar[]): string[] => {
      const log: string[] = [];
      const spy: Policy = {
        id: 'spy',
        kind: 'baseline',
        decide(obs: Observation) {
          log.push(JSON.stringify({ ...obs, features: [...obs.features] }));
          return { position: 0, probabilities: [0, 1, 0] };
        },
      };
      decideTargets(spy, input, columnsOf(input), (i) => Float32Array.of(input[i]!.close));
      return log;
    };
    assert.deepEqual(seen(bars).slice(0, t + 1), seen(perturbed).slice(0, t + 1));
  });

  test('a policy gets a copy of bar t alone, and observe is asked for t in order', () => {
    const calls: number[] = [];
    const peeker: Policy = {
      id: 'peeker',
      kind: 'baseline',
      decide(obs: Observation) {
        assert.equal(calls[calls.length - 1], bars.findIndex((b) => b.time === obs.bar.time), 'observe(t) came just before decide(t)');
        assert.equal(obs.indicators.time, obs.bar.time);
        // A policy that rewrites what it is shown only changes its own copy.
        (obs.bar as { close: number }).close = -1;
        (obs.indicators as { sma10: number }).sma10 = -1;
        return { position: 1, probabilities: [0, 0, 1] };
      },
    };
    const columns = columnsOf(bars);
    const sma10 = [...columns.sma10!];
    decideTargets(peeker, bars, columns, (i) => {
      calls.push(i);
      return new Float32Array(0);
    });
    assert.deepEqual(
      calls,
      bars.map((_, i) => i),
    );
    assert.ok(bars.every((b) => b.close > 0), 'the series is untouched');
    assert.deepEqual([...columns.sma10!], sma10, 'the indicators are untouched');
  });

  test('indicators not aligned with their bars (e.g. shifted by one: a leak) are refused', () => {
    const rows = indicatorsOf(bars);
    const shifted = columnsOfRows(rows.slice(1).concat(rows[0]!), INDICATOR_NAMES);
    assert.throws(() => decideTargets(baselinePolicy('flat'), bars, shifted, noFeatures), (e: unknown) => e instanceof TasaError && /Indicator row 0/.test(e.message));
    assert.throws(() => decideTargets(baselinePolicy('flat'), bars, columnsOfRows(rows.slice(1), INDICATOR_NAMES), noFeatures), TasaError);
  });

  test('a policy is shown the indicators it declares and NaN for the others; one it declares must be given', () => {
    const shown: IndicatorRow[] = [];
    const reader: Policy = {
      id: 'reader',
      kind: 'baseline',
      indicators: ['rsi14'],
      decide(obs) {
        shown.push(obs.indicators);
        return { position: 0, probabilities: [0, 1, 0] };
      },
    };
    decideTargets(reader, bars, columnsOf(bars), noFeatures);
    const rows = indicatorsOf(bars);
    assert.deepEqual(
      shown.map((r) => [r.time, r.rsi14]),
      rows.map((r) => [r.time, r.rsi14]),
    );
    assert.ok(shown.every((r) => Number.isNaN(r.sma10) && Number.isNaN(r.sma20)));
    assert.throws(
      () => decideTargets(reader, bars, columnsOfRows(rows, ['sma10']), noFeatures),
      (e: unknown) => e instanceof TasaError && /reader reads rsi14/.test(e.message),
    );
  });

  test('each baseline decides the same from the indicators it declares as from all twelve', () => {
    const real = syntheticSeries(3_000, { seed: 21 });
    const all = computeIndicatorColumns(real, INDICATOR_NAMES);
    for (const id of BASELINE_IDS) {
      const policy = baselinePolicy(id);
      const declared = computeIndicatorColumns(real, policy.indicators ?? INDICATOR_NAMES);
      assert.deepEqual(decideTargets(policy, real, declared, noFeatures), decideTargets({ ...policy, indicators: INDICATOR_NAMES }, real, all, noFeatures), id);
    }
  });

  test('the position shown is the one held: flat at each session start', () => {
    const positions: Position[] = [];
    const recorder: Policy = {
      id: 'recorder',
      kind: 'baseline',
      decide(obs) {
        positions.push(obs.position);
        return { position: 1, probabilities: [0, 0, 1] };
      },
    };
    const targets = decideTargets(recorder, bars, columnsOf(bars), noFeatures);
    const r = runBacktest(bars, targets, NO_COSTS);
    assert.deepEqual(positions, [...r.positions]);
    assert.equal(positions[60], 0);
    assert.equal(positions[61], 1);
  });

  test('a policy returning a non-position is refused', () => {
    const broken: Policy = { id: 'broken', kind: 'baseline', decide: () => ({ position: 2 as Position, probabilities: [0, 0, 1] }) };
    assert.throws(() => decideTargets(broken, bars, columnsOf(bars), noFeatures), (e: unknown) => e instanceof TasaError && /broken/.test(e.message));
  });
});

describe('baselines', () => {
  const bar = series([[100, 100]])[0]!;
  const row = (over: Partial<IndicatorRow>): IndicatorRow => ({ ...indicatorsOf([bar])[0]!, ...over });
  const decide = (id: string, over: Partial<IndicatorRow>, position: Position = 0): Position =>
    baselinePolicy(id).decide({ bar, indicators: row(over), features: new Float32Array(0), position }).position;

  test('ids and kinds; an unknown id names the valid ones', () => {
    assert.deepEqual([...BASELINE_IDS], ['flat', 'buy-and-hold', 'always-long', 'sma-crossover', 'rsi-mean-reversion']);
    for (const id of BASELINE_IDS) {
      const p = baselinePolicy(id);
      assert.equal(p.id, id);
      assert.equal(p.kind, 'baseline');
      assert.equal(p.holdsOvernight, id === 'buy-and-hold', `${id} holds overnight`);
    }
    assert.throws(
      () => baselinePolicy('momentum'),
      (e: unknown) => e instanceof TasaError && e.code === 'bad_argument' && BASELINE_IDS.every((id) => e.message.includes(id)) && e.message.includes('momentum'),
    );
  });

  test('flat, buy-and-hold and always-long, with one-hot probabilities', () => {
    assert.equal(decide('flat', {}, 1), 0);
    assert.equal(decide('always-long', {}, -1), 1);
    assert.equal(decide('buy-and-hold', {}, 0), 1);
    const d = baselinePolicy('always-long').decide({ bar, indicators: row({}), features: new Float32Array(0), position: 0 });
    assert.deepEqual(d.probabilities, [0, 0, 1]);
  });

  test('sma-crossover: long above, short below, flat when undefined', () => {
    assert.equal(decide('sma-crossover', { sma10: 101, sma20: 100 }), 1);
    assert.equal(decide('sma-crossover', { sma10: 99, sma20: 100 }, 1), -1);
    assert.equal(decide('sma-crossover', { sma10: NaN, sma20: 100 }, 1), 0);
    assert.equal(decide('sma-crossover', { sma10: 100, sma20: NaN }, -1), 0);
  });

  test('rsi-mean-reversion: enter at 30/70, exit back through 50, hold between, flat when undefined', () => {
    const rsi = (value: number, position: Position): Position => decide('rsi-mean-reversion', { rsi14: value }, position);
    assert.equal(rsi(25, 0), 1);
    assert.equal(rsi(75, 0), -1);
    assert.equal(rsi(45, 1), 1, 'a long is held below 50');
    assert.equal(rsi(50, 1), 0, 'a long exits at 50');
    assert.equal(rsi(65, 1), 0);
    assert.equal(rsi(55, -1), -1, 'a short is held above 50');
    assert.equal(rsi(50, -1), 0, 'a short exits at 50');
    assert.equal(rsi(45, 0), 0, 'no entry between the bands');
    assert.equal(rsi(75, 1), -1, 'overbought reverses a long');
    assert.equal(rsi(NaN, 1), 0);
  });

  test('sma-crossover over a trending session: long once both SMAs exist', () => {
    const up = series(Array.from({ length: 60 }, (_, k): [number, number] => [4000 + k, 4000 + k + 0.5]));
    const targets = decideTargets(baselinePolicy('sma-crossover'), up, columnsOf(up), noFeatures);
    assert.ok(targets.subarray(0, 19).every((x) => x === 0), 'flat while sma20 is undefined');
    assert.ok(targets.subarray(19).every((x) => x === 1));
  });
});

describe('renderBacktestReport', () => {
  const bars = randomSeries(3, 11);
  const targets = decideTargets(baselinePolicy('sma-crossover'), bars, columnsOf(bars), noFeatures);
  const costs = { spreadBps: 1, feeBps: 0.5 };
  const result = runBacktest(bars, targets, costs);
  const metrics = computePerformance(result, 14_600);
  const gates = evaluateGates({
    policyId: 'sma-crossover',
    run: (c) => computePerformance(runBacktest(bars, targets, c), 14_600),
    costs,
    metrics,
    returns: result.returns,
    benchmarks: [{ policyId: 'flat', metrics: { totalReturn: 0, sharpe: null } }],
    trials: { count: 5, sharpeVariance: 1e-4 },
  });
  const render = (over: Partial<Parameters<typeof renderBacktestReport>[0]> = {}): string =>
    renderBacktestReport({
      title: 'USD/COP <script>alert(1)</script> & co',
      symbol: 'USD/COP',
      policyId: 'sma-crossover',
      generatedAt: Date.parse('2024-02-01T15:30:00Z'),
      datasetHash: 'ab'.repeat(32),
      config: { split: 'test', note: '"quoted" <b>bold</b>' },
      result,
      metrics,
      gates,
      ...over,
    });

  test('is one self-contained page with charts, metrics, gates, ledger and config', () => {
    const html = render();
    assert.match(html, /^<!DOCTYPE html>\n<html lang="en">/);
    assert.match(html, /<\/html>\n$/);
    assert.equal((html.match(/<svg /g) ?? []).length, 2, 'equity and drawdown charts');
    assert.doesNotMatch(html, /<script|<link|src=|https?:\/\//i, 'no script and no external asset');
    assert.ok(html.includes(`${(metrics.totalReturn! * 100).toFixed(2)}%`), 'total return shown');
    assert.ok(html.includes('Sortino') && html.includes('Max drawdown') && html.includes('Profit factor'));
    assert.ok(html.includes('ab'.repeat(32)), 'dataset hash');
    assert.ok(html.includes('Production gates') && /PASS|FAIL/.test(html));
    assert.ok(html.includes('UTC−5'), 'times labelled as Bogota');
    assert.ok(html.includes('2024-02-01 10:30:00 -05:00'), 'generation time in Bogota');
    const firstTrade = result.trades[0]!;
    assert.ok(html.includes(firstTrade.entryPrice.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })), 'COP price with separators');
    assert.match(html, /\d,\d{3}\.\d{2}/);
    // Balanced tables: every opened element is closed.
    for (const tag of ['table', 'tr', 'section', 'svg', 'figure']) {
      assert.equal((html.match(new RegExp(`<${tag}[ >]`, 'g')) ?? []).length, (html.match(new RegExp(`</${tag}>`, 'g')) ?? []).length, tag);
    }
  });

  test('escapes every text it is given', () => {
    const html = render();
    assert.ok(html.includes('USD/COP &lt;script&gt;alert(1)&lt;/script&gt; &amp; co'));
    assert.ok(html.includes('&quot;quoted&quot; &lt;b&gt;bold&lt;/b&gt;'));
    assert.ok(!html.includes('<b>bold'));
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  test('a long ledger shows its first and last trades', () => {
    assert.ok(result.trades.length > 6, `${result.trades.length} trades`);
    const html = render({ maxTrades: 6 });
    const rows = html.split('<table class="ledger">')[1]!.split('</table>')[0]!.match(/<tr>/g)!.length;
    assert.equal(rows, 1 + 6 + 1, 'header, 6 trades, the elision row');
    assert.ok(html.includes(`${result.trades.length - 6} trades not shown`));
    assert.ok(html.includes(`<td>${result.trades.length}</td>`), 'the last trade is numbered');
  });

  test('shows n/a for undefined metrics and copes with no gates or trades', () => {
    const flat = runBacktest(bars, new Int8Array(bars.length), costs);
    const html = render({ result: flat, metrics: computePerformance(flat, 14_600), gates: null });
    assert.ok(html.includes('n/a'));
    assert.ok(html.includes('No trades.'));
    assert.ok(html.includes('Not evaluated.'));
  });

  test("labels every time in the market's own zone: New York, whose offset changes between the run and the generation", () => {
    const html = render({ symbol: 'EUR/USD', zone: 'America/New_York', generatedAt: Date.parse('2024-07-01T15:30:00Z') });
    assert.ok(html.includes('generated 2024-07-01 11:30:00 -04:00'), 'EDT in July');
    assert.ok(html.includes('all times America/New_York (UTC offset shown with each time)'));
    const firstTrade = result.trades[0]!;
    // January: EST, UTC-5, counted here without the zone database.
    const entryInNewYork = new Date(firstTrade.entryTime - 5 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
    assert.ok(html.includes(`<th>Entry (New York)</th>`) && html.includes(`<td>${entryInNewYork}</td>`), 'ledger in New York time');
    assert.doesNotMatch(html, /Bogot/);
    // Prices in its quote currency with its own 5 decimals (the series' prices stand in for EUR/USD's here).
    const fiveDecimals = firstTrade.entryPrice.toLocaleString('en-US', { minimumFractionDigits: 5, maximumFractionDigits: 5 });
    assert.ok(html.includes('<th>Entry price (USD)</th>') && html.includes(`<td>${fiveDecimals}</td>`), 'EUR/USD prices in USD, 5 decimals');
    assert.doesNotMatch(html, /\(COP\)/);
    const sameOffset = render({ zone: 'America/Sao_Paulo' });
    assert.ok(sameOffset.includes('all times America/Sao_Paulo (UTC−3)') && sameOffset.includes('<th>Exit (Sao Paulo, UTC−3)</th>'));
  });
});

describe('policies evaluated together: buy-and-hold, relative gates, trials, cost sensitivity', () => {
  const bars = randomSeries(5, 23);
  const costs = { spreadBps: 2, feeBps: 0.5 };
  const rate = 2.5e-4;
  const span: EvaluationSpan = { symbol: 'USD/COP', series: bars, indicators: indicatorsOf(bars), features: { names: [], times: new Float64Array(0), sessions: [], columns: [] }, start: 0, end: bars.length };
  const options: EvaluationOptions = {
    costs,
    initialEquity: 1,
    flatAtSessionEnd: true,
    thresholds: DEFAULT_GATE_THRESHOLDS,
    barsPerYear: 14_600,
    generatedAt: Date.parse('2024-02-01T15:30:00Z'),
    datasetHash: null,
    reportConfig: {},
  };
  const under = (id: string) => ({ policy: baselinePolicy(id), inputs: null });
  const evaluations = evaluatePolicies(span, BASELINE_IDS.map(under), options);
  const of = (id: string) => evaluations.find((e) => e.policyId === id)!;

  test('buy-and-hold: one entry at the second open, one exit at the last close, costs once, held over nights', () => {
    const e = of('buy-and-hold');
    assert.equal(e.result.flatAtSessionEnd, false);
    assert.equal(e.result.trades.length, 1);
    const [t] = e.result.trades;
    assert.deepEqual([t!.entryIndex, t!.entryPrice, t!.exitIndex, t!.exitPrice, t!.exitReason], [1, bars[1]!.open, bars.length - 1, bars[bars.length - 1]!.close, 'series-end']);
    // Entry pays rate × 1, the rest buys close/open growth, the exit pays rate on what is left.
    const growth = bars[bars.length - 1]!.close / bars[1]!.open;
    near(e.metrics.totalReturn!, (1 - rate) * growth * (1 - rate) - 1, 'net');
    near(e.metrics.grossReturn!, growth - 1, 'gross');
    assert.ok([...e.result.positions.subarray(1)].every((p) => p === 1), 'long through every session end');
    const always = of('always-long');
    assert.deepEqual([always.result.flatAtSessionEnd, always.result.trades.length], [true, 5], 'always-long closes each of the 5 sessions');
  });

  test('cost sensitivity: the same positions at 0.5x, 1x and 2x the costs', () => {
    const e = of('buy-and-hold');
    const growth = bars[bars.length - 1]!.close / bars[1]!.open;
    assert.deepEqual(e.metrics.costSensitivity!.map((c) => [c.factor, c.spreadBps, c.feeBps]), [[0.5, 1, 0.25], [1, 2, 0.5], [2, 4, 1]]);
    for (const c of e.metrics.costSensitivity!) near(c.totalReturn!, (1 - c.factor * rate) ** 2 * growth - 1, `${c.factor}x`);
    const sma = of('sma-crossover');
    const targets = decideTargets(baselinePolicy('sma-crossover'), bars, columnsOf(bars), noFeatures);
    near(sma.metrics.costSensitivity![2]!.totalReturn!, computePerformance(runBacktest(bars, targets, { spreadBps: 4, feeBps: 1 }), 14_600).totalReturn!, 'sma 2x');
    near(sma.metrics.grossReturn!, computePerformance(runBacktest(bars, targets, NO_COSTS), 14_600).totalReturn!, 'sma gross');
  });

  test('each policy is judged against the best other baseline, and the trials are the policies evaluated', () => {
    const returns = evaluations.map((e) => e.metrics.totalReturn!);
    for (const e of evaluations) {
      const others = evaluations.filter((o) => o.policyId !== e.policyId);
      const best = others.reduce((a, b) => (b.metrics.totalReturn! > a.metrics.totalReturn! ? b : a));
      assert.equal(e.gates.bestBaseline?.policyId, best.policyId, e.policyId);
      const excess = e.gates.gates.find((g) => g.gate === 'excess-vs-best-baseline')!;
      near(excess.value!, e.metrics.totalReturn! - best.metrics.totalReturn!, `${e.policyId} excess`);
      assert.equal(e.gates.significance?.trials ?? 5, 5);
    }
    assert.ok(returns.some((r) => r !== 0));
    // Independent recomputation of the variance of the per-bar Sharpe ratios (flat has none).
    const sharpes = evaluations.filter((e) => e.policyId !== 'flat').map((e) => {
      const r = [...e.result.returns];
      const mean = r.reduce((a, b) => a + b, 0) / r.length;
      return mean / Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / (r.length - 1));
    });
    const mean = sharpes.reduce((a, b) => a + b, 0) / sharpes.length;
    const variance = sharpes.reduce((a, b) => a + (b - mean) ** 2, 0) / (sharpes.length - 1);
    near(of('sma-crossover').gates.significance!.trialSharpeVariance, variance, 'trial variance');
    assert.equal(of('flat').gates.significance, null);
    assert.match(of('flat').gates.verdict!, /^no evidence of an edge: DSR undefined after 5 trials$/);
    assert.equal(evaluatePolicies(span, [under('sma-crossover')], { ...options, trials: 40 })[0]!.gates.significance!.trials, 40, 'trials given as input');
  });

  test('one policy alone is judged against every baseline over the same span', () => {
    const alone = evaluatePolicy(span, under('sma-crossover'), options);
    assert.deepEqual(alone.gates, of('sma-crossover').gates);
    assert.deepEqual(alone.metrics, of('sma-crossover').metrics);
  });

  test('the report shows gross and net, the cost-sensitivity table, turnover, expectancy and the verdict', () => {
    const e = of('sma-crossover');
    const html = e.reportHtml;
    assert.ok(html.includes('<h2>Cost sensitivity</h2>'));
    assert.equal(html.split('<table class="costs">')[1]!.split('</table>')[0]!.match(/<tr>/g)!.length, 4, 'header and 3 cost levels');
    assert.ok(html.includes(`${(e.metrics.grossReturn! * 100).toFixed(2)}%`), 'gross return');
    for (const c of e.metrics.costSensitivity!) assert.ok(html.includes(`<td>${(c.totalReturn! * 100).toFixed(2)}%</td>`), `${c.factor}x net`);
    assert.ok(html.includes(`${(e.metrics.expectancy! * 1e4).toFixed(1)} bps`), 'expectancy in bps');
    assert.ok(html.includes('Turnover') && html.includes('Average win') && html.includes('Average loss'));
    assert.ok(html.includes(escapeHtml(e.gates.verdict!)), 'the verdict');
    assert.ok(html.includes('deflated-sharpe') && html.includes(`DSR ${e.gates.significance!.dsr!.toFixed(3)}`));
  });
});
