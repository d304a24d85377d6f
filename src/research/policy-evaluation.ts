/**
 * Policies over a span of the research series: their decisions (decideTargets), the event-driven
 * backtest, the metrics (with the gross return and the cost sensitivity: the same positions rerun
 * at 0x, 0.5x and 2x the costs), the production gates (against the baselines over the same span)
 * and the HTML report. Shared by the pipeline's L6 and `tasa backtest`. Pure: the caller passes
 * the report's generation time.
 *
 * A trained policy sees its feature windows rebuilt with its own normalization (model-observer.ts),
 * so it can be evaluated on any dataset computed with its feature options. Baselines read only
 * the bar, the indicators and their position.
 */
import type { MarketCalendar } from '../domain/calendar.ts';
import type { IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import { decideTargets, declaredIndicators, runBacktest, type BacktestResult } from './backtest.ts';
import { renderBacktestReport, type TrainingSelectionView } from './backtest-report.ts';
import { BASELINE_IDS, baselinePolicy } from './baselines.ts';
import { flattensAtSessionEnd, scaleCosts } from './execution-model.ts';
import { columnsOfRows, type IndicatorColumns } from './indicators.ts';
import { evaluateGates, type BenchmarkRun, type GateReport, type GateThresholds, type Trials } from './gates.ts';
import { assertModelFeatures, normalizedRows, windowObserver, type ModelInputs } from './model-observer.ts';
import { computePerformance, type PerformanceMetrics } from './performance.ts';
import { perBarSharpe, returnMoments, sharpeVariance } from './significance.ts';
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
  /** How a trained policy was selected across seeds, for its report; absent for a baseline or a model that does not record it. */
  training?: TrainingSelectionView | null;
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
  /** Configurations tried (policies, seeds), for the deflated Sharpe ratio; at least the policies evaluated together (the default). */
  trials?: number;
  /** The symbol's market: the hours of a per-hour spread (required with one) and the report's zone (Bogota without it). */
  calendar?: MarketCalendar;
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

/** Multiples of the run costs in the cost-sensitivity table. */
const COST_FACTORS = [0.5, 1, 2] as const;

/** One policy's positions over the span and its backtest at the run costs, before it is judged. */
interface PolicyRun {
  policy: Policy;
  training: TrainingSelectionView | null;
  series: readonly SeriesBar[];
  targets: Int8Array;
  /** Resolved for this policy (a buy-and-hold holds overnight whatever the run says). */
  flatAtSessionEnd: boolean;
  result: BacktestResult;
  metrics: PerformanceMetrics;
}

/** What every policy of an evaluation is judged against. */
interface Peers {
  benchmarks: BenchmarkRun[];
  trials: Trials;
}

/**
 * Every policy over the span, each judged against the baselines among them (same span, same
 * costs) and with the deflated Sharpe ratio counting `o.trials` configurations: at least the
 * policies evaluated here, which is the default.
 */
export function evaluatePolicies(span: EvaluationSpan, policies: readonly PolicyUnderTest[], o: EvaluationOptions): PolicyEvaluation[] {
  const runs = policies.map((p) => runPolicy(span, p, o));
  const peers = peersOf(runs, o.trials);
  return runs.map((r) => judge(span, r, peers, o));
}

/** One policy, judged against every baseline over the same span (they count as trials with it). */
export function evaluatePolicy(span: EvaluationSpan, under: PolicyUnderTest, o: EvaluationOptions): PolicyEvaluation {
  const baselines = BASELINE_IDS.filter((id) => id !== under.policy.id).map((id) => ({ policy: baselinePolicy(id), inputs: null }));
  const runs = [under, ...baselines].map((p) => runPolicy(span, p, o));
  return judge(span, runs[0]!, peersOf(runs, o.trials), o);
}

function runPolicy(span: EvaluationSpan, under: PolicyUnderTest, o: EvaluationOptions): PolicyRun {
  const { policy } = under;
  const series = span.series.slice(span.start, span.end);
  const indicators = columnsOfRows(span.indicators.slice(span.start, span.end), declaredIndicators(policy));
  return { policy, training: under.training ?? null, series, ...backtestPolicy(policy, series, indicators, observerFor(span, under, series), o) };
}

/** What one policy's run over its bars gives before it is judged. */
export type PolicyBacktest = Pick<PolicyRun, 'targets' | 'flatAtSessionEnd' | 'result' | 'metrics'>;

/**
 * One policy over `series` end to end, from the indicator columns it declares (`declaredIndicators`):
 * its decisions, the backtest at the run costs and the metrics.
 */
export function backtestPolicy(
  policy: Policy,
  series: readonly SeriesBar[],
  indicators: IndicatorColumns,
  observe: (index: number) => Float32Array,
  o: Pick<EvaluationOptions, 'costs' | 'initialEquity' | 'flatAtSessionEnd' | 'barsPerYear' | 'calendar'>,
): PolicyBacktest {
  const flatAtSessionEnd = flattensAtSessionEnd(o.flatAtSessionEnd, policy);
  const targets = decideTargets(policy, series, indicators, observe, { flatAtSessionEnd });
  const result = runBacktest(series, targets, o.costs, { initialEquity: o.initialEquity, flatAtSessionEnd, calendar: o.calendar });
  return { targets, flatAtSessionEnd, result, metrics: computePerformance(result, o.barsPerYear) };
}

function peersOf(runs: readonly PolicyRun[], trials: number | undefined): Peers {
  const sharpes = runs.map((r) => returnMoments(r.result.returns)).flatMap((m) => (m === null ? [] : [perBarSharpe(m)]));
  return {
    benchmarks: runs.filter((r) => r.policy.kind === 'baseline').map((r) => ({ policyId: r.policy.id, metrics: r.metrics })),
    trials: { count: Math.max(trials ?? 0, runs.length), sharpeVariance: sharpeVariance(sharpes) },
  };
}

function judge(span: EvaluationSpan, run: PolicyRun, peers: Peers, o: EvaluationOptions): PolicyEvaluation {
  const { policy, series, result } = run;
  const metricsAt = (costs: TradingCosts): PerformanceMetrics =>
    computePerformance(runBacktest(series, run.targets, costs, { initialEquity: o.initialEquity, flatAtSessionEnd: run.flatAtSessionEnd, calendar: o.calendar }), o.barsPerYear);
  const gates = evaluateGates({ policyId: policy.id, run: metricsAt, costs: o.costs, thresholds: o.thresholds, metrics: run.metrics, returns: result.returns, ...peers });
  const metrics: PerformanceMetrics = { ...run.metrics, grossReturn: metricsAt(scaleCosts(o.costs, 0)).totalReturn, costSensitivity: costSensitivity(run.metrics, o.costs, metricsAt) };
  const from = series[0]!.session;
  const to = series[series.length - 1]!.session;
  const reportHtml = renderBacktestReport({
    title: `${policy.id} · ${span.symbol} · ${from} to ${to}`,
    symbol: span.symbol,
    zone: o.calendar?.zone,
    policyId: policy.id,
    generatedAt: o.generatedAt,
    datasetHash: o.datasetHash,
    config: {
      ...o.reportConfig,
      spreadBps: o.costs.spreadBps,
      feeBps: o.costs.feeBps,
      slippageBps: o.costs.slippageBps ?? 0,
      initialEquity: o.initialEquity,
      flatAtSessionEnd: run.flatAtSessionEnd,
      barsPerYear: Math.round(o.barsPerYear),
      trials: peers.trials.count,
    },
    result,
    metrics,
    gates,
    training: run.training,
  });
  return { policyId: policy.id, kind: policy.kind, from, to, result, metrics, gates, reportHtml };
}

/** The same positions at 0.5x, 1x and 2x the costs (1x is the run itself). */
function costSensitivity(metrics: PerformanceMetrics, costs: TradingCosts, metricsAt: (costs: TradingCosts) => PerformanceMetrics): NonNullable<PerformanceMetrics['costSensitivity']> {
  return COST_FACTORS.map((factor) => {
    const scaled = scaleCosts(costs, factor);
    const m = factor === 1 ? metrics : metricsAt(scaled);
    return { factor, ...scaled, totalReturn: m.totalReturn, sharpe: m.sharpe };
  });
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
