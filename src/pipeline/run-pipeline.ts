/**
 * The research pipeline: the selected layers of L0..L6 for one symbol, in order, each through
 * the layer runner (recorded in pipeline_runs, written to the archive with a manifest, skipped
 * when its inputs, config and code are unchanged). Each layer's parents are the refs of the
 * layers below it.
 *
 *   L0 raw inventory -> L1 bars -> L2 indicators -> L3 features -> L4 RL dataset -> L5 PPO -> L6 backtests
 *
 * Which layers: any selection in which the selected data layers among L1..L4 are consecutive
 * (`L1-L6`, `L2-L4,L6`, `L5`, `L3-L6`, ...). A layer below the first selected one is not run: its
 * newest completed run is used, and the data of the chain under it is rebuilt from that chain's
 * L1 archive with the configs those runs recorded (for L4, the rebuilt dataset's sha256 must equal
 * the one recorded, or the run stops: this code no longer reproduces it). `from`/`to` choose the
 * L0/L1 range, so they need L0 or L1 selected; without them the range is all the stored bars.
 * Without L5, L6 backtests the models already in the registry (`--skip-training`).
 */
import type { Clock } from '../clock.ts';
import type { Bar } from '../domain/bar.ts';
import type { Calendars } from '../domain/calendar.ts';
import type { IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { featureNames, type FeatureOptions } from '../research/features.ts';
import type { PolicyEvaluation } from '../research/policy-evaluation.ts';
import type { PpoConfig, PpoProgress } from '../research/ppo/ppo-trainer.ts';
import type { ResolvedResearchConfig } from '../research/research-config.ts';
import { resolveRlDatasetConfig, type RlDatasetConfig } from '../research/rl-dataset.ts';
import type { SpreadChoice } from '../research/spread-estimate.ts';
import type { Db } from '../store/db.ts';
import { getRun, listRuns, type PipelineRun } from '../store/pipeline-runs-repo.ts';
import type { ArchiveStore } from './archive/archive-store.ts';
import { loadLayerTables, runLayer, type LayerContext, type LayerOutput, type LayerProgress, type LayerRunResult, type LayerSpec } from './layer-runner.ts';
import { LAYERS, type LayerId } from './layout.ts';
import { parseManifest, type CodeVersion, type Manifest, type ParentRun } from './manifest.ts';
import { ChainData } from './layers/chain-data.ts';
import { l0Spec, rawSourceState } from './layers/l0-raw.ts';
import { assertOneProvenance, barSourceState, barsFromTables, l1Spec, loadBars, resolveRange, type TimeRange } from './layers/l1-standardized.ts';
import { l2Spec } from './layers/l2-indicators.ts';
import { featureOptionsOf, l3Spec } from './layers/l3-features.ts';
import { datasetConfigOf, l4Spec } from './layers/l4-dataset.ts';
import { l5Spec, registerTrainedModel, resolvePipelinePpo } from './layers/l5-policy.ts';
import { currentFeatureNames, l6Parents, l6Spec, policiesToTest, resolveBacktestConfig, storeBacktests, type BacktestConfig, type ResolvedBacktestConfig } from './layers/l6-backtest.ts';
import { mergedBacktestConfig, mergedDatasetConfig, researchSetup, type ResearchSetup } from './research-setup.ts';
import type { WalkForwardRunConfig } from './walk-forward-fold.ts';
import { inProcessFolds, planWalkForward, runWalkForward, type FoldExecutor } from './walk-forward-run.ts';
import type { Fold } from '../research/walk-forward.ts';

export interface PipelineConfig {
  /** L3 feature options. */
  features?: FeatureOptions;
  /** L4 dataset options (splits, window, costs, clip). */
  dataset?: RlDatasetConfig;
  /** L5 PPO options; steps default to DEFAULT_PIPELINE_PPO_STEPS, seeds, evalEvery and patience to the research config's `training`. */
  ppo?: Partial<PpoConfig>;
  /** L6 options. */
  backtest?: BacktestConfig;
  /**
   * The research config (costs, splits, purge, gates, trials): the base of `dataset` and
   * `backtest`, whose fields win over it; its hash is recorded in L6's config and the backtests.
   */
  research?: ResolvedResearchConfig;
}

/** A layer runner's progress, or L5's training steps (`phase: 'training'`). */
export type PipelineProgress = LayerProgress | { layer: 'L5'; symbol: string; runId: number; phase: 'training'; done: number; total: number };

export interface RunPipelineOptions {
  db: Db;
  archive: ArchiveStore;
  clock: Clock;
  calendar: Calendars;
  codeVersion: CodeVersion;
  symbol: string;
  layers: readonly LayerId[];
  from?: IsoDate | undefined;
  to?: IsoDate | undefined;
  config?: PipelineConfig;
  onProgress?: (progress: PipelineProgress) => void;
  /** Recompute every selected layer even when an identical run exists. */
  force?: boolean;
  logger?: Pick<Logger, 'warn'>;
  /** Stops training between iterations (the L5 run then fails). */
  signal?: AbortSignal;
  /**
   * Who runs the walk-forward folds (after L6, when the research config enables them): the
   * pg-boss jobs that workers share (jobs/walk-forward-jobs.ts); default in this process.
   */
  folds?: FoldExecutor;
}

export interface LayerOutcome {
  layer: LayerId;
  runId: number;
  status: 'completed' | 'skipped';
  /** The run whose files hold the data (the earlier run when skipped). */
  sourceRunId: number;
  datasetHash: string;
  manifestKey: string;
  summary: Record<string, unknown>;
}

export interface PipelineResult {
  symbol: string;
  /** The L0/L1 range; null when neither ran. */
  range: { from: IsoDate; to: IsoDate } | null;
  layers: LayerOutcome[];
  /** The model L5 trained (or found already trained); null without L5. */
  modelId: string | null;
  /** Rows stored in `backtests` by this run's L6 (none when L6 was skipped). */
  backtestIds: number[];
  /** The walk-forward evaluation after L6; null when not asked for (no L6, no research config, or disabled in it). */
  walkForward: WalkForwardSummary | null;
}

export type WalkForwardSummary =
  | { status: 'completed' | 'reused'; runId: number; folds: number; verdict: string; htmlKey: string; markdownKey: string }
  | { status: 'skipped'; reason: string };

/** `L2-L6`, `L0,L2-L4,L6`, `L5`: the layers in order, each once. */
export function parseLayerList(text: string): LayerId[] {
  const picked = new Set<LayerId>();
  for (const part of text.split(',').map((p) => p.trim().toUpperCase())) {
    const [a, b] = part.split('-');
    const from = LAYERS.indexOf(a as LayerId);
    const to = b === undefined ? from : LAYERS.indexOf(b as LayerId);
    if (from < 0 || to < 0 || to < from || part.split('-').length > 2) {
      throw new TasaError('bad_argument', `"${part}" is not a layer or a range of layers (L0..L6, e.g. L2-L6).`, { input: part });
    }
    for (let i = from; i <= to; i++) picked.add(LAYERS[i]!);
  }
  return LAYERS.filter((l) => picked.has(l));
}

const DATA_LAYERS: readonly LayerId[] = ['L1', 'L2', 'L3', 'L4'];

function checkSelection(layers: readonly LayerId[]): LayerId[] {
  const selected = LAYERS.filter((l) => layers.includes(l));
  if (selected.length === 0) throw new TasaError('bad_argument', 'Select at least one pipeline layer (L0..L6).', { input: 'layers' });
  const data = DATA_LAYERS.map((l, i) => (selected.includes(l) ? i : -1)).filter((i) => i >= 0);
  if (data.length > 0 && data[data.length - 1]! - data[0]! + 1 !== data.length) {
    throw new TasaError('bad_argument', `The selected layers ${selected.join(',')} leave a gap between L1 and L4; select consecutive data layers (e.g. L2-L4).`, { input: selected.join(',') });
  }
  return selected;
}

export async function runPipeline(o: RunPipelineOptions): Promise<PipelineResult> {
  const layers = checkSelection(o.layers);
  const run = new PipelineInvocation(o, layers);
  return run.execute();
}

/** One invocation's state: the refs of the layers so far and the data chain. */
class PipelineInvocation {
  private readonly config: PipelineConfig;
  private readonly data: ChainData;
  private readonly ctx: LayerContext;
  private readonly refs = new Map<LayerId, ParentRun>();
  private readonly outcomes: LayerOutcome[] = [];
  private readonly force: boolean;
  private currentRunId = -1;
  private range: TimeRange | null = null;
  private modelId: string | null = null;
  private backtestIds: number[] = [];
  private setup: ResearchSetup | null = null;
  /** Where the L4 dataset's spread came from: this run's research config, or the L4 run built on. */
  private spread: SpreadChoice | null = null;

  constructor(
    private readonly o: RunPipelineOptions,
    private readonly layers: readonly LayerId[],
  ) {
    this.config = o.config ?? {};
    this.force = o.force === true;
    this.data = new ChainData(o.symbol, o.calendar.of(o.symbol));
    this.data.featureOptions = this.config.features ?? {};
    this.ctx = {
      db: o.db,
      archive: o.archive,
      clock: o.clock,
      codeVersion: o.codeVersion,
      onProgress: (p) => {
        this.currentRunId = p.runId;
        o.onProgress?.(p);
      },
    };
  }

  private has(layer: LayerId): boolean {
    return this.layers.includes(layer);
  }

  async execute(): Promise<PipelineResult> {
    const o = this.o;
    // Validate every config before the first run is recorded.
    // The research config's training section (seeds, validation interval, patience) under the explicit PPO options.
    const ppo = resolvePipelinePpo({ ...this.config.research?.config.training, ...this.config.ppo });
    this.setup = this.config.research === undefined ? null : await researchSetup(o.db, o.symbol, this.config.research, o.calendar.of(o.symbol));
    this.spread = this.setup?.spread ?? null;
    const backtest = resolveBacktestConfig(mergedBacktestConfig(this.setup, this.config.backtest));
    featureNames(this.config.features);
    this.data.datasetConfig = mergedDatasetConfig(this.setup, this.config.dataset);
    resolveRlDatasetConfig(this.data.datasetConfig);
    if (this.has('L0') || this.has('L1')) this.range = await resolveRange(o.db, o.calendar.of(o.symbol), o.symbol, o.from, o.to);
    else if (o.from !== undefined || o.to !== undefined) {
      throw new TasaError('bad_argument', '--from/--to choose the range of L0/L1; select L0 or L1 too, or leave them out (later layers use the range of the L1 run they build on).', {
        input: 'from/to',
      });
    }
    if (this.has('L0')) await this.step(l0Spec(o.db, o.symbol, o.calendar.of(o.symbol), this.range!, await rawSourceState(o.db, o.symbol, this.range!), this.force));
    await this.prepareChain();
    const parent = (layer: LayerId): ParentRun[] => {
      const ref = this.refs.get(layer);
      return ref ? [ref] : [];
    };
    if (this.has('L2')) await this.step(l2Spec(this.data, parent('L1'), this.force));
    if (this.has('L3')) await this.step(l3Spec(this.data, parent('L2'), this.force));
    if (this.has('L4')) await this.step(withSpread(l4Spec(this.data, parent('L3'), this.force), this.spread));
    if (this.has('L5')) await this.trainStep(ppo, parent('L4'));
    if (this.has('L6')) await this.backtestStep(backtest);
    const walkForward = this.has('L6') && this.setup?.lineage.config.walkForward.enabled === true ? await this.walkForwardStep(backtest, this.setup, this.has('L5') ? ppo : null) : null;
    return {
      symbol: o.symbol,
      range: this.range ? { from: this.range.from, to: this.range.to } : null,
      layers: this.outcomes,
      modelId: this.modelId,
      backtestIds: this.backtestIds,
      walkForward,
    };
  }

  /** Runs L1 when selected; otherwise finds the runs the first selected layer builds on. */
  private async prepareChain(): Promise<void> {
    const o = this.o;
    if (this.has('L1')) {
      const range = this.range!;
      this.data.setBarSource(() => loadBars(o.db, o.symbol, range));
      const l0 = this.refs.get('L0');
      const source = await barSourceState(o.db, o.symbol, range);
      assertOneProvenance(o.symbol, range, source);
      const result = await this.step(l1Spec(o.symbol, range, source, l0 ? [l0] : [], this.force, () => this.data.bars(), o.calendar.of(o.symbol)));
      if (result.status === 'skipped') this.data.setBarSource(() => this.barsOf(result.manifest));
      return;
    }
    const first = this.layers.find((l) => l !== 'L0');
    if (first === undefined) return;
    const top: LayerId = first === 'L5' || first === 'L6' ? 'L4' : LAYERS[LAYERS.indexOf(first) - 1]!;
    await this.resolveChain(top);
  }

  /** The newest completed run of `top` and the runs under it (its lineage), as refs and configs. */
  private async resolveChain(top: LayerId): Promise<void> {
    const o = this.o;
    const [newest] = await listRuns(o.db, { layer: top, symbol: o.symbol, status: 'completed', withManifest: true, limit: 1 });
    if (!newest) {
      throw new TasaError('not_found', `There is no completed ${top} run of ${o.symbol} to build on; run the pipeline from L1 first.`, { input: top, hint: 'tasa pipeline run' });
    }
    let run: PipelineRun = newest;
    for (;;) {
      const manifest = parseManifest(run.manifest, `of run ${run.id}`);
      const layer = manifest.layer;
      this.refs.set(layer, { layer, runId: run.id, datasetHash: manifest.datasetHash });
      if (layer === 'L3') this.data.featureOptions = featureOptionsOf(manifest.config);
      if (layer === 'L4') {
        this.data.datasetConfig = datasetConfigOf(manifest.config);
        this.spread = spreadOf(run.summary);
        this.expectDatasetHash(run);
      }
      if (layer === 'L1') {
        this.data.setBarSource(() => this.barsOf(manifest));
        return;
      }
      const below = LAYERS[LAYERS.indexOf(layer) - 1]!;
      const parentRef = manifest.parentRuns.find((p) => p.layer === below);
      if (!parentRef) throw new TasaError('bad_input', `${layer} run ${run.id} of ${o.symbol} names no ${below} parent, so its data cannot be rebuilt.`, { input: String(run.id) });
      run = await this.runById(parentRef.runId, below);
    }
  }

  private async runById(id: number, layer: LayerId): Promise<PipelineRun> {
    const found = await getRun(this.o.db, id);
    if (found === null || found.layer !== layer || found.manifest === null) {
      throw new TasaError('not_found', `${layer} run ${id}, a parent of the chain being rebuilt, is not recorded with a manifest.`, { input: String(id) });
    }
    return found;
  }

  /** A dataset rebuilt for a run that was not rerun must be the one that run recorded. */
  private expectDatasetHash(run: PipelineRun): void {
    const recorded = run.summary['rlDatasetHash'];
    if (typeof recorded !== 'string') throw new TasaError('bad_input', `L4 run ${run.id} recorded no dataset sha256 (rlDatasetHash).`, { input: String(run.id) });
    this.data.expectDatasetHash(run.id, recorded);
  }

  private async barsOf(manifest: Manifest): Promise<Bar[]> {
    return barsFromTables(this.o.symbol, await loadLayerTables(this.o.archive, manifest));
  }

  private async step(spec: LayerSpec): Promise<LayerRunResult> {
    const result = await runLayer(this.ctx, spec);
    this.refs.set(spec.layer, result.ref);
    this.outcomes.push({
      layer: spec.layer,
      runId: result.runId,
      status: result.status,
      sourceRunId: result.sourceRunId,
      datasetHash: result.datasetHash,
      manifestKey: result.manifestKey,
      summary: result.summary,
    });
    return result;
  }

  /** The research config a model or backtest was made with, for its lineage: its hash, where it came from and its resolved content. */
  private researchLineage(): Record<string, unknown> {
    return this.setup === null ? {} : { research: { ...this.setup.lineage } };
  }

  private async trainStep(ppo: PpoConfig, parents: ParentRun[]): Promise<void> {
    const o = this.o;
    const onTraining = (p: PpoProgress) => o.onProgress?.({ layer: 'L5', symbol: o.symbol, runId: this.currentRunId, phase: 'training', done: p.steps, total: p.totalSteps });
    const spec = l5Spec(this.data, ppo, parents, this.force, {
      clock: o.clock,
      onTraining,
      ...(o.logger ? { logger: o.logger } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const result = await this.step(spec);
    this.modelId = await registerTrainedModel(o.db, o.archive, o.clock, result, parents, this.researchLineage());
  }

  /**
   * Every baseline over the walk-forward folds of the L1 run's sessions, with L6's costs, gates
   * and trials, and PPO trained per fold with L5's options unless training is skipped (`ppo` null).
   */
  private async walkForwardStep(backtest: ResolvedBacktestConfig, setup: ResearchSetup, ppo: PpoConfig | null): Promise<WalkForwardSummary> {
    const o = this.o;
    const l1 = this.refs.get('L1');
    if (!l1) throw new TasaError('internal', `The walk-forward of ${o.symbol} has no L1 run to build on.`);
    const research = setup.lineage.config;
    const dataset = resolveRlDatasetConfig(this.data.datasetConfig);
    const config: WalkForwardRunConfig = {
      symbol: o.symbol,
      l1RunId: l1.runId,
      featureOptions: this.data.featureOptions,
      costs: dataset.costs,
      gates: backtest.gates,
      trials: backtest.trials,
      baselines: backtest.baselines,
      flatAtSessionEnd: backtest.flatAtSessionEnd,
      walkForward: research.walkForward,
      datasetHash: this.refs.get('L4')?.datasetHash ?? null,
      ...(ppo === null ? {} : { ppo: { config: ppo, dataset: { window: dataset.window, minSessionBars: dataset.minSessionBars, clip: Number.isFinite(dataset.clip) ? dataset.clip : null } } }),
    };
    let folds: Fold[];
    try {
      folds = planWalkForward(await this.data.series(), config, this.data.datasetConfig.purgeSessions ?? research.purgeSessions);
    } catch (err) {
      if (err instanceof TasaError && err.code === 'bad_input') return { status: 'skipped', reason: err.message };
      throw err;
    }
    const deps = { db: o.db, archive: o.archive, clock: o.clock, calendar: o.calendar };
    // A spread estimated from ticks is estimated per fold (before its test window), unless the dataset's costs were set in code.
    const spreadFromTicks = research.costs.spreadBps === 'from-ticks' && this.config.dataset?.costs === undefined ? { spreadFromTicks: research.costs } : {};
    const done = await runWalkForward({ ...deps, codeVersion: o.codeVersion, config, folds, researchHash: setup.lineage.hash, executor: o.folds ?? inProcessFolds(deps), force: this.force, ...spreadFromTicks });
    return { status: done.reused ? 'reused' : 'completed', runId: done.runId, folds: folds.length, verdict: done.report.verdict, htmlKey: done.htmlKey, markdownKey: done.markdownKey };
  }

  private async backtestStep(config: ResolvedBacktestConfig): Promise<void> {
    const o = this.o;
    const dataset = this.refs.get('L4');
    if (!dataset) throw new TasaError('internal', `L6 of ${o.symbol} has no L4 dataset to backtest.`);
    const tested = await policiesToTest(o.db, o.symbol, currentFeatureNames(this.data), config.baselines, this.modelId);
    let evaluated: { evaluations: PolicyEvaluation[]; rlDatasetHash: string } | null = null;
    const lineage = this.researchLineage();
    const spec = l6Spec(this.data, config, tested, l6Parents(dataset, tested), this.force, {
      calendar: o.calendar,
      clock: o.clock,
      spread: this.spread,
      onEvaluated: (evaluations, rlDatasetHash) => (evaluated = { evaluations, rlDatasetHash }),
    });
    const result = await this.step({ ...spec, config: { ...spec.config, ...lineage } });
    const done = evaluated as { evaluations: PolicyEvaluation[]; rlDatasetHash: string } | null;
    if (result.status !== 'completed' || done === null) return;
    this.backtestIds = await storeBacktests(o.db, o.clock, o.symbol, done.evaluations, {
      pipelineRunId: result.runId,
      datasetHash: done.rlDatasetHash,
      config: { split: config.split, gates: config.gates, l6DatasetHash: result.datasetHash, ...lineage, ...(this.spread === null ? {} : { spread: this.spread.note }) },
    }, o.calendar);
  }
}

/** L4 with the spread's origin in its summary (the reports of later runs built on it say where their costs came from). */
function withSpread(spec: LayerSpec, spread: SpreadChoice | null): LayerSpec {
  if (spread === null) return spec;
  const compute = async (): Promise<LayerOutput> => {
    const output = await spec.compute();
    return { ...output, summary: { ...output.summary, spread } };
  };
  return { ...spec, compute };
}

/** The spread choice an L4 run recorded; null for runs made without a research config. */
function spreadOf(summary: Record<string, unknown>): SpreadChoice | null {
  const spread = summary['spread'] as Partial<SpreadChoice> | undefined;
  return typeof spread?.spreadBps === 'number' && typeof spread.note === 'string' ? (spread as SpreadChoice) : null;
}
