/**
 * A backtest produced by the real engine for store and route tests: a synthetic series, seeded
 * random targets, runBacktest, computePerformance, evaluateGates (against flat and always-long on
 * the same series, 3 trials) and renderBacktestReport, shaped as the input of insertBacktest.
 */
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { runBacktest, type BacktestResult } from '../../src/research/backtest.ts';
import { renderBacktestReport } from '../../src/research/backtest-report.ts';
import { storedEquity } from '../../src/research/equity-curve.ts';
import { evaluateGates, type GateThresholds } from '../../src/research/gates.ts';
import { computePerformance, sessionBarsPerYear } from '../../src/research/performance.ts';
import type { TradingCosts } from '../../src/research/types.ts';
import type { BacktestInput } from '../../src/store/backtests-repo.ts';
import { prng, syntheticSeries } from '../research/synthetic-series.ts';

export interface FixtureOptions {
  policyId?: string;
  /** Seed of the targets (the series is always the same). */
  seed?: number;
  bars?: number;
  /** Target rule: random positions (default), always long, or always flat. */
  rule?: 'random' | 'long' | 'flat';
  thresholds?: Partial<GateThresholds>;
  withReport?: boolean;
}

export interface BacktestFixture {
  input: BacktestInput;
  result: BacktestResult;
}

const COSTS: TradingCosts = { spreadBps: 1, feeBps: 0.5 };
const calendar = new MarketCalendar();

export function backtestFixture(o: FixtureOptions = {}): BacktestFixture {
  const series = syntheticSeries(o.bars ?? 1200, { seed: 3 });
  const random = prng(o.seed ?? 1);
  const rule = o.rule ?? 'random';
  const targets = Int8Array.from(series, () => (rule === 'long' ? 1 : rule === 'flat' ? 0 : Math.floor(random() * 3) - 1));
  const fromDate = series[0]!.session;
  const toDate = series[series.length - 1]!.session;
  const barsPerYear = sessionBarsPerYear(calendar, fromDate, toDate);
  const run = (costs: TradingCosts) => computePerformance(runBacktest(series, targets, costs), barsPerYear);
  const result = runBacktest(series, targets, COSTS);
  const metrics = computePerformance(result, barsPerYear);
  const policyId = o.policyId ?? 'ppo-test';
  const longRun = computePerformance(runBacktest(series, Int8Array.from(series, () => 1), COSTS), barsPerYear);
  const benchmarks = [
    { policyId: 'flat', metrics: computePerformance(runBacktest(series, new Int8Array(series.length), COSTS), barsPerYear) },
    { policyId: 'always-long', metrics: longRun },
  ];
  const trials = { count: 3, sharpeVariance: 1e-4 };
  const gates = evaluateGates({ policyId, run, costs: COSTS, metrics, returns: result.returns, benchmarks, trials, ...(o.thresholds ? { thresholds: o.thresholds } : {}) });
  const config = { spreadBps: COSTS.spreadBps, feeBps: COSTS.feeBps, seed: o.seed ?? 1 };
  const reportHtml =
    o.withReport === false
      ? null
      : renderBacktestReport({ title: `Backtest ${policyId}`, symbol: 'USD/COP', policyId, generatedAt: Date.UTC(2025, 0, 1), datasetHash: 'd'.repeat(64), config, result, metrics, gates });
  return {
    result,
    input: {
      policyId,
      symbol: 'USD/COP',
      fromDate,
      toDate,
      config,
      metrics,
      gates,
      passed: gates.passed,
      equity: storedEquity(result, calendar),
      trades: result.trades,
      reportHtml,
      datasetHash: 'd'.repeat(64),
      pipelineRunId: null,
    },
  };
}
