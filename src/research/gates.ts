/**
 * Production gates: the checks a strategy must pass before it may trade. Each gate compares one
 * metric with a configurable threshold; a metric that is undefined (null) fails its gate, since
 * "cannot be measured" is not evidence of quality. Pure: the cost-stress gate reruns the strategy
 * through the caller's `run`.
 */
import type { GateName, GateReport, GateResult } from '../contracts/api/research.ts';
import { TasaError } from '../errors.ts';
import type { PerformanceMetrics } from './performance.ts';
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
}

export const DEFAULT_GATE_THRESHOLDS: Readonly<GateThresholds> = Object.freeze({
  minSortino: 1.0,
  maxDrawdown: 0.15,
  costStressFactor: 1.25,
  minStressedReturn: 0,
  minTrades: 30,
});

export type { GateName, GateReport, GateResult };

export interface GateInput {
  /** Runs the strategy with the given costs and returns its metrics. */
  run: (costs: TradingCosts) => PerformanceMetrics;
  costs: TradingCosts;
  thresholds?: Partial<GateThresholds>;
  /** The metrics at `costs` when already computed (saves one run). */
  metrics?: PerformanceMetrics;
}

export function evaluateGates(input: GateInput): GateReport {
  const t = resolveThresholds(input.thresholds);
  const metrics = input.metrics ?? input.run(input.costs);
  const stressedCosts = { spreadBps: input.costs.spreadBps * t.costStressFactor, feeBps: input.costs.feeBps * t.costStressFactor };
  const stressed = input.run(stressedCosts);
  const stressPercent = Math.round((t.costStressFactor - 1) * 100);
  const gates = [
    gate('sortino', '>=', t.minSortino, metrics.sortino, 'Sortino ratio of the run'),
    gate('max-drawdown', '<=', t.maxDrawdown, metrics.maxDrawdown, 'Maximum drawdown (fraction of the peak)'),
    gate('cost-stress', '>', t.minStressedReturn, stressed.totalReturn, `Total return with costs ${stressPercent >= 0 ? '+' : ''}${stressPercent}%`),
    gate('min-trades', '>=', t.minTrades, metrics.tradeCount, 'Number of trades'),
  ];
  return { passed: gates.every((g) => g.passed), gates, stressedCosts };
}

function gate(name: GateName, comparator: GateResult['comparator'], threshold: number, value: number | null, description: string): GateResult {
  const passed = value !== null && (comparator === '>=' ? value >= threshold : comparator === '<=' ? value <= threshold : value > threshold);
  return { gate: name, comparator, threshold, value, passed, description };
}

function resolveThresholds(overrides: Partial<GateThresholds> = {}): GateThresholds {
  const t: GateThresholds = { ...DEFAULT_GATE_THRESHOLDS };
  for (const key of Object.keys(DEFAULT_GATE_THRESHOLDS) as Array<keyof GateThresholds>) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (!Number.isFinite(value)) throw new TasaError('bad_argument', `Gate threshold ${key} must be a finite number, got ${value}.`, { input: key });
    t[key] = value;
  }
  if (t.costStressFactor < 1) throw new TasaError('bad_argument', `Gate threshold costStressFactor must be >= 1 (a stress raises costs), got ${t.costStressFactor}.`, { input: 'costStressFactor' });
  return t;
}
