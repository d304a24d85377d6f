/**
 * One walk-forward fold, run by whichever worker took its job: claims the fold, rebuilds the
 * series, indicators and features from the L1 run the walk-forward names (the same code as the
 * pipeline's L2/L3, so the same numbers), evaluates every policy on the fold's test window with
 * the run's costs and gates (research/walk-forward-evaluation.ts) and stores the result.
 *
 * When the run trains (`ppo`), the fold first builds its own RL dataset with its train,
 * validation and test windows (normalized on its train window only), trains PPO on the train
 * window with the seeds chosen and early-stopped on the validation window (`trainPpo`), and the
 * chosen model is evaluated on the test window with the baselines, as policy "ppo".
 *
 * The rebuilt data is kept for the last (L1 run, feature options) asked, so a worker that takes
 * several folds of one run computes it once.
 */
import type { Clock } from '../clock.ts';
import type { Calendars } from '../domain/calendar.ts';
import { errorMessage, TasaError } from '../errors.ts';
import { baselinePolicy } from '../research/baselines.ts';
import type { FeatureOptions } from '../research/features.ts';
import type { GateThresholds } from '../research/gates.ts';
import { sessionBarsPerYear } from '../research/performance.ts';
import type { PolicyUnderTest } from '../research/policy-evaluation.ts';
import { trainedPolicy } from '../research/policy-loading.ts';
import type { PpoConfig } from '../research/ppo/ppo-trainer.ts';
import { canonicalJson } from '../research/research-config.ts';
import { buildRlDataset } from '../research/rl-dataset.ts';
import type { RlDataset, TradingCosts } from '../research/types.ts';
import { evaluateFold, type FoldResult, type SeriesData } from '../research/walk-forward-evaluation.ts';
import type { Fold, WalkForwardConfig } from '../research/walk-forward.ts';
import type { Db } from '../store/db.ts';
import { getRun } from '../store/pipeline-runs-repo.ts';
import { claimFold, finishFold } from '../store/walk-forward-repo.ts';
import type { ArchiveStore } from './archive/archive-store.ts';
import { loadLayerTables } from './layer-runner.ts';
import { ChainData } from './layers/chain-data.ts';
import { barsFromTables } from './layers/l1-standardized.ts';
import { parseManifest } from './manifest.ts';

/** What every fold of a run needs (stored as the run's config). */
export interface WalkForwardRunConfig {
  symbol: string;
  /** The L1 run whose archived bars the folds rebuild their data from. */
  l1RunId: number;
  featureOptions: FeatureOptions;
  costs: TradingCosts;
  /** Per fold (in fold order), the costs with the spread estimated from the quotes before its test window ("from-ticks"); absent: `costs` for every fold. */
  foldCosts?: TradingCosts[];
  gates: GateThresholds;
  /** Configurations tried per fold, for the deflated Sharpe ratio; null: the policies evaluated. */
  trials: number | null;
  baselines: string[];
  flatAtSessionEnd: boolean;
  walkForward: WalkForwardConfig;
  /** The L4 dataset the folds belong to (lineage; the folds cut their own windows). */
  datasetHash: string | null;
  /** PPO trained per fold (see the file comment); absent when training is skipped: baselines only. */
  ppo?: FoldTraining;
}

export interface FoldTraining {
  config: PpoConfig;
  /** The L4 dataset options the fold datasets share (their costs are the run's, their windows the fold's); clip null: none (JSON has no Infinity). */
  dataset: { window: number; minSessionBars: number; clip: number | null };
}

/** The policy id of the model a fold trains. */
export const FOLD_PPO_ID = 'ppo';

export interface FoldDeps {
  db: Db;
  archive: ArchiveStore;
  clock: Clock;
  calendar: Calendars;
}

/** The series data of the last L1 run and feature options asked (see the file comment). */
export class FoldDataCache {
  private key = '';
  private data: Promise<SeriesData> | null = null;

  get(d: FoldDeps, c: WalkForwardRunConfig): Promise<SeriesData> {
    const key = `${c.l1RunId}|${canonicalJson(c.featureOptions)}`;
    if (this.data === null || key !== this.key) {
      this.key = key;
      this.data = loadSeriesData(d, c);
      // A failed load is not kept: the next fold tries again.
      this.data.catch(() => {
        if (this.key === key) this.data = null;
      });
    }
    return this.data;
  }
}

async function loadSeriesData(d: FoldDeps, c: WalkForwardRunConfig): Promise<SeriesData> {
  const run = await getRun(d.db, c.l1RunId);
  if (run === null || run.layer !== 'L1' || run.manifest === null) {
    throw new TasaError('not_found', `L1 run ${c.l1RunId} of ${c.symbol}, which the walk-forward builds on, is not recorded with a manifest.`, { input: String(c.l1RunId) });
  }
  const manifest = parseManifest(run.manifest, `of run ${run.id}`);
  const chain = new ChainData(c.symbol, d.calendar.of(c.symbol));
  chain.featureOptions = c.featureOptions;
  chain.setBarSource(async () => barsFromTables(c.symbol, await loadLayerTables(d.archive, manifest)));
  return { symbol: c.symbol, series: await chain.series(), indicators: await chain.indicators(), features: await chain.features() };
}

/** The costs `fold` is charged: its own estimate of the spread when the run has one per fold. */
function costsOfFold(c: WalkForwardRunConfig, fold: Fold): TradingCosts {
  return c.foldCosts?.[fold.index] ?? c.costs;
}

/** The fold's RL dataset: its train, validation and test windows, nothing after its test window. */
export function foldDataset(data: SeriesData, fold: Fold, c: WalkForwardRunConfig, training: FoldTraining): RlDataset {
  const sessions = { train: fold.train, validation: fold.validation, test: fold.test };
  const { window, minSessionBars, clip } = training.dataset;
  return buildRlDataset(c.symbol, data.series, data.features, { window, minSessionBars, clip: clip ?? Infinity, costs: costsOfFold(c, fold), purgeSessions: fold.purgeSessions, sessions });
}

/** PPO trained on the fold's train window and chosen on its validation window, as a policy. */
async function trainFoldPolicy(d: Pick<FoldDeps, 'clock'>, data: SeriesData, fold: Fold, c: WalkForwardRunConfig, training: FoldTraining): Promise<PolicyUnderTest> {
  // Loaded only when training: it brings TensorFlow.js.
  const { trainPpo } = await import('../research/ppo/ppo-trainer.ts');
  const trained = await trainPpo(foldDataset(data, fold, c, training), training.config, { clock: d.clock });
  return trainedPolicy(FOLD_PPO_ID, trained.model, { ...trained.metadata, features: c.featureOptions });
}

/** Every configured policy over `fold`'s test window, PPO first when the run trains. */
export async function evaluateFoldOf(d: Pick<FoldDeps, 'clock' | 'calendar'>, data: SeriesData, fold: Fold, c: WalkForwardRunConfig): Promise<FoldResult> {
  const baselines = c.baselines.map((id) => ({ policy: baselinePolicy(id), inputs: null }));
  const policies = c.ppo === undefined ? baselines : [await trainFoldPolicy(d, data, fold, c, c.ppo), ...baselines];
  // Every seed trained is a configuration tried.
  const trials = c.ppo === undefined ? c.trials : Math.max(c.trials ?? 0, policies.length - 1 + c.ppo.config.seeds);
  return evaluateFold(data, fold, policies, {
    costs: costsOfFold(c, fold),
    flatAtSessionEnd: c.flatAtSessionEnd,
    thresholds: c.gates,
    barsPerYear: sessionBarsPerYear(d.calendar.of(c.symbol), fold.test.from, fold.test.to),
    calendar: d.calendar.of(c.symbol),
    generatedAt: d.clock.now(),
    datasetHash: c.datasetHash,
    reportConfig: {},
    ...(trials === null ? {} : { trials }),
  });
}

/**
 * Runs fold `fold` of run `runId` as `worker` and stores its result (or its error, rethrown).
 * Returns null when the fold was already finished (a job delivered twice), or when a later claim
 * took it over while this one ran (its job expired and ran again): then nothing is stored.
 */
export async function runFold(d: FoldDeps, cache: FoldDataCache, runId: number, fold: number, worker: string): Promise<{ fold: number; bars: number } | null> {
  const claimed = await claimFold(d.db, runId, fold, worker, d.clock.now());
  if (claimed === null) return null;
  let result: FoldResult;
  try {
    const config = claimed.config as unknown as WalkForwardRunConfig;
    result = await evaluateFoldOf(d, await cache.get(d, config), claimed.plan as unknown as Fold, config);
  } catch (err) {
    await finishFold(d.db, runId, fold, claimed.epoch, { error: errorMessage(err) }, d.clock.now());
    throw err;
  }
  const stored = await finishFold(d.db, runId, fold, claimed.epoch, { result: result as unknown as Record<string, unknown> }, d.clock.now());
  return stored ? { fold, bars: result.bars } : null;
}
