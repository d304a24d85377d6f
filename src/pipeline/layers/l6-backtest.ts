/**
 * L6 in the pipeline: every policy under test over the L4 dataset's test split (by default), with
 * metrics, production gates and one HTML report each; a row per policy in `backtests`.
 *
 * Policies under test: the symbol's production model and its newest candidate (both when both
 * exist: a new candidate is judged next to what it would replace), the model trained in this run
 * if it is neither, and every baseline. A model whose features differ from the ones computed now
 * is left out and listed in the summary (`skippedPolicies`) with the reason.
 *
 * Archive: `backtests.parquet` (one row per policy: metrics and gates), `trades.parquet` (every
 * trade), the equity and position of every policy per bar (monthly Parquet) and
 * `report-<policy>.html`. Each report states when it was made, so a forced rerun writes a new
 * report (and a new hash) while the tables stay byte-identical.
 */
import type { Clock } from '../../clock.ts';
import type { Calendars, MarketCalendar } from '../../domain/calendar.ts';
import { TasaError } from '../../errors.ts';
import { BASELINE_IDS, baselinePolicy, isBaselineId } from '../../research/baselines.ts';
import { storedEquity } from '../../research/equity-curve.ts';
import { resolveGateThresholds, type GateThresholds } from '../../research/gates.ts';
import { featureNames } from '../../research/features.ts';
import { sessionBarsPerYear } from '../../research/performance.ts';
import { evaluatePolicies, rowsOfSessions, type PolicyEvaluation } from '../../research/policy-evaluation.ts';
import { loadBaseline, loadModel, type LoadedPolicy } from '../../research/policy-loading.ts';
import type { SpreadChoice } from '../../research/spread-estimate.ts';
import type { Split } from '../../research/types.ts';
import { insertBacktest } from '../../store/backtests-repo.ts';
import type { Db } from '../../store/db.ts';
import { getModel, listModels, productionModel, type ModelStatus, type StoredModel } from '../../store/models-repo.ts';
import { booleanColumn, doubleColumn, int32Column, stringColumn, timestampColumn, type TableColumn } from '../archive/parquet-table.ts';
import type { LayerOutput, LayerSpec } from '../layer-runner.ts';
import { isLayerId, layerFileKey } from '../layout.ts';
import { sha256Hex, type ParentRun } from '../manifest.ts';
import type { ChainData } from './chain-data.ts';
import { monthlyPartitions } from './monthly.ts';

export interface BacktestConfig {
  /** The dataset split to backtest on (default test). */
  split?: Split;
  /** Default 1: the equity curve reads as growth of one unit. */
  initialEquity?: number;
  /** Default true: no overnight position. */
  flatAtSessionEnd?: boolean;
  gates?: Partial<GateThresholds>;
  /** Baselines run next to the models (default all). */
  baselines?: readonly string[];
  /**
   * Configurations tried (policies and seeds) that the deflated Sharpe ratio deflates for; at
   * least the policies this run evaluates, which is the default.
   */
  trials?: number;
}

export interface ResolvedBacktestConfig {
  split: Split;
  initialEquity: number;
  flatAtSessionEnd: boolean;
  gates: GateThresholds;
  baselines: string[];
  /** null: the policies evaluated. */
  trials: number | null;
}

export function resolveBacktestConfig(c: BacktestConfig = {}): ResolvedBacktestConfig {
  const initialEquity = c.initialEquity ?? 1;
  if (!(Number.isFinite(initialEquity) && initialEquity > 0)) throw new TasaError('bad_argument', `The backtest initialEquity must be a number > 0, got ${initialEquity}.`, { input: 'initialEquity' });
  const split = c.split ?? 'test';
  if (!['train', 'validation', 'test'].includes(split)) throw new TasaError('bad_argument', `The backtest split must be train, validation or test, got ${String(split)}.`, { input: 'split' });
  const baselines = [...(c.baselines ?? BASELINE_IDS)];
  for (const id of baselines) if (!isBaselineId(id)) baselinePolicy(id); // throws, naming the valid ids
  const trials = c.trials ?? null;
  if (trials !== null && !(Number.isInteger(trials) && trials >= 1)) throw new TasaError('bad_argument', `The backtest trials must be an integer >= 1, got ${trials}.`, { input: 'trials' });
  return { split, initialEquity, flatAtSessionEnd: c.flatAtSessionEnd ?? true, gates: resolveGateThresholds(c.gates), baselines, trials };
}

/** A policy under test, with what the registry says about it. */
export interface TestedPolicy extends LoadedPolicy {
  status: ModelStatus | null;
  /** sha256 of the stored weights (models only). */
  weightsSha256: string | null;
  /** The L5 run that trained it, when the pipeline did. */
  trainedBy: ParentRun | null;
}

function testedBaseline(id: string): TestedPolicy {
  return { ...loadBaseline(id), status: null, weightsSha256: null, trainedBy: null };
}

async function testedModel(model: StoredModel): Promise<TestedPolicy> {
  const loaded = await loadModel(model);
  return { ...loaded, status: model.status, weightsSha256: sha256Hex(model.weights!), trainedBy: trainedByOf(model.config) };
}

function trainedByOf(config: Record<string, unknown>): ParentRun | null {
  const pipeline = config['pipeline'] as { l5RunId?: unknown; l5DatasetHash?: unknown } | undefined;
  if (typeof pipeline?.l5RunId !== 'number' || typeof pipeline.l5DatasetHash !== 'string') return null;
  return { layer: 'L5', runId: pipeline.l5RunId, datasetHash: pipeline.l5DatasetHash };
}

export interface PoliciesToTest {
  policies: TestedPolicy[];
  skipped: Array<{ id: string; reason: string }>;
}

/** See the file comment. `features` are the L3 column names the models must observe. */
export async function policiesToTest(db: Db, symbol: string, features: readonly string[], baselines: readonly string[], trainedModelId: string | null): Promise<PoliciesToTest> {
  const [production, [newest]] = await Promise.all([productionModel(db, symbol), listModels(db, { symbol, status: 'candidate', kind: 'ppo', limit: 1 })]);
  const ids = [...new Set([production?.id, newest?.id, trainedModelId].filter((id): id is string => typeof id === 'string'))];
  const out: PoliciesToTest = { policies: [], skipped: [] };
  for (const id of ids) {
    const model = id === production?.id ? production : await getModel(db, id);
    if (model === null) continue;
    try {
      const entry = await testedModel(model);
      const names = entry.inputs?.featureNames ?? [];
      if (names.length !== features.length || names.some((n, j) => n !== features[j])) {
        out.skipped.push({ id, reason: `it observes ${names.length} features that differ from the ${features.length} computed with the current feature options` });
        continue;
      }
      out.policies.push(entry);
    } catch (err) {
      if (!(err instanceof TasaError)) throw err;
      out.skipped.push({ id, reason: err.message });
    }
  }
  out.policies.push(...baselines.map(testedBaseline));
  return out;
}

export function l6Config(config: ResolvedBacktestConfig, tested: PoliciesToTest): Record<string, unknown> {
  return {
    split: config.split,
    initialEquity: config.initialEquity,
    flatAtSessionEnd: config.flatAtSessionEnd,
    gates: { ...config.gates },
    baselines: config.baselines,
    trials: config.trials,
    models: tested.policies.filter((p) => p.kind === 'ppo').map((p) => ({ id: p.id, weightsSha256: p.weightsSha256 })),
  };
}

/** L6's parents: the dataset and the L5 runs that trained the models under test. */
export function l6Parents(dataset: ParentRun, tested: PoliciesToTest): ParentRun[] {
  const trainers = tested.policies.map((p) => p.trainedBy).filter((r): r is ParentRun => r !== null && isLayerId(r.layer));
  const unique = new Map(trainers.map((r) => [`${r.runId}`, r]));
  return [dataset, ...unique.values()];
}

export interface L6Hooks {
  calendar: Calendars;
  clock: Clock;
  /** Where the dataset's spread came from (research config), reported in the summary and each report. */
  spread?: SpreadChoice | null;
  /** Receives the evaluations when they are computed (to store them once the run is recorded). */
  onEvaluated: (evaluations: PolicyEvaluation[], rlDatasetHash: string) => void;
}

export function l6Spec(data: ChainData, config: ResolvedBacktestConfig, tested: PoliciesToTest, parents: readonly ParentRun[], force: boolean, hooks: L6Hooks): LayerSpec {
  return {
    layer: 'L6',
    symbol: data.symbol,
    config: l6Config(config, tested),
    parents,
    force,
    compute: async (): Promise<LayerOutput> => {
      const [dataset, series, indicators, features] = [await data.dataset(), await data.series(), await data.indicators(), await data.features()];
      const split = dataset.splits[config.split];
      const { start, end } = rowsOfSessions(series, split.from, split.to);
      const options = {
        costs: dataset.costs,
        initialEquity: config.initialEquity,
        flatAtSessionEnd: config.flatAtSessionEnd,
        thresholds: config.gates,
        barsPerYear: sessionBarsPerYear(hooks.calendar.of(data.symbol), split.from, split.to),
        calendar: hooks.calendar.of(data.symbol),
        generatedAt: hooks.clock.now(),
        datasetHash: dataset.hash,
        reportConfig: { split: config.split, from: split.from, to: split.to, ...(hooks.spread ? { spread: hooks.spread.note } : {}) },
        ...(config.trials === null ? {} : { trials: config.trials }),
      };
      const span = { symbol: data.symbol, series, indicators, features, start, end };
      const evaluations = evaluatePolicies(span, tested.policies, options);
      hooks.onEvaluated(evaluations, dataset.hash);
      return {
        tables: backtestTables(hooks.calendar.of(data.symbol), evaluations),
        blobs: evaluations.map((e) => ({ key: layerFileKey('L6', data.symbol, `report-${e.policyId}.html`), bytes: new TextEncoder().encode(e.reportHtml), rows: 1 })),
        summary: {
          split: config.split,
          from: split.from,
          to: split.to,
          bars: end - start,
          rlDatasetHash: dataset.hash,
          costs: { ...dataset.costs, spread: hooks.spread ?? { spreadBps: dataset.costs.spreadBps, source: 'configured', note: `half-spread ${dataset.costs.spreadBps} bps (configured)` } },
          policies: evaluations.map(policySummary),
          skippedPolicies: tested.skipped,
        },
        rowsIn: end - start,
        rowsOut: evaluations.length,
      };
    },
  };
}

function policySummary(e: PolicyEvaluation): Record<string, unknown> {
  const m = e.metrics;
  return {
    id: e.policyId,
    kind: e.kind,
    passed: e.gates.passed,
    verdict: e.gates.verdict,
    totalReturn: m.totalReturn,
    grossReturn: m.grossReturn,
    sharpe: m.sharpe,
    sortino: m.sortino,
    maxDrawdown: m.maxDrawdown,
    trades: m.tradeCount,
    dsr: e.gates.significance?.dsr ?? null,
  };
}

function backtestTables(calendar: MarketCalendar, evaluations: readonly PolicyEvaluation[]): LayerOutput['tables'] {
  const symbol = calendar.symbol;
  const metadata = { layer: 'L6', symbol };
  const equity = monthlyPartitions('L6', symbol, equityColumns(evaluations), evaluations[0]?.result.times ?? [], calendar).map((t) => ({ ...t, metadata }));
  return [
    { key: layerFileKey('L6', symbol, 'backtests.parquet'), columns: metricColumns(evaluations), metadata },
    { key: layerFileKey('L6', symbol, 'trades.parquet'), columns: tradeColumns(evaluations), metadata },
    ...equity,
  ];
}

function metricColumns(evaluations: readonly PolicyEvaluation[]): TableColumn[] {
  const metric = (name: string, pick: (e: PolicyEvaluation) => number | null) => doubleColumn(name, evaluations.map(pick));
  return [
    stringColumn('policy_id', evaluations.map((e) => e.policyId)),
    stringColumn('kind', evaluations.map((e) => e.kind)),
    stringColumn('from', evaluations.map((e) => e.from)),
    stringColumn('to', evaluations.map((e) => e.to)),
    int32Column('bars', evaluations.map((e) => e.metrics.bars)),
    booleanColumn('passed', evaluations.map((e) => e.gates.passed)),
    metric('total_return', (e) => e.metrics.totalReturn),
    metric('cagr', (e) => e.metrics.cagr),
    metric('annualized_volatility', (e) => e.metrics.annualizedVolatility),
    metric('sharpe', (e) => e.metrics.sharpe),
    metric('sortino', (e) => e.metrics.sortino),
    metric('max_drawdown', (e) => e.metrics.maxDrawdown),
    metric('calmar', (e) => e.metrics.calmar),
    metric('win_rate', (e) => e.metrics.winRate),
    metric('profit_factor', (e) => e.metrics.profitFactor),
    metric('exposure', (e) => e.metrics.exposure),
    int32Column('trades', evaluations.map((e) => e.metrics.tradeCount)),
    metric('average_holding_bars', (e) => e.metrics.averageHoldingBars),
    metric('total_costs', (e) => e.result.totalCosts),
    metric('gross_return', (e) => e.metrics.grossReturn ?? null),
    metric('turnover', (e) => e.metrics.turnover ?? null),
    metric('expectancy', (e) => e.metrics.expectancy ?? null),
    metric('average_win', (e) => e.metrics.averageWin ?? null),
    metric('average_loss', (e) => e.metrics.averageLoss ?? null),
    metric('psr', (e) => e.gates.significance?.psr ?? null),
    metric('dsr', (e) => e.gates.significance?.dsr ?? null),
  ];
}

function tradeColumns(evaluations: readonly PolicyEvaluation[]): TableColumn[] {
  const rows = evaluations.flatMap((e) => e.result.trades.map((t) => ({ policy: e.policyId, t })));
  return [
    stringColumn('policy_id', rows.map((r) => r.policy)),
    int32Column('side', rows.map((r) => r.t.side)),
    timestampColumn('entry_time', rows.map((r) => r.t.entryTime)),
    timestampColumn('exit_time', rows.map((r) => r.t.exitTime)),
    doubleColumn('entry_price', rows.map((r) => r.t.entryPrice)),
    doubleColumn('exit_price', rows.map((r) => r.t.exitPrice)),
    int32Column('bars_held', rows.map((r) => r.t.barsHeld)),
    doubleColumn('pnl', rows.map((r) => r.t.pnl)),
    doubleColumn('return', rows.map((r) => r.t.return)),
    doubleColumn('costs', rows.map((r) => r.t.costs)),
    stringColumn('exit_reason', rows.map((r) => r.t.exitReason)),
  ];
}

/** Bar time, then each policy's equity and position (every evaluation ran over the same bars). */
function equityColumns(evaluations: readonly PolicyEvaluation[]): TableColumn[] {
  const first = evaluations[0];
  if (!first) throw new TasaError('internal', 'L6 evaluated no policy.');
  return [
    timestampColumn('time', first.result.times),
    ...evaluations.flatMap((e) => [doubleColumn(`equity_${e.policyId}`, e.result.equity), int32Column(`position_${e.policyId}`, e.result.positions)]),
  ];
}

/** One `backtests` row per evaluation of a completed L6 run (or of `tasa backtest`, without a run); `calendars` must hold the symbol's (its sessions split the stored curve). */
export async function storeBacktests(
  db: Db,
  clock: Clock,
  symbol: string,
  evaluations: readonly PolicyEvaluation[],
  meta: { pipelineRunId: number | null; datasetHash: string | null; config: Record<string, unknown> },
  calendars: Calendars,
): Promise<number[]> {
  const ids: number[] = [];
  for (const e of evaluations) {
    ids.push(
      await insertBacktest(db, {
        policyId: e.policyId,
        symbol,
        fromDate: e.from,
        toDate: e.to,
        config: { ...meta.config, costs: e.result.costs, initialEquity: e.result.initialEquity, flatAtSessionEnd: e.result.flatAtSessionEnd },
        metrics: e.metrics,
        gates: e.gates,
        passed: e.gates.passed,
        equity: storedEquity(e.result, calendars.of(symbol)),
        trades: e.result.trades,
        reportHtml: e.reportHtml,
        datasetHash: meta.datasetHash,
        pipelineRunId: meta.pipelineRunId,
        createdAt: clock.now(),
      }),
    );
  }
  return ids;
}

/** The feature names the L3 options give (what every model under test must observe). */
export function currentFeatureNames(data: ChainData): string[] {
  return featureNames(data.featureOptions);
}
