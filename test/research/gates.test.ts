import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BAR_MS } from '../../src/domain/bar.ts';
import { addDays, bogotaWallTime } from '../../src/domain/time.ts';
import { TasaError } from '../../src/errors.ts';
import { runBacktest } from '../../src/research/backtest.ts';
import { DEFAULT_GATE_THRESHOLDS, evaluateGates, type BenchmarkRun, type GateInput, type GateReport } from '../../src/research/gates.ts';
import { computePerformance, type PerformanceMetrics } from '../../src/research/performance.ts';
import type { SeriesBar, TradingCosts } from '../../src/research/types.ts';

/** Metrics that pass every default gate, to be spoiled one field at a time. */
function goodMetrics(over: Partial<PerformanceMetrics> = {}): PerformanceMetrics {
  return {
    bars: 6000,
    barsPerYear: 14_600,
    years: 6000 / 14_600,
    totalReturn: 0.08,
    cagr: 0.2,
    annualizedVolatility: 0.1,
    sharpe: 1.8,
    sortino: 2.5,
    maxDrawdown: 0.05,
    maxDrawdownBars: 300,
    maxDrawdownMs: 86_400_000,
    maxDrawdownRecovered: true,
    calmar: 4,
    winRate: 0.55,
    profitFactor: 1.4,
    exposure: 0.5,
    tradeCount: 120,
    averageHoldingBars: 12,
    averageHoldingMinutes: 60,
    ...over,
  };
}

/** A strategy whose total return is 0.02 - 0.001 × (spread + fee): it only depends on costs. */
function costSensitive(base: Partial<PerformanceMetrics> = {}): { run: (costs: TradingCosts) => PerformanceMetrics; calls: TradingCosts[] } {
  const calls: TradingCosts[] = [];
  return {
    calls,
    run: (costs) => {
      calls.push(costs);
      return goodMetrics({ ...base, totalReturn: 0.02 - 0.001 * (costs.spreadBps + costs.feeBps) });
    },
  };
}

const byName = (report: GateReport, gate: string) => report.gates.find((g) => g.gate === gate)!;

/** Per-bar returns with a large Sharpe ratio: +0.2% and 0 alternating (SR ≈ 1 per bar over 200 bars, PSR ≈ 1). */
const SKILLED = Float64Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 0.002 : 0));
/** Flat and a buy-and-hold that lost 1%: the policies above beat both. */
const BENCHMARKS: BenchmarkRun[] = [
  { policyId: 'flat', metrics: { totalReturn: 0, sharpe: null } },
  { policyId: 'buy-and-hold', metrics: { totalReturn: -0.01, sharpe: -0.4 } },
];

/** evaluateGates with a policy that beats the benchmarks significantly, one trial; `over` changes any input. */
function gatesOf(run: GateInput['run'], costs: TradingCosts, over: Partial<GateInput> = {}): GateReport {
  return evaluateGates({ policyId: 'ppo-x', run, costs, returns: SKILLED, benchmarks: BENCHMARKS, trials: { count: 1, sharpeVariance: 0 }, ...over });
}

describe('evaluateGates', () => {
  test('defaults: Sortino >= 1, drawdown <= 15%, costs +25% still profitable, >= 30 trades, above flat and the best baseline, PSR and DSR >= 0.95', () => {
    assert.deepEqual(
      { ...DEFAULT_GATE_THRESHOLDS },
      { minSortino: 1, maxDrawdown: 0.15, costStressFactor: 1.25, minStressedReturn: 0, minTrades: 30, minSharpeOverFlat: 0, minExcessReturn: 0, confidence: 0.95 },
    );
    const { run, calls } = costSensitive();
    const report = gatesOf(run, { spreadBps: 8, feeBps: 4 });
    assert.equal(report.passed, true);
    assert.deepEqual(
      report.gates.map((g) => [g.gate, g.comparator, g.threshold, g.passed]),
      [
        ['sortino', '>=', 1, true],
        ['max-drawdown', '<=', 0.15, true],
        ['cost-stress', '>', 0, true],
        ['min-trades', '>=', 30, true],
        ['sharpe-vs-flat', '>', 0, true],
        ['excess-vs-best-baseline', '>', 0, true],
        ['probabilistic-sharpe', '>=', 0.95, true],
        ['deflated-sharpe', '>=', 0.95, true],
      ],
    );
    assert.match(report.verdict!, /^evidence of an edge: DSR 1\.00 >= 0\.95 after 1 trial, and every gate passed$/);
    // One run at the given costs, one at costs × 1.25.
    assert.deepEqual(calls, [
      { spreadBps: 8, feeBps: 4 },
      { spreadBps: 10, feeBps: 5 },
    ]);
    assert.deepEqual(report.stressedCosts, { spreadBps: 10, feeBps: 5 });
    assert.ok(Math.abs(byName(report, 'cost-stress').value! - (0.02 - 0.015)) < 1e-12);
  });

  test('the cost-stress gate fails when +25% costs wipe out the return, though the base run is profitable', () => {
    // Base: 12 + 6 = 18 bps -> +0.2%; stressed: 22.5 bps -> -0.25%.
    const { run } = costSensitive();
    const report = gatesOf(run, { spreadBps: 12, feeBps: 6 });
    assert.equal(report.passed, false);
    const stress = byName(report, 'cost-stress');
    assert.equal(stress.passed, false);
    assert.ok(Math.abs(stress.value! + 0.0025) < 1e-12);
    assert.ok(report.gates.filter((g) => g.gate !== 'cost-stress').every((g) => g.passed));
  });

  test('each threshold is inclusive where stated and fails just past it', () => {
    const at = (over: Partial<PerformanceMetrics>) => gatesOf(costSensitive(over).run, { spreadBps: 1, feeBps: 0 });
    assert.equal(byName(at({ sortino: 1 }), 'sortino').passed, true);
    assert.equal(byName(at({ sortino: 0.999 }), 'sortino').passed, false);
    assert.equal(byName(at({ maxDrawdown: 0.15 }), 'max-drawdown').passed, true);
    assert.equal(byName(at({ maxDrawdown: 0.1501 }), 'max-drawdown').passed, false);
    assert.equal(byName(at({ tradeCount: 30 }), 'min-trades').passed, true);
    const few = at({ tradeCount: 29 });
    assert.equal(byName(few, 'min-trades').passed, false);
    assert.equal(few.passed, false);
  });

  test('an undefined metric (null) fails its gate', () => {
    const report = gatesOf(costSensitive({ sortino: null, maxDrawdown: null }).run, { spreadBps: 1, feeBps: 0 });
    assert.equal(byName(report, 'sortino').value, null);
    assert.equal(byName(report, 'sortino').passed, false);
    assert.equal(byName(report, 'max-drawdown').passed, false);
    assert.equal(report.passed, false);
  });

  test('thresholds are configurable; given metrics save the base run', () => {
    const { run, calls } = costSensitive();
    const report = gatesOf(run, { spreadBps: 4, feeBps: 0 }, { metrics: goodMetrics({ sortino: 2 }), thresholds: { minSortino: 3, costStressFactor: 2, minTrades: 200 } });
    assert.deepEqual(calls, [{ spreadBps: 8, feeBps: 0 }], 'only the stressed run');
    assert.equal(byName(report, 'sortino').threshold, 3);
    assert.equal(byName(report, 'sortino').passed, false);
    assert.equal(byName(report, 'min-trades').passed, false);
    assert.match(byName(report, 'cost-stress').description, /\+100%/);
  });

  test('rejects thresholds that are not numbers or a stress that lowers costs', () => {
    const { run } = costSensitive();
    const bad = (e: unknown): boolean => e instanceof TasaError && e.code === 'bad_argument';
    assert.throws(() => gatesOf(run, { spreadBps: 1, feeBps: 0 }, { thresholds: { minSortino: NaN } }), bad);
    assert.throws(() => gatesOf(run, { spreadBps: 1, feeBps: 0 }, { thresholds: { costStressFactor: 0.5 } }), bad);
  });

  test('on a real backtest: a cost-bound strategy passes at low costs and fails the stress near break-even', () => {
    // 40 sessions; each dips, then rises 0.1% from bar 1 open to bar 3 close; always-long from bar 1: gross +0.1% per trade.
    const bars: SeriesBar[] = [];
    for (let s = 0; s < 40; s++) {
      const session = addDays('2024-01-02', s);
      const open = bogotaWallTime(session, 8);
      const prices: Array<[number, number]> = [
        [4000, 4000],
        [4000, 3999],
        [3999, 4002],
        [4002, 4004],
      ];
      prices.forEach(([o, c], k) => bars.push({ time: open + k * BAR_MS, session, barOfSession: k + 1, open: o, high: Math.max(o, c), low: Math.min(o, c), close: c }));
    }
    const targets = Int8Array.from(bars, () => 1);
    const run = (costs: TradingCosts) => computePerformance(runBacktest(bars, targets, costs), 14_600);
    const thresholds = { minSortino: 0 };
    const real = (costs: TradingCosts) => gatesOf(run, costs, { thresholds, returns: runBacktest(bars, targets, costs).returns, benchmarks: [BENCHMARKS[0]!] });
    // Round trip costs 2 × rate; gross +0.1% -> break-even at 5 bps per leg.
    const cheap = real({ spreadBps: 1, feeBps: 1 });
    assert.equal(cheap.passed, true, JSON.stringify(cheap.gates));
    const nearBreakEven = real({ spreadBps: 3, feeBps: 1.5 });
    assert.equal(byName(nearBreakEven, 'cost-stress').passed, false, '4.5 bps × 1.25 = 5.6 bps > 5 bps');
    assert.ok(run({ spreadBps: 3, feeBps: 1.5 }).totalReturn! > 0, 'while the base run still makes money');
    assert.equal(byName(nearBreakEven, 'min-trades').value, 40);
  });
});

describe('relative and significance gates', () => {
  const { run } = costSensitive();
  const costs = { spreadBps: 1, feeBps: 0 };
  // costSensitive at 1 bp: total return 0.02 - 0.001 = 0.019, Sharpe 1.8.

  test("Sharpe must be above flat's: flat's undefined Sharpe counts as 0, a defined one is the threshold", () => {
    assert.equal(byName(gatesOf(run, costs), 'sharpe-vs-flat').threshold, 0);
    const noFlat = gatesOf(run, costs, { benchmarks: [BENCHMARKS[1]!] });
    assert.equal(byName(noFlat, 'sharpe-vs-flat').threshold, 0, 'no flat run: flat earns 0');
    const oddFlat = gatesOf(run, costs, { benchmarks: [{ policyId: 'flat', metrics: { totalReturn: 0.01, sharpe: 1.8 } }] });
    assert.deepEqual([byName(oddFlat, 'sharpe-vs-flat').threshold, byName(oddFlat, 'sharpe-vs-flat').passed], [1.8, false], 'strictly above');
    const margin = gatesOf(run, costs, { thresholds: { minSharpeOverFlat: 2 } });
    assert.equal(byName(margin, 'sharpe-vs-flat').passed, false);
    assert.equal(byName(gatesOf(costSensitive({ sharpe: null }).run, costs), 'sharpe-vs-flat').passed, false);
  });

  test('the excess over the best other baseline: the policy itself is skipped, null (failing) when none ran', () => {
    const benchmarks: BenchmarkRun[] = [...BENCHMARKS, { policyId: 'sma-crossover', metrics: { totalReturn: 0.015, sharpe: 1 } }, { policyId: 'ppo-x', metrics: { totalReturn: 0.5, sharpe: 9 } }];
    const report = gatesOf(run, costs, { benchmarks });
    const excess = byName(report, 'excess-vs-best-baseline');
    assert.ok(Math.abs(excess.value! - (0.019 - 0.015)) < 1e-12);
    assert.equal(excess.passed, true);
    assert.equal(excess.description, "Net return minus the best baseline's (sma-crossover: +1.50%)");
    assert.deepEqual(report.bestBaseline, { policyId: 'sma-crossover', totalReturn: 0.015 });
    const beaten = gatesOf(run, costs, { benchmarks: [...benchmarks, { policyId: 'buy-and-hold', metrics: { totalReturn: 0.019, sharpe: 1 } }] });
    assert.equal(byName(beaten, 'excess-vs-best-baseline').value, 0);
    assert.equal(byName(beaten, 'excess-vs-best-baseline').passed, false, 'equal is no edge');
    assert.match(beaten.verdict!, /^no edge over the baselines: net return minus the best baseline's \(buy-and-hold: \+1\.90%\) not above the threshold/);
    const alone = gatesOf(run, costs, { benchmarks: [{ policyId: 'ppo-x', metrics: { totalReturn: 0, sharpe: null } }] });
    assert.deepEqual([byName(alone, 'excess-vs-best-baseline').value, byName(alone, 'excess-vs-best-baseline').passed, alone.bestBaseline], [null, false, null]);
  });

  test('PSR and DSR of the run returns, deflated for the trials, with the plain verdict', () => {
    // Five times +1.1% and -0.9%: per-bar SR 0.1/√(10/9) = 0.0949, skewness 0, kurtosis 1, T = 10:
    // PSR = Φ(0.0949 × 3) = 0.612; SR0 for 5 trials of variance 0.0004 = 0.02 × (0.4228 × 0.8416 + 0.5772 × 1.4497) = 0.02385;
    // DSR = Φ((0.0949 - 0.02385) × 3) = 0.584.
    const returns = [0.011, -0.009, 0.011, -0.009, 0.011, -0.009, 0.011, -0.009, 0.011, -0.009];
    const report = gatesOf(run, costs, { returns, trials: { count: 5, sharpeVariance: 0.0004 } });
    const psr = byName(report, 'probabilistic-sharpe');
    const dsr = byName(report, 'deflated-sharpe');
    assert.ok(Math.abs(psr.value! - 0.6120266058609285) < 1e-12);
    assert.ok(Math.abs(dsr.value! - 0.5843557645268179) < 1e-12);
    assert.deepEqual([psr.passed, dsr.passed, report.passed], [false, false, false]);
    assert.equal(dsr.description, 'Deflated Sharpe ratio after 5 trials');
    assert.ok(Math.abs(report.significance!.expectedMaxSharpe - 0.023851880020295785) < 1e-12);
    assert.equal(report.verdict, 'no evidence of an edge: DSR 0.58 < 0.95 after 5 trials');
    const lenient = gatesOf(run, costs, { returns, trials: { count: 5, sharpeVariance: 0.0004 }, thresholds: { confidence: 0.5 } });
    assert.deepEqual([byName(lenient, 'probabilistic-sharpe').passed, byName(lenient, 'deflated-sharpe').passed], [true, true]);
  });

  test('returns without variance leave PSR and DSR undefined: no evidence', () => {
    const report = gatesOf(run, costs, { returns: new Float64Array(50) });
    assert.equal(report.significance, null);
    assert.deepEqual([byName(report, 'deflated-sharpe').value, byName(report, 'deflated-sharpe').passed], [null, false]);
    assert.equal(report.verdict, 'no evidence of an edge: DSR undefined after 1 trial');
  });

  test('an edge that fails another gate says which', () => {
    const report = gatesOf(costSensitive({ maxDrawdown: 0.3 }).run, costs);
    assert.equal(report.verdict, 'an edge (DSR 1.00 >= 0.95 after 1 trial) that fails max-drawdown');
  });

  test('rejects a confidence outside [0, 1) and a bad trial count', () => {
    const bad = (e: unknown): boolean => e instanceof TasaError && e.code === 'bad_argument';
    assert.throws(() => gatesOf(run, costs, { thresholds: { confidence: 1 } }), bad);
    assert.throws(() => gatesOf(run, costs, { thresholds: { confidence: -0.1 } }), bad);
    assert.throws(() => gatesOf(run, costs, { trials: { count: 0, sharpeVariance: 0 } }), bad);
    assert.throws(() => gatesOf(run, costs, { trials: { count: 3, sharpeVariance: NaN } }), bad);
  });
});
