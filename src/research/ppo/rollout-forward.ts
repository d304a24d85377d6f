/**
 * The policy's forward pass during rollout collection, batched per episode. An observation is the
 * feature window of a bar followed by the position held, and only the position depends on the
 * actions taken: so the features' share of each tower's first layer (most of the network's
 * arithmetic: 480 of 483 inputs) is computed for every bar of an episode in one tfjs (WASM)
 * product when the episode starts, and each step adds the position's row and the bias, then runs
 * the small remaining layers in JS (JsForward). Same network, same outputs up to float rounding.
 */
import * as tf from '@tensorflow/tfjs';
import type { Episode, RlDataset } from '../types.ts';
import { observationAt } from '../rl-dataset.ts';
import { JsForward, type DenseLayer, type PpoModel } from './actor-critic.ts';
import type { TradingEnv } from './trading-env.ts';

export class RolloutForward {
  private readonly js: JsForward;
  private readonly featureCount: number;
  /** Both first layers' feature rows side by side: featureCount x (actor units + critic units). */
  private readonly featureWeights: Float32Array;
  private readonly actorFirst: DenseLayer;
  private readonly criticFirst: DenseLayer;
  private readonly actorZ: Float64Array;
  private readonly criticZ: Float64Array;
  private episode: Episode | undefined;
  /** Per bar of `episode`: the features' share of the first layers, bars x (actor units + critic units). */
  private featureShare: Float32Array = new Float32Array(0);

  constructor(
    model: PpoModel,
    private readonly dataset: RlDataset,
  ) {
    this.js = new JsForward(model);
    this.actorFirst = model.actor[0] as DenseLayer;
    this.criticFirst = model.critic[0] as DenseLayer;
    this.featureCount = dataset.window * dataset.featureNames.length;
    this.featureWeights = sideBySide(this.actorFirst, this.criticFirst, this.featureCount);
    this.actorZ = new Float64Array(this.actorFirst.outputs);
    this.criticZ = new Float64Array(this.criticFirst.outputs);
  }

  /** The action probabilities (into `out`) and the value of the environment's current observation. */
  evaluate(env: TradingEnv, out: Float64Array): number {
    const episode = env.currentEpisode;
    if (episode === undefined) throw new Error('RolloutForward.evaluate needs a running episode');
    if (episode !== this.episode) this.prepare(episode);
    const positionRow = this.featureCount + env.position + 1;
    const units = this.actorZ.length + this.criticZ.length;
    const shareOffset = env.index * units;
    firstLayerZ(this.actorFirst, this.featureShare, shareOffset, positionRow, this.actorZ);
    firstLayerZ(this.criticFirst, this.featureShare, shareOffset + this.actorZ.length, positionRow, this.criticZ);
    return this.js.fromFirstLayer(this.actorZ, this.criticZ, out);
  }

  private prepare(episode: Episode): void {
    const bars = episode.times.length;
    const windows = new Float32Array(bars * this.featureCount);
    for (let i = 0; i < bars; i++) windows.set(observationAt(this.dataset, episode, i, 0), i * this.featureCount);
    const units = this.actorZ.length + this.criticZ.length;
    const tensors = [tf.tensor2d(windows, [bars, this.featureCount]), tf.tensor2d(this.featureWeights, [this.featureCount, units])] as const;
    const product = tf.matMul(...tensors);
    // Not tf.tidy: it would walk the returned array element by element looking for tensors.
    this.featureShare = product.dataSync() as Float32Array;
    tf.dispose([...tensors, product]);
    this.episode = episode;
  }
}

/** The first `rows` rows of two layers' weights, concatenated row by row. */
function sideBySide(a: DenseLayer, b: DenseLayer, rows: number): Float32Array {
  const width = a.outputs + b.outputs;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    out.set(a.weights.subarray(r * a.outputs, (r + 1) * a.outputs), r * width);
    out.set(b.weights.subarray(r * b.outputs, (r + 1) * b.outputs), r * width + a.outputs);
  }
  return out;
}

/** z = the features' share + the position's weight row + the bias. */
function firstLayerZ(layer: DenseLayer, share: Float32Array, shareOffset: number, positionRow: number, z: Float64Array): void {
  const rowOffset = positionRow * layer.outputs;
  for (let j = 0; j < layer.outputs; j++) z[j] = (share[shareOffset + j] as number) + (layer.weights[rowOffset + j] as number) + (layer.bias[j] as number);
}
