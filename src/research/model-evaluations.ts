/**
 * What the model registry shows next to each model (API `GET /api/models`, `tasa models list`,
 * the dashboard): its test-split metrics, from its newest backtest stored by a pipeline run (L6
 * evaluates on the test split), and the gate result of its newest backtest of any kind, the one
 * promotion checks (model-promotion.ts).
 */
import type { ModelGateResult, ModelTestMetrics } from '../contracts/api/research.ts';
import { newestBacktestsOfPolicies, type BacktestSummary } from '../store/backtests-repo.ts';
import type { Db } from '../store/db.ts';

export type { ModelGateResult, ModelTestMetrics };

export interface ModelEvaluation {
  test: ModelTestMetrics | null;
  gateResult: ModelGateResult | null;
}

export const NOT_EVALUATED: Readonly<ModelEvaluation> = Object.freeze({ test: null, gateResult: null });

/** The evaluation of each model id; a model without backtests maps to NOT_EVALUATED. */
export async function modelEvaluations(db: Db, modelIds: readonly string[]): Promise<Map<string, ModelEvaluation>> {
  const [pipelineRuns, anyRuns] = await Promise.all([newestBacktestsOfPolicies(db, modelIds, { pipelineOnly: true }), newestBacktestsOfPolicies(db, modelIds, { pipelineOnly: false })]);
  const tests = new Map(pipelineRuns.map((b) => [b.policyId, testMetricsOf(b)]));
  const gates = new Map(anyRuns.map((b) => [b.policyId, gateResultOf(b)]));
  return new Map(modelIds.map((id) => [id, { test: tests.get(id) ?? null, gateResult: gates.get(id) ?? null }]));
}

function testMetricsOf(b: BacktestSummary): ModelTestMetrics {
  return { backtestId: b.id, fromDate: b.fromDate, toDate: b.toDate, totalReturn: b.metrics.totalReturn, sharpe: b.metrics.sharpe, tradeCount: b.metrics.tradeCount };
}

function gateResultOf(b: BacktestSummary): ModelGateResult {
  return {
    backtestId: b.id,
    passed: b.passed,
    failedGates: b.gates?.gates.filter((g) => !g.passed).map((g) => g.gate) ?? [],
    verdict: b.gates?.verdict ?? null,
  };
}
