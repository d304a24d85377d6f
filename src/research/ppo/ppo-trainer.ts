/**
 * PPO (clipped surrogate objective, GAE(λ) advantages, value loss, entropy bonus, Adam,
 * minibatches, several epochs per rollout) on the trading environment of an RlDataset's train
 * split, selected honestly (model-selection.ts): several seeds (`seeds`, default 3); within each,
 * the greedy policy is scored on the validation split every `evalEvery` iterations, the best
 * checkpoint is kept and training stops after `patience` scores without improvement; the seed
 * with the best validation score is chosen. The test split is scored once per seed's kept
 * checkpoint, after every choice is made, and the spread of the seeds' results is reported.
 *
 * Rollouts run the policy through RolloutForward (rollout-forward.ts: the feature windows' share
 * of the first layers batched per episode), gradient steps through PpoLearner (ppo-update.ts:
 * hand-written gradients, clipping and Adam in JS, matrix products in tfjs).
 *
 * Reproducibility: initial weights, action sampling, episode choice and minibatch order each use
 * their own SeededRandom stream derived from `seed`, and the WASM backend is single-threaded, so
 * two runs with the same seed and dataset produce identical weights on the same backend.
 *
 * Rewards are trained on `rewardScale` x the environment's reward (log returns, so x 1e4 = basis
 * points: a value network learns badly on targets of order 1e-4). Every figure reported (the
 * curve, the evaluation) is in the environment's own unit, net log return per episode.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { systemClock, type Clock } from '../../clock.ts';
import { TasaError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { RlDataset, Split } from '../types.ts';
import { ACTIONS, JsForward, initialModel, mostLikelyAction, type DenseLayer, type PpoModel } from './actor-critic.ts';
import { DEFAULT_SELECTION, EarlyStopping, chooseSeed, selectionVerdict, spreadOf, type CheckpointScore, type ResultSpread } from './model-selection.ts';
import { PpoLearner, STAT_NAMES, type Batch } from './ppo-update.ts';
import { RolloutForward } from './rollout-forward.ts';
import { SeededRandom } from '../../domain/random.ts';
import { RANDOM_STREAMS, initTfBackend, type TfBackendInfo } from './tf-backend.ts';
import { TradingEnv } from './trading-env.ts';

export interface PpoConfig {
  /** Environment steps to train for (rounded up to whole rollouts). */
  steps: number;
  /** Environment steps collected per iteration before the network is updated. */
  rolloutLength: number;
  learningRate: number;
  /** Discount factor. */
  gamma: number;
  /** GAE λ. */
  lambda: number;
  /** PPO clip range ε: the probability ratio is clipped to [1 - ε, 1 + ε]. */
  clip: number;
  /** Passes over each rollout. */
  epochs: number;
  minibatchSize: number;
  entropyCoef: number;
  valueCoef: number;
  /** The actor's gradients, and separately the critic's, are scaled down when their norm exceeds this. */
  maxGradNorm: number;
  /** Stop an iteration's epochs early once a minibatch's approximate KL exceeds 1.5 x this; null = never. */
  targetKl: number | null;
  /** Multiplies rewards for training only (see the file comment). */
  rewardScale: number;
  /** Hidden layer sizes of the actor and of the critic. */
  hidden: number[];
  /** The first seed; the others are seed + 1, ..., seed + seeds - 1. */
  seed: number;
  /** Seeds trained; the one with the best validation checkpoint is chosen. */
  seeds: number;
  /** Iterations between two scores of the greedy policy on the validation split (and always after the last). */
  evalEvery: number;
  /** Validation scores without a better one before a seed's training stops. */
  patience: number;
}

export const DEFAULT_PPO_CONFIG: Readonly<PpoConfig> = Object.freeze({
  steps: 100_000,
  rolloutLength: 2048,
  learningRate: 3e-4,
  gamma: 0.99,
  lambda: 0.95,
  clip: 0.2,
  epochs: 10,
  minibatchSize: 256,
  entropyCoef: 0.01,
  valueCoef: 0.5,
  maxGradNorm: 0.5,
  targetKl: null,
  rewardScale: 1e4,
  hidden: [64, 64],
  seed: 1,
  ...DEFAULT_SELECTION,
});

export function resolvePpoConfig(config: Partial<PpoConfig> = {}): PpoConfig {
  const c: PpoConfig = { ...DEFAULT_PPO_CONFIG, ...config, hidden: [...(config.hidden ?? DEFAULT_PPO_CONFIG.hidden)] };
  const bad = (name: string, rule: string, value: unknown) => new TasaError('bad_argument', `PPO ${name} must be ${rule}, got ${String(value)}.`, { input: name });
  for (const name of ['steps', 'rolloutLength', 'epochs', 'minibatchSize', 'seeds', 'evalEvery', 'patience'] as const) {
    if (!Number.isInteger(c[name]) || c[name] < 1) throw bad(name, 'an integer >= 1', c[name]);
  }
  for (const name of ['learningRate', 'clip', 'maxGradNorm', 'rewardScale'] as const) {
    if (!(Number.isFinite(c[name]) && c[name] > 0)) throw bad(name, 'a number > 0', c[name]);
  }
  for (const name of ['gamma', 'lambda'] as const) {
    if (!(c[name] >= 0 && c[name] <= 1)) throw bad(name, 'a number in [0, 1]', c[name]);
  }
  for (const name of ['entropyCoef', 'valueCoef'] as const) {
    if (!(Number.isFinite(c[name]) && c[name] >= 0)) throw bad(name, 'a number >= 0', c[name]);
  }
  if (c.targetKl !== null && !(c.targetKl > 0)) throw bad('targetKl', 'a number > 0 or null', c.targetKl);
  if (c.hidden.length === 0 || !c.hidden.every((h) => Number.isInteger(h) && h >= 1)) throw bad('hidden', 'a non-empty list of integers >= 1', c.hidden.join(','));
  if (!Number.isInteger(c.seed)) throw bad('seed', 'an integer', c.seed);
  return c;
}

/** One training iteration (one rollout and its update). JSON-safe: a missing value is null. */
export interface PpoCurvePoint {
  iteration: number;
  /** Environment steps so far. */
  steps: number;
  /** Episodes finished during this rollout. */
  episodes: number;
  /** Mean net log return of the episodes finished during this rollout; null when none finished. */
  meanEpisodeReward: number | null;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  approxKl: number;
  clipFraction: number;
  /** Minibatch updates done (fewer than epochs x minibatches when targetKl stopped early). */
  updates: number;
  /** Environment steps per second of wall time, collection and update included. */
  stepsPerSecond: number;
  /** The greedy policy's mean net log return per validation session after this iteration; null when not scored here. */
  validationReward: number | null;
}

/** Progress over all seeds: `iteration` and `steps` count from the first seed's start (a seed stopped early skips its remaining ones). */
export interface PpoProgress {
  /** The seed being trained. */
  seed: number;
  iteration: number;
  iterations: number;
  steps: number;
  totalSteps: number;
  /** The seed's own iteration. */
  point: PpoCurvePoint;
}

export interface PpoEvaluation {
  split: Split;
  episodes: number;
  steps: number;
  /** Mean net log return per episode of the greedy (most likely action) policy. */
  meanReward: number;
  /** The same for the always-flat policy (0 unless costs are charged for nothing: a check). */
  flatMeanReward: number;
  /** Share of decisions short, flat, long. */
  positionShares: { short: number; flat: number; long: number };
  /** Mean number of position changes per episode (the closing one included). */
  meanTradesPerEpisode: number;
}

export interface PpoTrainOptions {
  onProgress?: (progress: PpoProgress) => void;
  /** Stops between iterations; the result then has `stopped: true`. */
  signal?: AbortSignal;
  clock?: Clock;
  logger?: Pick<Logger, 'warn'>;
}

/** One seed's training: its kept checkpoint and how it was chosen. JSON-safe and without wall time (it goes into the model's metadata). */
export interface SeedRun {
  seed: number;
  /** Iterations and steps trained (up to the stop). */
  iterations: number;
  steps: number;
  /** Why training stopped: patience ran out, the step budget was spent, or the run was aborted. */
  stoppedBy: 'patience' | 'steps' | 'aborted';
  /** The kept checkpoint: the best validation score (the last iteration without a validation split). */
  bestIteration: number;
  bestSteps: number;
  /** Every validation score, in order. */
  checkpoints: CheckpointScore[];
  /** The kept checkpoint on the validation split (null without one) and, once every choice is made, on the test split. */
  validation: PpoEvaluation | null;
  test: PpoEvaluation | null;
}

/** The choice across seeds, with the spread of their results (mean net log return per session). */
export interface PpoSelection {
  chosenSeed: number;
  seeds: SeedRun[];
  validation: ResultSpread | null;
  test: ResultSpread | null;
  /** Whether the chosen seed (the best) beats flat on validation; null without a validation split. */
  beatsFlat: boolean | null;
  verdict: string;
}

export interface PpoTrainingResult {
  model: PpoModel;
  /** To store with the weights (`serializeModel(model, metadata)`): what serving needs to rebuild the inputs, and the selection. */
  metadata: Record<string, unknown>;
  config: PpoConfig;
  /** The chosen seed's curve. */
  curve: PpoCurvePoint[];
  /** The chosen checkpoint on the validation split; null when the dataset has no validation episode. */
  validation: PpoEvaluation | null;
  /** The chosen checkpoint on the test split (scored after the choice); null without test episodes or when aborted. */
  test: PpoEvaluation | null;
  selection: PpoSelection;
  backend: TfBackendInfo;
  /** The chosen seed's steps and iterations (up to its stop). */
  steps: number;
  iterations: number;
  /** Every seed: steps trained, wall seconds, and steps per second of wall time (validation scoring included). */
  totalSteps: number;
  seconds: number;
  stepsPerSecond: number;
  /** Aborted through `signal`. */
  stoppedEarly: boolean;
}

/** Trains PPO policies on `dataset`'s train split, one per seed, and returns the one chosen on the validation split (see the file comment). */
export async function trainPpo(dataset: RlDataset, config: Partial<PpoConfig> = {}, options: PpoTrainOptions = {}): Promise<PpoTrainingResult> {
  const cfg = resolvePpoConfig(config);
  const backend = await initTfBackend(options.logger);
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const iterationsPerSeed = Math.ceil(cfg.steps / cfg.rolloutLength);
  const plan: ProgressPlan = { iterationsBefore: 0, stepsBefore: 0, iterations: cfg.seeds * iterationsPerSeed, rolloutLength: cfg.rolloutLength };
  const trained: SeedTraining[] = [];
  for (let i = 0; i < cfg.seeds; i++) {
    const run = await trainSeed(dataset, { ...cfg, seed: cfg.seed + i }, options, clock, plan);
    trained.push(run);
    plan.iterationsBefore = (i + 1) * iterationsPerSeed;
    plan.stepsBefore += run.curve.at(-1)?.steps ?? 0;
    if (run.stoppedBy === 'aborted') break;
  }
  const aborted = trained.at(-1)?.stoppedBy === 'aborted';
  const chosen = trained[chooseSeed(trained.map((t) => ({ seed: t.seed, validation: t.validation?.meanReward ?? null })))] as SeedTraining;
  // The test split, once per candidate, only now that every choice is made.
  const runs = trained.map((t) => seedRun(t, aborted ? null : evaluateModel(dataset, t.model, 'test')));
  const selection = selectionOf(runs, chosen.seed);
  const seconds = (clock.now() - started) / 1000;
  return {
    model: chosen.model,
    metadata: { ...trainingMetadata(dataset, { ...cfg, seed: chosen.seed }), selection },
    config: cfg,
    curve: chosen.curve,
    validation: chosen.validation,
    test: runs.find((r) => r.seed === chosen.seed)?.test ?? null,
    selection,
    backend,
    steps: chosen.curve.at(-1)?.steps ?? 0,
    iterations: chosen.curve.length,
    totalSteps: plan.stepsBefore,
    seconds,
    stepsPerSecond: plan.stepsBefore / Math.max(seconds, 1e-3),
    stoppedEarly: aborted,
  };
}

/** Where the seeds' progress stands, to count iterations and steps across them. */
interface ProgressPlan {
  iterationsBefore: number;
  stepsBefore: number;
  iterations: number;
  rolloutLength: number;
}

/** One seed's training before the test split is scored: the kept checkpoint's model and validation. */
interface SeedTraining {
  seed: number;
  model: PpoModel;
  curve: PpoCurvePoint[];
  stoppedBy: SeedRun['stoppedBy'];
  best: CheckpointScore;
  checkpoints: CheckpointScore[];
  validation: PpoEvaluation | null;
}

/** Trains one seed with early stopping on the validation split (when the dataset has one). */
async function trainSeed(dataset: RlDataset, cfg: PpoConfig, options: PpoTrainOptions, clock: Clock, plan: ProgressPlan): Promise<SeedTraining> {
  const env = new TradingEnv(dataset, 'train');
  const spec = { featureNames: dataset.featureNames, window: dataset.window };
  const learner = new PpoLearner(initialModel(spec, cfg.hidden, new SeededRandom(cfg.seed, RANDOM_STREAMS.initialWeights)), cfg.learningRate, cfg);
  const run = new TrainingRun(env, cfg);
  const iterations = Math.ceil(cfg.steps / cfg.rolloutLength);
  const hasValidation = dataset.episodes.some((e) => e.split === 'validation' && e.times.length >= 2);
  const stopping = new EarlyStopping(cfg.patience);
  const curve: PpoCurvePoint[] = [];
  let kept: { model: PpoModel; validation: PpoEvaluation | null } = { model: learner.model, validation: null };
  let stoppedBy: SeedRun['stoppedBy'] = 'steps';
  for (let iteration = 1; iteration <= iterations; iteration++) {
    if (options.signal?.aborted === true) {
      stoppedBy = 'aborted';
      break;
    }
    const point = run.iterate(learner, iteration, clock);
    if (hasValidation && (iteration % cfg.evalEvery === 0 || iteration === iterations)) {
      const validation = evaluateModel(dataset, learner.model, 'validation') as PpoEvaluation;
      point.validationReward = validation.meanReward;
      if (stopping.offer({ iteration, steps: point.steps, score: validation.meanReward })) kept = { model: snapshot(learner.model), validation };
    }
    curve.push(point);
    options.onProgress?.({ seed: cfg.seed, iteration: plan.iterationsBefore + iteration, iterations: plan.iterations, steps: plan.stepsBefore + point.steps, totalSteps: plan.iterations * plan.rolloutLength, point });
    await nextTurn(); // lets a progress bar draw and signals arrive
    if (stopping.exhausted) {
      stoppedBy = 'patience';
      break;
    }
  }
  const last = curve.at(-1);
  // Without a validation split nothing is selected: the last checkpoint is the model.
  const best = stopping.best ?? { iteration: last?.iteration ?? 0, steps: last?.steps ?? 0, score: Number.NaN };
  if (!hasValidation) kept = { model: learner.model, validation: null };
  return { seed: cfg.seed, model: kept.model, curve, stoppedBy, best, checkpoints: stopping.scores, validation: kept.validation };
}

/** A copy of the weights (the learner updates its model in place). */
function snapshot(model: PpoModel): PpoModel {
  const copy = (layers: readonly DenseLayer[]) => layers.map((l) => ({ ...l, weights: l.weights.slice(), bias: l.bias.slice() }));
  return { observation: { featureNames: [...model.observation.featureNames], window: model.observation.window }, hidden: [...model.hidden], actor: copy(model.actor), critic: copy(model.critic) };
}

function seedRun(t: SeedTraining, test: PpoEvaluation | null): SeedRun {
  const last = t.curve.at(-1);
  return {
    seed: t.seed,
    iterations: t.curve.length,
    steps: last?.steps ?? 0,
    stoppedBy: t.stoppedBy,
    bestIteration: t.best.iteration,
    bestSteps: t.best.steps,
    checkpoints: t.checkpoints,
    validation: t.validation,
    test,
  };
}

function selectionOf(runs: SeedRun[], chosenSeed: number): PpoSelection {
  const chosen = runs.find((r) => r.seed === chosenSeed);
  const validations = runs.flatMap((r) => (r.validation === null ? [] : [r.validation.meanReward]));
  const validation = spreadOf(validations);
  const beatsFlat = chosen?.validation ? chosen.validation.meanReward > chosen.validation.flatMeanReward : null;
  return {
    chosenSeed,
    seeds: runs,
    validation,
    test: spreadOf(runs.flatMap((r) => (r.test === null ? [] : [r.test.meanReward]))),
    beatsFlat,
    verdict: selectionVerdict(chosenSeed, chosen?.validation?.meanReward ?? null, chosen?.validation?.flatMeanReward ?? null, validation),
  };
}

/** What travels with the weights: the dataset they were trained on and how to rebuild its inputs. */
export function trainingMetadata(dataset: RlDataset, config: PpoConfig): Record<string, unknown> {
  return {
    symbol: dataset.symbol,
    datasetHash: dataset.hash,
    normalization: dataset.normalization,
    costs: dataset.costs,
    splits: dataset.splits,
    config,
  };
}

// ---- rollouts ----

/** One rollout's transitions. Buffers are reused from one iteration to the next. */
class Rollout {
  readonly observations: Float32Array;
  readonly actions: Int32Array;
  readonly logProbs: Float64Array;
  readonly values: Float64Array;
  /** Scaled rewards (what the critic learns). */
  readonly rewards: Float64Array;
  /** 1 where the episode ended with this step. */
  readonly dones: Uint8Array;
  /** Value of the observation after the last step (bootstrap). */
  lastValue = 0;

  constructor(
    readonly length: number,
    readonly observationSize: number,
  ) {
    this.observations = new Float32Array(length * observationSize);
    this.actions = new Int32Array(length);
    this.logProbs = new Float64Array(length);
    this.values = new Float64Array(length);
    this.rewards = new Float64Array(length);
    this.dones = new Uint8Array(length);
  }
}

/** GAE(λ) advantages and the critic's targets (advantage + value). */
export function computeGae(
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  dones: ArrayLike<number>,
  lastValue: number,
  gamma: number,
  lambda: number,
): { advantages: Float64Array; returns: Float64Array } {
  const n = rewards.length;
  const advantages = new Float64Array(n);
  const returns = new Float64Array(n);
  let next = 0;
  for (let t = n - 1; t >= 0; t--) {
    const live = dones[t] === 1 ? 0 : 1;
    const nextValue = t === n - 1 ? lastValue : (values[t + 1] as number);
    const delta = (rewards[t] as number) + gamma * nextValue * live - (values[t] as number);
    next = delta + gamma * lambda * live * next;
    advantages[t] = next;
    returns[t] = next + (values[t] as number);
  }
  return { advantages, returns };
}

/** The state that lives across iterations: the running episode, the random streams, the buffers. */
class TrainingRun {
  private readonly actionRng: SeededRandom;
  private readonly episodeRng: SeededRandom;
  private readonly batchRng: SeededRandom;
  private readonly rollout: Rollout;
  private observation: Float32Array;
  private episodeReward = 0;
  private steps = 0;

  constructor(
    private readonly env: TradingEnv,
    private readonly cfg: PpoConfig,
  ) {
    this.actionRng = new SeededRandom(cfg.seed, RANDOM_STREAMS.actions);
    this.episodeRng = new SeededRandom(cfg.seed, RANDOM_STREAMS.episodes);
    this.batchRng = new SeededRandom(cfg.seed, RANDOM_STREAMS.minibatches);
    this.rollout = new Rollout(cfg.rolloutLength, env.observationSize);
    this.observation = this.newEpisode();
  }

  iterate(learner: PpoLearner, iteration: number, clock: Clock): PpoCurvePoint {
    const started = clock.now();
    const finished = this.collect(new RolloutForward(learner.model, this.env.dataset));
    const losses = this.update(learner);
    if (![losses.policyLoss, losses.valueLoss, losses.entropy].every(Number.isFinite)) {
      throw new TasaError('internal', `PPO training diverged at iteration ${iteration} (a loss is not finite).`, { input: 'learningRate', hint: 'Lower the learning rate or the reward scale.' });
    }
    const elapsed = Math.max(clock.now() - started, 1);
    this.steps += this.cfg.rolloutLength;
    return {
      iteration,
      steps: this.steps,
      episodes: finished.length,
      meanEpisodeReward: finished.length === 0 ? null : finished.reduce((a, b) => a + b, 0) / finished.length,
      ...losses,
      stepsPerSecond: (this.cfg.rolloutLength / elapsed) * 1000,
      validationReward: null,
    };
  }

  private newEpisode(): Float32Array {
    this.episodeReward = 0;
    return this.env.reset(this.episodeRng.int(this.env.episodes.length));
  }

  /** Fills the rollout with the current policy; returns the rewards of the episodes it finished. */
  private collect(forward: RolloutForward): number[] {
    const r = this.rollout;
    const probabilities = new Float64Array(ACTIONS);
    const finished: number[] = [];
    for (let t = 0; t < r.length; t++) {
      r.observations.set(this.observation, t * r.observationSize);
      r.values[t] = forward.evaluate(this.env, probabilities);
      const action = this.actionRng.categorical(probabilities);
      r.actions[t] = action;
      r.logProbs[t] = Math.log(probabilities[action] as number);
      const { observation, reward, done } = this.env.step(action);
      r.rewards[t] = reward * this.cfg.rewardScale;
      r.dones[t] = done ? 1 : 0;
      this.episodeReward += reward;
      if (done) {
        finished.push(this.episodeReward);
        this.observation = this.newEpisode();
      } else {
        this.observation = observation;
      }
    }
    r.lastValue = forward.evaluate(this.env, probabilities);
    return finished;
  }

  private update(learner: PpoLearner): Omit<PpoCurvePoint, 'iteration' | 'steps' | 'episodes' | 'meanEpisodeReward' | 'stepsPerSecond' | 'validationReward'> {
    const r = this.rollout;
    const { advantages, returns } = computeGae(r.rewards, r.values, r.dones, r.lastValue, this.cfg.gamma, this.cfg.lambda);
    const order = Int32Array.from({ length: r.length }, (_, i) => i);
    const sums = new Float64Array(STAT_NAMES.length);
    let updates = 0;
    epochs: for (let epoch = 0; epoch < this.cfg.epochs; epoch++) {
      this.batchRng.shuffle(order);
      for (let start = 0; start < r.length; start += this.cfg.minibatchSize) {
        const batch = gatherBatch(r, advantages, returns, order.subarray(start, Math.min(start + this.cfg.minibatchSize, r.length)));
        const stats = learner.step(batch);
        stats.forEach((x, i) => (sums[i] = (sums[i] as number) + x));
        updates += 1;
        if (this.cfg.targetKl !== null && (stats[3] as number) > 1.5 * this.cfg.targetKl) break epochs;
      }
    }
    const mean = (i: number) => (sums[i] as number) / updates;
    return { policyLoss: mean(0), valueLoss: mean(1), entropy: mean(2), approxKl: mean(3), clipFraction: mean(4), updates };
  }
}

// ---- minibatches ----

/** Fresh arrays per batch: tf.tensor may keep a reference to its data (cpu backend). */
function gatherBatch(r: Rollout, advantages: Float64Array, returns: Float64Array, indices: Int32Array): Batch {
  const size = indices.length;
  const d = r.observationSize;
  const batch: Batch = {
    size,
    observations: new Float32Array(size * d),
    actions: new Int32Array(size),
    oldLogProbs: new Float32Array(size),
    advantages: new Float32Array(size),
    returns: new Float32Array(size),
  };
  let mean = 0;
  indices.forEach((t) => (mean += advantages[t] as number));
  mean /= size;
  let variance = 0;
  indices.forEach((t) => (variance += ((advantages[t] as number) - mean) ** 2));
  const std = Math.sqrt(variance / size) + 1e-8;
  indices.forEach((t, k) => {
    batch.observations.set(r.observations.subarray(t * d, (t + 1) * d), k * d);
    batch.actions[k] = r.actions[t] as number;
    batch.oldLogProbs[k] = r.logProbs[t] as number;
    batch.advantages[k] = ((advantages[t] as number) - mean) / std;
    batch.returns[k] = returns[t] as number;
  });
  return batch;
}

// ---- evaluation ----

/** Runs the greedy policy of `model` (and the flat policy) over every episode of a split; null when the split has none. */
export function evaluateModel(dataset: RlDataset, model: PpoModel, split: Split): PpoEvaluation | null {
  if (!dataset.episodes.some((e) => e.split === split && e.times.length >= 2)) return null;
  const env = new TradingEnv(dataset, split);
  const forward = new JsForward(model);
  const probabilities = new Float64Array(ACTIONS);
  const greedy = (obs: Float32Array): number => mostLikelyAction(forward.probabilities(obs, probabilities));
  const trained = runEpisodes(env, greedy);
  const flat = runEpisodes(env, () => 1);
  const n = env.episodes.length;
  return {
    split,
    episodes: n,
    steps: trained.steps,
    meanReward: trained.totalReward / n,
    flatMeanReward: flat.totalReward / n,
    positionShares: { short: trained.actions[0] / trained.steps, flat: trained.actions[1] / trained.steps, long: trained.actions[2] / trained.steps },
    meanTradesPerEpisode: trained.trades / n,
  };
}

interface EpisodesRun {
  totalReward: number;
  steps: number;
  actions: [number, number, number];
  trades: number;
}

/** Plays every episode of the env with `choose`; totals rewards, actions and position changes. */
export function runEpisodes(env: TradingEnv, choose: (observation: Float32Array) => number): EpisodesRun {
  const out: EpisodesRun = { totalReward: 0, steps: 0, actions: [0, 0, 0], trades: 0 };
  for (const episode of env.episodes) {
    let observation = env.reset(episode);
    for (;;) {
      const before = env.position;
      const action = choose(observation);
      const result = env.step(action);
      out.actions[action as 0 | 1 | 2] += 1;
      out.steps += 1;
      out.totalReward += result.reward;
      if (action - 1 !== before) out.trades += 1;
      if (result.done) {
        if (action !== 1) out.trades += 1;
        break;
      }
      observation = result.observation;
    }
  }
  return out;
}
