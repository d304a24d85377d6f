import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { TasaError } from '../../src/errors.ts';
import { ACTIONS, JsForward, encodeInput, initialModel, type DenseLayer, type PpoModel } from '../../src/research/ppo/actor-critic.ts';
import { PpoPolicy, deserializeModel, loadPpoPolicy, serializeModel } from '../../src/research/ppo/ppo-policy.ts';
import { batchForward, ppoGradients, type Batch } from '../../src/research/ppo/ppo-update.ts';
import { RolloutForward } from '../../src/research/ppo/rollout-forward.ts';
import { computeGae, evaluateModel, resolvePpoConfig, runEpisodes, trainPpo, type PpoConfig, type PpoTrainingResult } from '../../src/research/ppo/ppo-trainer.ts';
import { SeededRandom } from '../../src/domain/random.ts';
import { initTfBackend } from '../../src/research/ppo/tf-backend.ts';
import { TradingEnv } from '../../src/research/ppo/trading-env.ts';
import { observationAt } from '../../src/research/rl-dataset.ts';
import type { Episode, IndicatorRow, Observation, Position, RlDataset } from '../../src/research/types.ts';
import { syntheticRlDataset } from '../support/synthetic-rl-dataset.ts';

const isCode = (code: TasaError['code']) => (err: unknown) => err instanceof TasaError && err.code === code;

/** A small run that learns the synthetic signal (a few seconds): one seed, scored on validation at its last iteration. */
const QUICK: Partial<PpoConfig> = { steps: 2048, rolloutLength: 256, epochs: 4, minibatchSize: 64, learningRate: 3e-3, seed: 5, seeds: 1, evalEvery: 8 };
/** Smaller still, for the reproducibility checks. */
const TINY: Partial<PpoConfig> = { steps: 512, rolloutLength: 256, epochs: 2, minibatchSize: 64, seed: 9, seeds: 1 };

function allWeights(model: PpoModel): number[] {
  return [...model.actor, ...model.critic].flatMap((l) => [...l.weights, ...l.bias]);
}

/** One 4-bar train episode with known prices (each open gaps away from the previous close), window 2, one feature. */
function handmadeDataset(): RlDataset {
  const base = syntheticRlDataset({ sessions: 4, barsPerSession: 4, features: 1, window: 2 });
  const episode: Episode = {
    ...(base.episodes[0] as Episode),
    features: Float32Array.from([0.5, -1, 2, 3]),
    opens: Float64Array.from([100, 101, 99, 102]),
    closes: Float64Array.from([100, 100, 98, 103]),
  };
  return { ...base, costs: { spreadBps: 2, feeBps: 0.5 }, episodes: [episode, ...base.episodes.slice(1)] };
}

describe('trading environment', () => {
  it('earns the log change of equity: fills at the next open with costs, marks at the close, closes at the last close', () => {
    const env = new TradingEnv(handmadeDataset());
    const first = env.reset(0);
    assert.deepEqual([...first], [0, 0.5, 0, 1, 0], 'window zero-padded before the start, then flat one-hot');
    const c = 2.5e-4;
    const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-15, `${what}: ${actual} vs ${expected}`);
    // Long at bar 0's close: buys at open 101 with 1 - c of the unit equity, marked at close 100.
    const s1 = env.step(2);
    near(s1.reward, Math.log(((1 - c) * 100) / 101), 'entry at the next open, cost, mark at its close');
    assert.deepEqual([...s1.observation], [0.5, -1, 0, 0, 1], 'the next window and the long position');
    near(env.step(2).reward, Math.log(98 / 100), 'held long');
    // Long -> short at open 102: two legs on the equity there; the short is then covered at the last close, 103, paying one more leg.
    const atReversal = ((1 - c) * 102) / 101;
    const shortMarked = atReversal * (1 - 2 * c) * (2 - 103 / 102);
    const last = env.step(0);
    assert.equal(last.done, true);
    near(last.reward, Math.log((shortMarked * (1 - c)) / (((1 - c) * 98) / 101)), 'reversal at the next open, then flat at the session close');
    assert.equal(env.position, 0);
    assert.throws(() => env.step(1), isCode('bad_argument'), 'no step after the end');
  });

  it('refuses bad actions and a split without episodes', () => {
    const env = new TradingEnv(handmadeDataset());
    env.reset(0);
    assert.throws(() => env.step(3), isCode('bad_argument'));
    assert.throws(() => env.step(0.5), isCode('bad_argument'));
    const noValidation = { ...handmadeDataset(), episodes: handmadeDataset().episodes.filter((e) => e.split === 'train') };
    assert.throws(() => new TradingEnv(noValidation, 'validation'), isCode('bad_input'));
    assert.equal(evaluateModel(noValidation, initialModel({ featureNames: ['signal'], window: 2 }, [4], new SeededRandom(1)), 'validation'), null);
  });
});

describe('PPO pieces', () => {
  it('seeded random: same seed and stream, same draws; categorical never draws a zero probability', () => {
    const draws = (seed: number, stream: number) => {
      const rng = new SeededRandom(seed, stream);
      return Array.from({ length: 5 }, () => rng.nextUint32());
    };
    assert.deepEqual(draws(1, 2), draws(1, 2));
    assert.notDeepEqual(draws(1, 2), draws(1, 3));
    assert.notDeepEqual(draws(1, 2), draws(2, 2));
    const rng = new SeededRandom(5);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[rng.categorical([0.2, 0.8, 0])]! += 1;
    assert.equal(counts[2], 0);
    assert.ok(counts[0]! > 450 && counts[0]! < 750, `short drawn ${counts[0]} times of 3000 at p = 0.2`);
    assert.throws(() => rng.categorical([0, 0, 0]), isCode('bad_argument'));
  });

  it('GAE: discounted TD errors, cut at episode ends, bootstrapped at the rollout end', () => {
    const { advantages, returns } = computeGae([1, 2, 3], [0.5, 1, 1.5], [0, 1, 0], 2, 0.9, 0.5);
    const d2 = 3 + 0.9 * 2 - 1.5;
    const d1 = 2 - 1; // episode ends after step 1: no bootstrap from step 2
    const d0 = 1 + 0.9 * 1 - 0.5;
    const expected = [d0 + 0.45 * d1, d1, d2];
    advantages.forEach((a, i) => assert.ok(Math.abs(a - (expected[i] as number)) < 1e-12, `advantage ${i}`));
    assert.deepEqual([...returns].map((r) => r.toFixed(10)), expected.map((a, i) => (a + [0.5, 1, 1.5][i]!).toFixed(10)));
  });

  it('config: defaults resolve; a bad value is a bad_argument naming it', () => {
    assert.equal(resolvePpoConfig().clip, 0.2);
    assert.throws(() => resolvePpoConfig({ clip: 0 }), (err: unknown) => isCode('bad_argument')(err) && (err as TasaError).input === 'clip');
    assert.throws(() => resolvePpoConfig({ minibatchSize: 1.5 }), isCode('bad_argument'));
    assert.throws(() => resolvePpoConfig({ gamma: 1.5 }), isCode('bad_argument'));
  });

  it('the pure-JS forward pass matches tfjs', async () => {
    await initTfBackend();
    const spec = { featureNames: ['a', 'b', 'c'], window: 4 };
    const model = initialModel(spec, [16, 8], new SeededRandom(3));
    // Larger output weights than the 0.01 initial gain, so the probabilities are far from uniform.
    model.actor.at(-1)!.weights.forEach((w, i, a) => (a[i] = w * 300));
    const rng = new SeededRandom(4);
    const batch = Array.from({ length: 8 }, (_, k) => encodeInput(Float32Array.from({ length: 12 }, () => rng.normal()), ((k % 3) - 1) as Position));
    const [tfProbs, tfValues] = tf.tidy(() => {
      const { logits, values } = batchForward(model, tf.tensor2d(batch.map((x) => [...x])));
      return [tf.softmax(logits).arraySync(), values.squeeze([1]).arraySync() as number[]];
    });
    const js = new JsForward(model);
    batch.forEach((x, k) => {
      const p = js.probabilities(x);
      p.forEach((pi, a) => assert.ok(Math.abs(pi - tfProbs[k]![a]!) < 1e-5, `probability ${k}/${a}: ${pi} vs ${tfProbs[k]![a]}`));
      assert.ok(Math.abs(js.value(x) - tfValues[k]!) < 1e-4);
    });
    assert.ok(tfProbs.some((p) => Math.max(...p) > 0.6), 'the check is made on non-uniform probabilities');
  });

  it('the rollout forward pass (features batched per episode) matches the pure-JS one, position by position', async () => {
    await initTfBackend();
    const dataset = syntheticRlDataset({ sessions: 6, barsPerSession: 9, features: 3, window: 4 });
    const model = initialModel({ featureNames: dataset.featureNames, window: dataset.window }, [16, 8], new SeededRandom(3));
    model.actor.at(-1)!.weights.forEach((w, i, a) => (a[i] = w * 300));
    const rollout = new RolloutForward(model, dataset);
    const js = new JsForward(model);
    const env = new TradingEnv(dataset);
    const rng = new SeededRandom(8);
    const got = new Float64Array(3);
    let checked = 0;
    for (const episode of [0, 1, 0, 2]) {
      let observation = env.reset(episode);
      for (let done = false; !done; ) {
        const value = rollout.evaluate(env, got);
        const expected = js.probabilities(observation);
        got.forEach((p, a) => assert.ok(Math.abs(p - expected[a]!) < 1e-5, `probability ${a}: ${p} vs ${expected[a]}`));
        assert.ok(Math.abs(value - js.value(observation)) < 1e-5);
        checked += 1;
        ({ observation, done } = env.step(rng.int(3)));
      }
    }
    assert.equal(checked, 4 * 8);
  });

  it('the hand-written PPO gradients match tfjs autodiff of the same loss', async () => {
    await initTfBackend();
    const cfg = { clip: 0.2, entropyCoef: 0.05, valueCoef: 0.5, maxGradNorm: 0.5 };
    const model = initialModel({ featureNames: ['a', 'b'], window: 3 }, [8, 6], new SeededRandom(6));
    model.actor.at(-1)!.weights.forEach((w, i, a) => (a[i] = w * 100)); // ratios far from 1: some clipped, some not
    const batch = randomBatch(model, 32, new SeededRandom(7));
    const { head, actor, critic } = ppoGradients(model, batch, cfg);
    const expected = autodiffGradients(model, batch, cfg);
    assert.ok(head.stats[4]! > 0.1 && head.stats[4]! < 0.9, `clip fraction ${head.stats[4]}: both branches are exercised`);
    head.stats.forEach((x, i) => assert.ok(Math.abs(x - expected.stats[i]!) < 1e-4 * (1 + Math.abs(x)), `stat ${i}: ${x} vs ${expected.stats[i]}`));
    const flat = (layers: DenseLayer[]) => layers.flatMap((l) => [...l.weights, ...l.bias]);
    const got = [...flat(actor), ...flat(critic)];
    assert.equal(got.length, expected.grads.length);
    const scale = Math.max(...expected.grads.map(Math.abs));
    got.forEach((g, i) => assert.ok(Math.abs(g - expected.grads[i]!) < 1e-4 * scale, `gradient ${i}: ${g} vs ${expected.grads[i]}`));
  });
});

describe('PPO training on a synthetic signal', () => {
  const dataset = syntheticRlDataset({ sessions: 30 });
  let result: PpoTrainingResult;
  let tensorsBefore: number;

  before(async () => {
    await initTfBackend();
    tensorsBefore = tf.memory().numTensors;
    result = await trainPpo(dataset, QUICK);
  });

  it('learns to follow the signal: beats flat and random on the validation split', () => {
    const validation = result.validation;
    assert.ok(validation);
    const env = new TradingEnv(dataset, 'validation');
    const rng = new SeededRandom(77);
    const random = runEpisodes(env, () => rng.int(3)).totalReward / env.episodes.length;
    const oracle = runEpisodes(env, (obs) => ((obs[obs.length - 3 - 2] as number) > 0 ? 2 : 0)).totalReward / env.episodes.length;
    assert.equal(validation.flatMeanReward, 0);
    assert.ok(validation.meanReward > random + 0.5 * (oracle - random), `trained ${validation.meanReward} vs random ${random}, oracle ${oracle}`);
    assert.ok(validation.meanReward > 0.5 * oracle);
    assert.ok(Math.abs(validation.positionShares.short + validation.positionShares.flat + validation.positionShares.long - 1) < 1e-12);
  });

  it('records one curve point per iteration and leaks no tensor', () => {
    assert.equal(result.curve.length, 8);
    assert.deepEqual(result.curve.map((p) => p.steps), [256, 512, 768, 1024, 1280, 1536, 1792, 2048]);
    for (const p of result.curve) {
      for (const key of ['policyLoss', 'valueLoss', 'entropy', 'approxKl', 'clipFraction', 'stepsPerSecond'] as const) assert.ok(Number.isFinite(p[key]), `${key} at ${p.iteration}`);
      assert.equal(p.updates, 4 * 4);
    }
    const first = result.curve[0]!;
    const last = result.curve.at(-1)!;
    assert.ok(last.entropy < first.entropy, 'the policy grows more certain');
    assert.ok((last.meanEpisodeReward ?? -Infinity) > (first.meanEpisodeReward ?? Infinity), 'rollouts earn more');
    assert.doesNotThrow(() => JSON.stringify(result.curve));
    assert.equal(tf.memory().numTensors, tensorsBefore);
  });

  it('decisions: probabilities sum to 1 and the position is the most likely one', () => {
    const policy = new PpoPolicy('ppo-test', result.model);
    for (const episode of dataset.episodes.filter((e) => e.split === 'validation')) {
      for (let i = 0; i < episode.times.length; i++) {
        const decision = policy.decide(observation(dataset, episode, i, 0));
        const sum = decision.probabilities.reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-9);
        assert.equal(decision.probabilities[decision.position + 1], Math.max(...decision.probabilities));
      }
    }
  });

  it('serialization round trip: identical bytes, weights and decisions; bad bytes are refused', () => {
    const bytes = serializeModel(result.model, result.metadata);
    const loaded = loadPpoPolicy('ppo-test', bytes);
    assert.deepEqual(allWeights(loaded.model), allWeights(result.model));
    assert.deepEqual(loaded.metadata['normalization'], dataset.normalization);
    assert.deepEqual(Buffer.from(loaded.serialize()), Buffer.from(bytes));
    const original = new PpoPolicy('ppo-test', result.model);
    const sampled = [new PpoPolicy('s', result.model, { sample: new SeededRandom(1) }), loadPpoPolicy('s', bytes, { sample: new SeededRandom(1) })];
    for (const episode of dataset.episodes) {
      for (let i = 0; i < episode.times.length; i += 3) {
        for (const position of [-1, 0, 1] as const) {
          const obs = observation(dataset, episode, i, position);
          assert.deepEqual(loaded.decide(obs), original.decide(obs));
          assert.deepEqual(sampled[0]!.decide(obs), sampled[1]!.decide(obs));
        }
      }
    }
    assert.throws(() => deserializeModel(new Uint8Array([1, 2, 3])), isCode('bad_input'));
    assert.throws(() => deserializeModel(bytes.subarray(0, bytes.length - 4)), isCode('bad_input'));
    const header = Buffer.from('{"version":1,"activation":"tanh"}');
    const noShapes = Buffer.concat([Buffer.from('TPPO'), Buffer.from([header.length, 0, 0, 0]), header]);
    assert.throws(() => deserializeModel(noShapes), isCode('bad_input'));
  });

  it('a decision refuses features of the wrong size or missing values', () => {
    const policy = new PpoPolicy('ppo-test', result.model);
    const episode = dataset.episodes[0]!;
    const obs = observation(dataset, episode, 3, 0);
    assert.throws(() => policy.decide({ ...obs, features: obs.features.subarray(1) }), isCode('bad_argument'));
    const withNaN = Float32Array.from(obs.features);
    withNaN[0] = Number.NaN;
    assert.throws(() => policy.decide({ ...obs, features: withNaN }), isCode('bad_input'));
  });
});

describe('PPO reproducibility', () => {
  it('the same seed gives identical weights and curve; another seed does not', async () => {
    const dataset = syntheticRlDataset({ sessions: 12 });
    const a = await trainPpo(dataset, TINY);
    const b = await trainPpo(dataset, TINY);
    const c = await trainPpo(dataset, { ...TINY, seed: 10 });
    assert.deepEqual(allWeights(a.model), allWeights(b.model));
    assert.deepEqual(
      a.curve.map(({ stepsPerSecond: _, ...rest }) => rest),
      b.curve.map(({ stepsPerSecond: _, ...rest }) => rest),
    );
    assert.notDeepEqual(allWeights(a.model), allWeights(c.model));
  });

  it('an aborted run stops between iterations', async () => {
    const controller = new AbortController();
    const result = await trainPpo(syntheticRlDataset({ sessions: 12 }), { ...TINY, steps: 2048 }, { signal: controller.signal, onProgress: (p) => p.iteration === 2 && controller.abort() });
    assert.deepEqual([result.stoppedEarly, result.iterations, result.steps], [true, 2, 512]);
  });
});

const NO_INDICATORS: IndicatorRow = {
  time: 0,
  ema20: NaN, ema50: NaN, sma10: NaN, sma20: NaN, rsi14: NaN, macd: NaN, macdSignal: NaN,
  macdHistogram: NaN, bbUpper: NaN, bbMiddle: NaN, bbLower: NaN, atr14: NaN,
};

function observation(dataset: RlDataset, episode: Episode, index: number, position: Position): Observation {
  const close = episode.closes[index]!;
  const time = episode.times[index]!;
  return {
    bar: { time, session: episode.session, barOfSession: index + 1, open: close, high: close, low: close, close },
    indicators: { ...NO_INDICATORS, time },
    features: observationAt(dataset, episode, index, position),
    position,
  };
}

/** A minibatch of random inputs, actions and targets, with old log-probabilities near the model's own. */
function randomBatch(model: PpoModel, size: number, rng: SeededRandom): Batch {
  const features = model.observation.window * model.observation.featureNames.length;
  const inputs = Array.from({ length: size }, (_, k) => encodeInput(Float32Array.from({ length: features }, () => rng.normal()), ((k % 3) - 1) as Position));
  const forward = new JsForward(model);
  const actions = Int32Array.from({ length: size }, () => rng.int(ACTIONS));
  return {
    size,
    observations: Float32Array.from(inputs.flatMap((x) => [...x])),
    actions,
    oldLogProbs: Float32Array.from(inputs, (x, k) => Math.log(forward.probabilities(x)[actions[k]!]!) + 0.3 * rng.normal()),
    advantages: Float32Array.from({ length: size }, () => rng.normal()),
    returns: Float32Array.from({ length: size }, () => rng.normal()),
  };
}

/** The PPO loss written with tfjs ops, differentiated by tfjs: the reference for the hand-written gradients. */
function autodiffGradients(model: PpoModel, batch: Batch, cfg: { clip: number; entropyCoef: number; valueCoef: number }): { stats: number[]; grads: number[] } {
  return tf.tidy(() => {
    const layers = [...model.actor, ...model.critic];
    const params = layers.flatMap((l) => [tf.tensor2d(l.weights, [l.inputs, l.outputs]), tf.tensor1d(l.bias)]);
    const x = tf.tensor2d(batch.observations, [batch.size, batch.observations.length / batch.size]);
    const tower = (ps: tf.Tensor[]) => {
      let h: tf.Tensor = x;
      for (let i = 0; i < ps.length; i += 2) {
        const z = tf.add(tf.matMul(h as tf.Tensor2D, ps[i] as tf.Tensor2D), ps[i + 1]!);
        h = i + 2 < ps.length ? tf.tanh(z) : z;
      }
      return h;
    };
    let stats: tf.Tensor | undefined;
    const loss = (...ps: tf.Tensor[]) => {
      const logits = tower(ps.slice(0, model.actor.length * 2));
      const values = tf.squeeze(tower(ps.slice(model.actor.length * 2)), [1]);
      const logProbsAll = tf.sub(logits, tf.logSumExp(logits, 1, true));
      const logProbs = tf.sum(tf.mul(logProbsAll, tf.oneHot(tf.tensor1d(batch.actions, 'int32'), ACTIONS)), 1);
      const logRatio = tf.sub(logProbs, tf.tensor1d(batch.oldLogProbs));
      const ratio = tf.exp(logRatio);
      const advantages = tf.tensor1d(batch.advantages);
      const clipped = tf.clipByValue(ratio, 1 - cfg.clip, 1 + cfg.clip);
      const policyLoss = tf.neg(tf.mean(tf.minimum(tf.mul(ratio, advantages), tf.mul(clipped, advantages))));
      const valueLoss = tf.mean(tf.squaredDifference(values, tf.tensor1d(batch.returns)));
      const entropy = tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(logProbsAll), logProbsAll), 1)));
      const approxKl = tf.mean(tf.sub(tf.sub(ratio, 1), logRatio));
      const clipFraction = tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), cfg.clip), 'float32'));
      stats = tf.keep(tf.stack([policyLoss, valueLoss, entropy, approxKl, clipFraction]));
      return tf.sub<tf.Scalar>(tf.add(policyLoss, tf.mul(valueLoss, cfg.valueCoef)), tf.mul(entropy, cfg.entropyCoef));
    };
    const grads = tf.grads(loss)(params);
    return { stats: [...stats!.dataSync()], grads: grads.flatMap((g) => [...g.dataSync()]) };
  });
}
