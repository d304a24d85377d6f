/**
 * L5 in the pipeline: PPO policies trained on the L4 dataset's train split, one per seed, the one
 * chosen on the validation split (research/ppo/ppo-trainer.ts) registered as a candidate in the
 * model registry with every seed's validation and test result and their spread.
 *
 * Archive: the serialized model (`<modelId>.tppo`: weights + the metadata serving needs, i.e.
 * the dataset's normalization and the L3 feature options) and `training-curve.parquet`. Training
 * on the WASM backend is deterministic for a seed, so the files, and so the dataset hash,
 * reproduce; the curve's steps/s (wall time) is left out of the archive for that reason and kept
 * in the run summary and the registry. The model id is derived from the model file's sha256, so
 * the same training registers the same model once.
 */
import type { Clock } from '../../clock.ts';
import { TasaError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { serializeModel } from '../../research/ppo/ppo-policy.ts';
import { resolvePpoConfig, trainPpo, type PpoConfig, type PpoCurvePoint, type PpoProgress } from '../../research/ppo/ppo-trainer.ts';
import type { Db } from '../../store/db.ts';
import { getModel, insertModel } from '../../store/models-repo.ts';
import type { ArchiveStore } from '../archive/archive-store.ts';
import { doubleColumn, int32Column, type TableColumn } from '../archive/parquet-table.ts';
import type { LayerOutput, LayerRunResult, LayerSpec } from '../layer-runner.ts';
import { layerFileKey, symbolSegment } from '../layout.ts';
import { sha256Hex, type ParentRun } from '../manifest.ts';
import type { ChainData } from './chain-data.ts';

/**
 * The step budget per seed unless told otherwise (`tasa train --steps`): an upper bound, as early
 * stopping on the validation split usually ends a seed sooner; about 25 s per seed at some
 * thousands of steps/s.
 */
export const DEFAULT_PIPELINE_PPO_STEPS = 100_000;

export function resolvePipelinePpo(ppo: Partial<PpoConfig> = {}): PpoConfig {
  return resolvePpoConfig({ steps: DEFAULT_PIPELINE_PPO_STEPS, ...ppo });
}

export function l5Config(ppo: PpoConfig): Record<string, unknown> {
  return { ppo: { ...ppo, hidden: [...ppo.hidden] } };
}

export interface L5Hooks {
  clock: Clock;
  logger?: Pick<Logger, 'warn'>;
  signal?: AbortSignal;
  onTraining?: (progress: PpoProgress) => void;
}

export function l5Spec(data: ChainData, ppo: PpoConfig, parents: readonly ParentRun[], force: boolean, hooks: L5Hooks): LayerSpec {
  return {
    layer: 'L5',
    symbol: data.symbol,
    config: l5Config(ppo),
    parents,
    force,
    compute: async (): Promise<LayerOutput> => {
      const dataset = await data.dataset();
      const result = await trainPpo(dataset, ppo, {
        clock: hooks.clock,
        ...(hooks.logger ? { logger: hooks.logger } : {}),
        ...(hooks.signal ? { signal: hooks.signal } : {}),
        ...(hooks.onTraining ? { onProgress: hooks.onTraining } : {}),
      });
      if (result.stoppedEarly) throw new TasaError('conflict', `Training of a ${data.symbol} policy was stopped after ${result.steps} steps; no model was registered.`, { input: data.symbol });
      const bytes = serializeModel(result.model, { ...result.metadata, features: data.featureOptions });
      const weightsSha256 = sha256Hex(bytes);
      const modelId = `ppo-${symbolSegment(data.symbol).toLowerCase()}-${weightsSha256.slice(0, 12)}`;
      return {
        tables: [{ key: layerFileKey('L5', data.symbol, 'training-curve.parquet'), columns: curveColumns(result.curve), metadata: { layer: 'L5', symbol: data.symbol, modelId } }],
        blobs: [{ key: layerFileKey('L5', data.symbol, `${modelId}.tppo`), bytes, rows: 1 }],
        summary: {
          modelId,
          weightsSha256,
          rlDatasetHash: dataset.hash,
          steps: result.steps,
          iterations: result.iterations,
          totalSteps: result.totalSteps,
          seconds: result.seconds,
          stepsPerSecond: result.stepsPerSecond,
          backend: result.backend,
          validation: result.validation,
          test: result.test,
          selection: result.selection,
          featureOptions: data.featureOptions,
          curve: result.curve,
        },
        rowsIn: dataset.episodes.length,
        rowsOut: 1,
      };
    },
  };
}

/** The curve without its wall-time column (see the file comment); a missing mean reward is null. */
function curveColumns(curve: readonly PpoCurvePoint[]): TableColumn[] {
  const numbers = (pick: (p: PpoCurvePoint) => number | null) => curve.map(pick);
  return [
    int32Column('iteration', numbers((p) => p.iteration)),
    int32Column('steps', numbers((p) => p.steps)),
    int32Column('episodes', numbers((p) => p.episodes)),
    doubleColumn('mean_episode_reward', numbers((p) => p.meanEpisodeReward)),
    doubleColumn('policy_loss', numbers((p) => p.policyLoss)),
    doubleColumn('value_loss', numbers((p) => p.valueLoss)),
    doubleColumn('entropy', numbers((p) => p.entropy)),
    doubleColumn('approx_kl', numbers((p) => p.approxKl)),
    doubleColumn('clip_fraction', numbers((p) => p.clipFraction)),
    int32Column('updates', numbers((p) => p.updates)),
    doubleColumn('validation_reward', numbers((p) => p.validationReward)),
  ];
}

/**
 * Puts the run's model in the registry as a candidate unless it is there already (the same
 * training reproduces the same id). For a skipped run the model file is read back from the archive.
 * `lineage` (the research config's hash and source) goes into the model's config.
 */
export async function registerTrainedModel(
  db: Db,
  archive: ArchiveStore,
  clock: Clock,
  run: LayerRunResult,
  parents: readonly ParentRun[],
  lineage: Record<string, unknown> = {},
): Promise<string> {
  const s = run.summary;
  const modelId = s['modelId'];
  if (typeof modelId !== 'string') throw new TasaError('bad_input', `L5 run ${run.sourceRunId} recorded no model id.`, { input: String(run.sourceRunId) });
  if ((await getModel(db, modelId)) !== null) return modelId;
  const file = run.manifest.files.find((f) => f.key.endsWith(`/${modelId}.tppo`));
  if (!file) throw new TasaError('bad_input', `L5 run ${run.sourceRunId} lists no file for model ${modelId}.`, { input: modelId });
  const weights = await archive.get(file.key);
  if (sha256Hex(weights) !== file.sha256) throw new TasaError('bad_input', `${file.key} does not match the sha256 its run recorded.`, { input: file.key, hint: 'Rerun L5 with --force.' });
  const insert = insertModel(db, {
    id: modelId,
    kind: 'ppo',
    symbol: run.manifest.symbol,
    datasetHash: typeof s['rlDatasetHash'] === 'string' ? s['rlDatasetHash'] : null,
    config: {
      ppo: run.manifest.config['ppo'],
      features: s['featureOptions'] ?? {},
      weightsSha256: file.sha256,
      pipeline: { l5RunId: run.sourceRunId, l5DatasetHash: run.datasetHash, parents },
      ...lineage,
    },
    metrics: {
      validation: s['validation'] ?? null,
      // The test split of the chosen checkpoint and every seed's validation and test results (scored after the choice), with the verdict on validation.
      test: s['test'] ?? null,
      selection: s['selection'] ?? null,
      steps: s['steps'] ?? null,
      totalSteps: s['totalSteps'] ?? null,
      seconds: s['seconds'] ?? null,
      stepsPerSecond: s['stepsPerSecond'] ?? null,
      backend: s['backend'] ?? null,
    },
    trainingCurve: Array.isArray(s['curve']) ? (s['curve'] as unknown[]) : [],
    weights,
    createdAt: clock.now(),
  });
  // Another process may have registered the same model meanwhile: that is the same model.
  await insert.catch((err: unknown) => {
    if (!(err instanceof TasaError && err.code === 'conflict')) throw err;
  });
  return modelId;
}
