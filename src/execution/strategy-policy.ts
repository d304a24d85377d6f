/**
 * The policy a strategy trades, found the way L6 and the live predictor find it: a baseline by
 * id, or a registered PPO model with its weights and stored inputs (feature options,
 * normalization, window). With it, the trading costs its backtest charges: a model's own (from
 * its training metadata), the default dataset costs for a baseline.
 */
import { TasaError } from '../errors.ts';
import { baselinePolicy, BASELINE_IDS, isBaselineId } from '../research/baselines.ts';
import { modelInputs } from '../research/model-observer.ts';
import type { PolicyUnderTest } from '../research/policy-evaluation.ts';
import { DEFAULT_RL_DATASET_CONFIG } from '../research/rl-dataset.ts';
import type { TradingCosts } from '../research/types.ts';
import type { Db } from '../store/db.ts';
import { getModel } from '../store/models-repo.ts';

export interface StrategyPolicy extends PolicyUnderTest {
  costs: TradingCosts;
}

export async function loadStrategyPolicy(db: Db, id: string): Promise<StrategyPolicy> {
  if (isBaselineId(id)) return { policy: baselinePolicy(id), inputs: null, costs: { ...DEFAULT_RL_DATASET_CONFIG.costs } };
  const model = await getModel(db, id);
  if (model === null) throw unknownPolicy(id);
  if (model.kind !== 'ppo' || model.weights === null) throw new TasaError('bad_input', `Model ${model.id} has no PPO weights to run.`, { input: model.id });
  // Loaded only for a model: it brings TensorFlow.js (the forward pass itself is plain JS).
  const { loadPpoPolicy } = await import('../research/ppo/ppo-policy.ts');
  const policy = loadPpoPolicy(model.id, model.weights);
  return { policy, inputs: modelInputs(model.id, policy.model.observation, policy.metadata), costs: trainedCosts(model.id, policy.metadata) };
}

export function unknownPolicy(id: string): TasaError {
  return new TasaError('not_found', `No policy "${id}": it is neither a registered model nor a baseline (${BASELINE_IDS.join(', ')}).`, { input: id, hint: 'List the models with tasa models list.' });
}

function trainedCosts(modelId: string, metadata: Record<string, unknown>): TradingCosts {
  const costs = metadata['costs'] as Partial<TradingCosts> | undefined;
  if (typeof costs?.spreadBps === 'number' && typeof costs.feeBps === 'number') return { spreadBps: costs.spreadBps, feeBps: costs.feeBps };
  throw new TasaError('bad_input', `Model ${modelId} does not record the trading costs it was trained with.`, { input: modelId, hint: 'Retrain it with tasa train.' });
}
