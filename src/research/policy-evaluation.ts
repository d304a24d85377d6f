/**
 * One policy over a span of the research series: its decisions (decideTargets), the event-driven
 * backtest, the metrics, the production gates and the HTML report. Shared by the pipeline's L6
 * and `tasa backtest`. Pure: the caller passes the report's generation time.
 *
 * A trained policy sees its feature windows rebuilt with its own normalization (model-observer.ts),
 * so it can be evaluated on any dataset computed with its feature options. Baselines read only
 * the bar, the indicators and their position.
 */
import type { IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import { decideTargets, runBacktest, type BacktestResult } from './backtest.ts';
import { renderBacktestReport } from './backtest-report.ts';
import { evaluateGates, type GateReport, type GateThresholds } from './gates.ts';
import { assertModelFeatures, normalizedRows, windowObserver, type ModelInputs } from './model-observer.ts';
import { computePerformance, type PerformanceMetrics } from './performance.ts';
import type { FeatureTable, IndicatorRow, Policy, SeriesBar, TradingCosts } from './types.ts';

/** The full series with its indicators and features, and the rows [start, end) to evaluate. */
export interface EvaluationSpan {
  symbol: string;
  series: readonly SeriesBar[];
  indicators: readonly IndicatorRow[];
  features: FeatureTable;
  start: number;
  end: number;
}

export interface PolicyUnderTest {
  policy: Policy;
  /** What a trained policy needs to rebuild its inputs; null for a baseline. */
  inputs: ModelInputs | null;
}

export interface EvaluationOptions {
  costs: TradingCosts;
  initialEquity: number;
  flatAtSessionEnd: boolean;
  thresholds: GateThresholds;
  barsPerYear: number;
  /** Epoch ms, from the caller's clock. */
  generatedAt: number;
  datasetHash: string | null;
  /** Shown in the report's configuration section. */
  reportConfig: Readonly<Record<string, string | number | boolean | null>>;
}

export interface PolicyEvaluation {
  policyId: string;
  kind: Policy['kind'];
  from: IsoDate;
  to: IsoDate;
  result: BacktestResult;
  metrics: PerformanceMetrics;
  gates: GateReport;
  reportHtml: string;
}

const NO_FEATURES = new Float32Array(0);

/** The rows of the series whose sessions lie in from..to (inclusive dates); the series is in time order. */
export function rowsOfSessions(series: readonly SeriesBar[], from: IsoDate, to: IsoDate): { start: number; end: number } {
  let start = 0;
  while (start < series.length && series[start]!.session < from) start++;
  let end = start;
  while (end < series.length && series[end]!.session <= to) end++;
  if (end === start) throw new TasaError('not_found', `No session bar lies between ${from} and ${to}.`, { input: `${from}..${to}` });
  return { start, end };
}

export function evaluatePolicy(span: EvaluationSpan, under: PolicyUnderTest, o: EvaluationOptions): PolicyEvaluation {
  const { policy } = under;
  const series = span.series.slice(span.start, span.end);
  const indicators = span.indicators.slice(span.start, span.end);
  const targets = decideTargets(policy, series, indicators, observerFor(span, under, series), { flatAtSessionEnd: o.flatAtSessionEnd });
  const options = { initialEquity: o.initialEquity, flatAtSessionEnd: o.flatAtSessionEnd };
  const result = runBacktest(series, targets, o.costs, options);
  const metrics = computePerformance(result, o.barsPerYear);
  const gates = evaluateGates({
    run: (costs) => computePerformance(runBacktest(series, targets, costs, options), o.barsPerYear),
    costs: o.costs,
    thresholds: o.thresholds,
    metrics,
  });
  const from = series[0]!.session;
  const to = series[series.length - 1]!.session;
  const reportHtml = renderBacktestReport({
    title: `${policy.id} · ${span.symbol} · ${from} to ${to}`,
    symbol: span.symbol,
    policyId: policy.id,
    generatedAt: o.generatedAt,
    datasetHash: o.datasetHash,
    config: { ...o.reportConfig, spreadBps: o.costs.spreadBps, feeBps: o.costs.feeBps, initialEquity: o.initialEquity, flatAtSessionEnd: o.flatAtSessionEnd, barsPerYear: Math.round(o.barsPerYear) },
    result,
    metrics,
    gates,
  });
  return { policyId: policy.id, kind: policy.kind, from, to, result, metrics, gates, reportHtml };
}

function observerFor(span: EvaluationSpan, under: PolicyUnderTest, series: readonly SeriesBar[]): (index: number) => Float32Array {
  const inputs = under.inputs;
  if (inputs === null) return () => NO_FEATURES;
  assertModelFeatures(under.policy.id, inputs, span.features.names);
  const rows = normalizedRows(span.features, span.start, span.end, inputs.normalization);
  return windowObserver(
    series.map((b) => b.session),
    rows,
    inputs.featureNames.length,
    inputs.window,
  );
}
