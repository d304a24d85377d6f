/**
 * A policy found by id, the one way L6, `tasa backtest`, the strategy runner, the paper replay
 * and the live parity monitor find it: a baseline by id, or a registered PPO model with its
 * weights and stored inputs (feature options, normalization, window).
 */
import { TasaError } from '../errors.ts';
import type { StoredModel } from '../store/models-repo.ts';
import { getModel } from '../store/models-repo.ts';
import type { Db } from '../store/db.ts';
import type { TrainingSelectionView } from './backtest-report.ts';
import { BASELINE_IDS, baselinePolicy, isBaselineId } from './baselines.ts';
import { modelInputs } from './model-observer.ts';
import type { PpoModel } from './ppo/actor-critic.ts';
import type { PolicyUnderTest } from './policy-evaluation.ts';
import { DEFAULT_RL_DATASET_CONFIG } from './rl-dataset.ts';
import type { TradingCosts } from './types.ts';

export interface LoadedPolicy extends PolicyUnderTest {
  id: string;
  kind: 'ppo' | 'baseline';
  /** The registry's row; null for a baseline. */
  model: StoredModel | null;
  /**
   * What its own backtest charges: the costs a model was trained with (null when its metadata
   * does not record them), the default dataset costs for a baseline. See `policyCosts`.
   */
  costs: TradingCosts | null;
}

export async function loadPolicy(db: Db, id: string): Promise<LoadedPolicy> {
  if (isBaselineId(id)) return loadBaseline(id);
  const model = await getModel(db, id);
  if (model === null) throw unknownPolicy(id);
  return loadModel(model);
}

export function loadBaseline(id: string): LoadedPolicy {
  return { id, kind: 'baseline', policy: baselinePolicy(id), inputs: null, model: null, costs: { ...DEFAULT_RL_DATASET_CONFIG.costs } };
}

export async function loadModel(model: StoredModel): Promise<LoadedPolicy> {
  if (model.kind !== 'ppo' || model.weights === null) throw new TasaError('bad_input', `Model ${model.id} has no PPO weights to run.`, { input: model.id });
  // Loaded only for a model: it brings TensorFlow.js (the forward pass itself is plain JS).
  const { deserializeModel } = await import('./ppo/ppo-policy.ts');
  const { model: network, metadata } = deserializeModel(model.weights, `the weights of model ${model.id}`);
  return { ...(await trainedPolicy(model.id, network, metadata)), model };
}

/**
 * A trained network with its metadata (`trainPpo`'s, with the feature options) as a policy, not
 * registered (`model` null): how a walk-forward fold evaluates the model it has just trained.
 */
export async function trainedPolicy(id: string, network: PpoModel, metadata: Record<string, unknown>): Promise<LoadedPolicy> {
  const { PpoPolicy } = await import('./ppo/ppo-policy.ts');
  const policy = new PpoPolicy(id, network, { metadata });
  return { id, kind: 'ppo', policy, inputs: modelInputs(id, network.observation, metadata), model: null, costs: trainedCosts(metadata), training: trainingSelection(metadata) };
}

/** The selection across seeds a model's metadata records (ppo-trainer.ts); null for a model trained before it was recorded. */
function trainingSelection(metadata: Record<string, unknown>): TrainingSelectionView | null {
  const s = metadata['selection'] as Partial<TrainingSelectionView> | undefined;
  return typeof s?.chosenSeed === 'number' && typeof s.verdict === 'string' && Array.isArray(s.seeds) ? (s as TrainingSelectionView) : null;
}

/** The costs the policy's own backtest charges; a model that does not record its training costs is refused. */
export function policyCosts(p: LoadedPolicy): TradingCosts {
  if (p.costs !== null) return p.costs;
  throw new TasaError('bad_input', `Model ${p.id} does not record the trading costs it was trained with.`, { input: p.id, hint: 'Retrain it with tasa train.' });
}

export function unknownPolicy(id: string): TasaError {
  return new TasaError('not_found', `No policy "${id}": it is neither a registered model nor a baseline (${BASELINE_IDS.join(', ')}).`, { input: id, hint: 'List the models with tasa models list.' });
}

function trainedCosts(metadata: Record<string, unknown>): TradingCosts | null {
  const costs = metadata['costs'] as Partial<TradingCosts> | undefined;
  if (typeof costs?.spreadBps !== 'number' || typeof costs.feeBps !== 'number') return null;
  return {
    spreadBps: costs.spreadBps,
    feeBps: costs.feeBps,
    ...(typeof costs.slippageBps === 'number' ? { slippageBps: costs.slippageBps } : {}),
    ...(Array.isArray(costs.spreadBpsByHour) ? { spreadBpsByHour: costs.spreadBpsByHour } : {}),
  };
}
