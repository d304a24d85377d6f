import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BAR_MS } from '../../src/domain/bar.ts';
import { addDays, bogotaWallTime } from '../../src/domain/time.ts';
import { TasaError } from '../../src/errors.ts';
import { runBacktest } from '../../src/research/backtest.ts';
import { DEFAULT_GATE_THRESHOLDS, evaluateGates, type GateReport } from '../../src/research/gates.ts';
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

describe('evaluateGates', () => {
  test('defaults: Sortino >= 1, drawdown <= 15%, costs +25% still profitable, >= 30 trades', () => {
    assert.deepEqual({ ...DEFAULT_GATE_THRESHOLDS }, { minSortino: 1, maxDrawdown: 0.15, costStressFactor: 1.25, minStressedReturn: 0, minTrades: 30 });
    const { run, calls } = costSensitive();
    const report = evaluateGates({ run, costs: { spreadBps: 8, feeBps: 4 } });
    assert.equal(report.passed, true);
    assert.deepEqual(
      report.gates.map((g) => [g.gate, g.comparator, g.threshold, g.passed]),
      [
        ['sortino', '>=', 1, true],
        ['max-drawdown', '<=', 0.15, true],
        ['cost-stress', '>', 0, true],
        ['min-trades', '>=', 30, true],
      ],
    );
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
    const report = evaluateGates({ run, costs: { spreadBps: 12, feeBps: 6 } });
    assert.equal(report.passed, false);
    const stress = byName(report, 'cost-stress');
    assert.equal(stress.passed, false);
    assert.ok(Math.abs(stress.value! + 0.0025) < 1e-12);
    assert.ok(report.gates.filter((g) => g.gate !== 'cost-stress').every((g) => g.passed));
  });

  test('each threshold is inclusive where stated and fails just past it', () => {
    const at = (over: Partial<PerformanceMetrics>) => evaluateGates({ run: costSensitive(over).run, costs: { spreadBps: 1, feeBps: 0 } });
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
    const report = evaluateGates({ run: costSensitive({ sortino: null, maxDrawdown: null }).run, costs: { spreadBps: 1, feeBps: 0 } });
    assert.equal(byName(report, 'sortino').value, null);
    assert.equal(byName(report, 'sortino').passed, false);
    assert.equal(byName(report, 'max-drawdown').passed, false);
    assert.equal(report.passed, false);
  });

  test('thresholds are configurable; given metrics save the base run', () => {
    const { run, calls } = costSensitive();
    const report = evaluateGates({ run, costs: { spreadBps: 4, feeBps: 0 }, metrics: goodMetrics({ sortino: 2 }), thresholds: { minSortino: 3, costStressFactor: 2, minTrades: 200 } });
    assert.deepEqual(calls, [{ spreadBps: 8, feeBps: 0 }], 'only the stressed run');
    assert.equal(byName(report, 'sortino').threshold, 3);
    assert.equal(byName(report, 'sortino').passed, false);
    assert.equal(byName(report, 'min-trades').passed, false);
    assert.match(byName(report, 'cost-stress').description, /\+100%/);
  });

  test('rejects thresholds that are not numbers or a stress that lowers costs', () => {
    const { run } = costSensitive();
    const bad = (e: unknown): boolean => e instanceof TasaError && e.code === 'bad_argument';
    assert.throws(() => evaluateGates({ run, costs: { spreadBps: 1, feeBps: 0 }, thresholds: { minSortino: NaN } }), bad);
    assert.throws(() => evaluateGates({ run, costs: { spreadBps: 1, feeBps: 0 }, thresholds: { costStressFactor: 0.5 } }), bad);
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
    // Round trip costs 2 × rate; gross +0.1% -> break-even at 5 bps per leg.
    const cheap = evaluateGates({ run, costs: { spreadBps: 1, feeBps: 1 }, thresholds });
    assert.equal(cheap.passed, true, JSON.stringify(cheap.gates));
    const nearBreakEven = evaluateGates({ run, costs: { spreadBps: 3, feeBps: 1.5 }, thresholds });
    assert.equal(byName(nearBreakEven, 'cost-stress').passed, false, '4.5 bps × 1.25 = 5.6 bps > 5 bps');
    assert.ok(run({ spreadBps: 3, feeBps: 1.5 }).totalReturn! > 0, 'while the base run still makes money');
    assert.equal(byName(nearBreakEven, 'min-trades').value, 40);
  });
});
