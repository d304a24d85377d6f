/**
 * The functions that turn stored research rows (models, predictions, backtests, analytics) into
 * the JSON shapes of the research routes (src/contracts/api/research.ts). Times are UTC ISO 8601
 * with Z.
 */
import type {
  BacktestRef,
  BacktestView,
  EquityView,
  GateReport,
  ModelView,
  PerformanceMetrics,
  PeriodView,
  PredictionView,
  StoredEquity,
  Trade,
  TradeView,
} from '../../contracts/api/research.ts';
import { toIsoUtc } from '../../domain/time.ts';
import type { PeriodPnl } from '../../research/analytics.ts';
import type { ModelEvaluation } from '../../research/model-evaluations.ts';
import type { BacktestSummary } from '../../store/backtests-repo.ts';
import type { ModelSummary } from '../../store/models-repo.ts';
import type { Prediction } from '../../store/predictions-repo.ts';

// ---- models ----

/** A model with its test metrics and gate result (model-evaluations.ts). */
export function modelView(m: ModelSummary, evaluation: ModelEvaluation): ModelView {
  return {
    id: m.id,
    kind: m.kind,
    symbol: m.symbol,
    status: m.status,
    datasetHash: m.datasetHash,
    config: m.config,
    metrics: m.metrics,
    trainingIterations: m.trainingCurve.length,
    weightsBytes: m.weightsBytes,
    createdAt: toIsoUtc(m.createdAt),
    promotedAt: m.promotedAt === null ? null : toIsoUtc(m.promotedAt),
    test: evaluation.test,
    gateResult: evaluation.gateResult,
  };
}

// ---- predictions ----

export function predictionView(p: Prediction): PredictionView {
  const [short, flat, long] = p.probabilities;
  return {
    symbol: p.symbol,
    barTime: toIsoUtc(p.barTime),
    modelId: p.modelId,
    position: p.position,
    probabilities: { short, flat, long },
    latencyMs: p.latencyMs,
    createdAt: toIsoUtc(p.createdAt),
  };
}

// ---- backtests ----

export function backtestRef(b: BacktestSummary): BacktestRef {
  return { id: b.id, policyId: b.policyId, symbol: b.symbol, fromDate: b.fromDate, toDate: b.toDate, createdAt: toIsoUtc(b.createdAt) };
}

export function backtestView(b: BacktestSummary): BacktestView {
  return {
    ...backtestRef(b),
    config: b.config,
    metrics: metricsView(b.metrics),
    gates: b.gates === null ? null : gateReportView(b.gates),
    passed: b.passed,
    datasetHash: b.datasetHash,
    pipelineRunId: b.pipelineRunId,
    hasReport: b.hasReport,
  };
}

export function metricsView(m: PerformanceMetrics): PerformanceMetrics {
  return { ...m };
}

export function gateReportView(g: GateReport): GateReport {
  // Backtests stored before the relative and significance gates have no verdict, best baseline or significance.
  return {
    passed: g.passed,
    gates: g.gates.map((x) => ({ ...x })),
    stressedCosts: { ...g.stressedCosts },
    ...(g.verdict === undefined ? {} : { verdict: g.verdict }),
    ...(g.bestBaseline === undefined ? {} : { bestBaseline: g.bestBaseline === null ? null : { ...g.bestBaseline } }),
    ...(g.significance === undefined ? {} : { significance: g.significance === null ? null : { ...g.significance } }),
  };
}

export function equityView(e: StoredEquity): EquityView {
  return { ...e, points: e.points.map(([time, equity, drawdown]) => ({ time: toIsoUtc(time), equity, drawdown })) };
}

export function tradeView(t: Trade): TradeView {
  return {
    side: t.side,
    entryTime: toIsoUtc(t.entryTime),
    exitTime: toIsoUtc(t.exitTime),
    entryPrice: t.entryPrice,
    exitPrice: t.exitPrice,
    barsHeld: t.barsHeld,
    pnl: t.pnl,
    return: t.return,
    costs: t.costs,
    exitReason: t.exitReason,
  };
}

// ---- analytics ----

export function periodView(p: PeriodPnl): PeriodView {
  return { date: p.date, time: toIsoUtc(p.time), equity: p.equity, pnl: p.pnl, return: p.return };
}

