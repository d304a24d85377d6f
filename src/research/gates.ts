/**
 * Production gates: the checks a strategy must pass before it may trade. Each gate compares one
 * metric with a threshold; a metric that is undefined (null) fails its gate, since "cannot be
 * measured" is not evidence of quality. Pure: the cost-stress gate reruns the strategy through
 * the caller's `run`.
 *
 * Three kinds of gate, all required:
 * - absolute: Sortino, maximum drawdown, net return with costs stressed, number of trades;
 * - relative, over the same span after the same costs: Sharpe above flat's (flat earns the
 *   risk-free rate 0, so its Sharpe counts as 0 when undefined), net return above the best
 *   baseline's (the policy itself excluded);
 * - significance (significance.ts): the probabilistic Sharpe ratio against 0 and the deflated
 *   Sharpe ratio counting every configuration tried, each at least `confidence`.
 * The report ends with a plain verdict, e.g. "no evidence of an edge: DSR 0.41 < 0.95 after 5 trials".
 */
import type { GateName, GateReport, GateResult, PerformanceMetrics } from '../contracts/api/research.ts';
import { TasaError } from '../errors.ts';
import { deflatedSharpe, expectedMaxSharpe, perBarSharpe, probabilisticSharpe, returnMoments } from './significance.ts';
import { scaleCosts } from './execution-model.ts';
import type { TradingCosts } from './types.ts';

export interface GateThresholds {
  /** Sortino ratio at least this. */
  minSortino: number;
  /** Max drawdown (positive fraction) at most this. */
  maxDrawdown: number;
  /** Costs are multiplied by this for the stress rerun (1.25 = +25%). */
  costStressFactor: number;
  /** Total return of the stressed rerun must be strictly above this. */
  minStressedReturn: number;
  /** At least this many trades. */
  minTrades: number;
  /** The (annualized) Sharpe ratio must be strictly above flat's plus this. */
  minSharpeOverFlat: number;
  /** Net total return minus the best baseline's must be strictly above this (a fraction: 0.01 = 1 point). */
  minExcessReturn: number;
  /** PSR and DSR at least this; 0 <= confidence < 1. */
  confidence: number;
}

export const DEFAULT_GATE_THRESHOLDS: Readonly<GateThresholds> = Object.freeze({
  minSortino: 1.0,
  maxDrawdown: 0.15,
  costStressFactor: 1.25,
  minStressedReturn: 0,
  minTrades: 30,
  minSharpeOverFlat: 0,
  minExcessReturn: 0,
  confidence: 0.95,
});

export type { GateName, GateReport, GateResult };

/** A baseline's run over the same span with the same costs. */
export interface BenchmarkRun {
  policyId: string;
  metrics: Pick<PerformanceMetrics, 'totalReturn' | 'sharpe'>;
}

/** The configurations tried (policies, seeds) and the variance of their per-bar Sharpe ratios. */
export interface Trials {
  count: number;
  sharpeVariance: number;
}

export interface GateInput {
  policyId: string;
  /** Runs the strategy with the given costs and returns its metrics. */
  run: (costs: TradingCosts) => PerformanceMetrics;
  costs: TradingCosts;
  thresholds?: Partial<GateThresholds>;
  /** The metrics at `costs` when already computed (saves one run). */
  metrics?: PerformanceMetrics;
  /** The per-bar net returns of the run at `costs`. */
  returns: ArrayLike<number>;
  /** The baselines over the same span at the same costs (an entry for `policyId` itself is ignored). */
  benchmarks: readonly BenchmarkRun[];
  trials: Trials;
}

export function evaluateGates(input: GateInput): GateReport {
  const t = resolveGateThresholds(input.thresholds);
  assertTrials(input.trials);
  const metrics = input.metrics ?? input.run(input.costs);
  const stressedCosts = scaleCosts(input.costs, t.costStressFactor);
  const stressed = input.run(stressedCosts);
  const stressPercent = Math.round((t.costStressFactor - 1) * 100);
  const best = bestBaseline(input.benchmarks, input.policyId);
  const significance = significanceOf(input.returns, input.trials);
  const gates = [
    gate('sortino', '>=', t.minSortino, metrics.sortino, 'Sortino ratio of the run'),
    gate('max-drawdown', '<=', t.maxDrawdown, metrics.maxDrawdown, 'Maximum drawdown (fraction of the peak)'),
    gate('cost-stress', '>', t.minStressedReturn, stressed.totalReturn, `Total return with costs ${stressPercent >= 0 ? '+' : ''}${stressPercent}%`),
    gate('min-trades', '>=', t.minTrades, metrics.tradeCount, 'Number of trades'),
    gate('sharpe-vs-flat', '>', flatSharpe(input.benchmarks) + t.minSharpeOverFlat, metrics.sharpe, "Sharpe ratio against flat's (flat earns 0)"),
    excessGate(metrics.totalReturn, best, t.minExcessReturn),
    gate('probabilistic-sharpe', '>=', t.confidence, significance?.psr ?? null, 'Probabilistic Sharpe ratio: P(true Sharpe > 0)'),
    gate('deflated-sharpe', '>=', t.confidence, significance?.dsr ?? null, `Deflated Sharpe ratio after ${input.trials.count} ${input.trials.count === 1 ? 'trial' : 'trials'}`),
  ];
  const passed = gates.every((g) => g.passed);
  return { passed, gates, stressedCosts, verdict: verdictOf(gates, input.trials.count), bestBaseline: best, significance };
}

function gate(name: GateName, comparator: GateResult['comparator'], threshold: number, value: number | null, description: string): GateResult {
  const passed = value !== null && (comparator === '>=' ? value >= threshold : comparator === '<=' ? value <= threshold : value > threshold);
  return { gate: name, comparator, threshold, value, passed, description };
}

function flatSharpe(benchmarks: readonly BenchmarkRun[]): number {
  return benchmarks.find((b) => b.policyId === 'flat')?.metrics.sharpe ?? 0;
}

/** The baseline with the highest net total return, other than the policy itself; null when there is none. */
export function bestBaseline(benchmarks: readonly BenchmarkRun[], policyId: string): NonNullable<GateReport['bestBaseline']> | null {
  let best: NonNullable<GateReport['bestBaseline']> | null = null;
  for (const b of benchmarks) {
    const r = b.metrics.totalReturn;
    if (b.policyId === policyId || r === null) continue;
    if (best === null || r > best.totalReturn) best = { policyId: b.policyId, totalReturn: r };
  }
  return best;
}

function excessGate(totalReturn: number | null, best: GateReport['bestBaseline'], minExcess: number): GateResult {
  if (best === null || best === undefined) return gate('excess-vs-best-baseline', '>', minExcess, null, "Net return minus the best baseline's (no baseline ran on this span)");
  const value = totalReturn === null ? null : totalReturn - best.totalReturn;
  return gate('excess-vs-best-baseline', '>', minExcess, value, `Net return minus the best baseline's (${best.policyId}: ${percentText(best.totalReturn)})`);
}

function significanceOf(returns: ArrayLike<number>, trials: Trials): GateReport['significance'] {
  const m = returnMoments(returns);
  if (m === null) return null;
  return {
    bars: m.count,
    perBarSharpe: perBarSharpe(m),
    skewness: m.skewness,
    kurtosis: m.kurtosis,
    trials: trials.count,
    trialSharpeVariance: trials.sharpeVariance,
    expectedMaxSharpe: expectedMaxSharpe(trials.count, trials.sharpeVariance),
    psr: probabilisticSharpe(m, 0),
    dsr: deflatedSharpe(m, trials.count, trials.sharpeVariance),
  };
}

/** One sentence: is there an edge, and what says so or not. */
export function verdictOf(gates: readonly GateResult[], trials: number): string {
  const byName = (name: GateName): GateResult => gates.find((g) => g.gate === name)!;
  const dsr = byName('deflated-sharpe');
  const after = `after ${trials} ${trials === 1 ? 'trial' : 'trials'}`;
  const dsrText = dsr.value === null ? 'DSR undefined' : `DSR ${dsr.value.toFixed(2)} ${dsr.passed ? '>=' : '<'} ${dsr.threshold.toFixed(2)}`;
  if (!dsr.passed) return `no evidence of an edge: ${dsrText} ${after}`;
  const relative = [byName('sharpe-vs-flat'), byName('excess-vs-best-baseline')].filter((g) => !g.passed);
  if (relative.length > 0) return `no edge over the baselines: ${relative.map((g) => g.description.toLowerCase()).join('; ')} not above the threshold (${dsrText} ${after})`;
  const failed = gates.filter((g) => !g.passed).map((g) => g.gate);
  if (failed.length > 0) return `an edge (${dsrText} ${after}) that fails ${failed.join(', ')}`;
  return `evidence of an edge: ${dsrText} ${after}, and every gate passed`;
}

function percentText(x: number): string {
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;
}

function assertTrials(trials: Trials): void {
  if (!Number.isInteger(trials.count) || trials.count < 1) throw new TasaError('bad_argument', `The number of trials must be an integer >= 1, got ${trials.count}.`, { input: 'trials' });
  if (!Number.isFinite(trials.sharpeVariance) || trials.sharpeVariance < 0) {
    throw new TasaError('bad_argument', `The variance of the trials' Sharpe ratios must be a finite number >= 0, got ${trials.sharpeVariance}.`, { input: 'sharpeVariance' });
  }
}

/** The defaults with `overrides` applied, validated. */
export function resolveGateThresholds(overrides: Partial<GateThresholds> = {}): GateThresholds {
  const t: GateThresholds = { ...DEFAULT_GATE_THRESHOLDS };
  for (const key of Object.keys(DEFAULT_GATE_THRESHOLDS) as Array<keyof GateThresholds>) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (!Number.isFinite(value)) throw new TasaError('bad_argument', `Gate threshold ${key} must be a finite number, got ${value}.`, { input: key });
    t[key] = value;
  }
  if (t.costStressFactor < 1) throw new TasaError('bad_argument', `Gate threshold costStressFactor must be >= 1 (a stress raises costs), got ${t.costStressFactor}.`, { input: 'costStressFactor' });
  if (!(t.confidence >= 0 && t.confidence < 1)) throw new TasaError('bad_argument', `Gate threshold confidence must be >= 0 and < 1, got ${t.confidence}.`, { input: 'confidence' });
  return t;
}
