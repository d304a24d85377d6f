/**
 * PPO's gradient step, written out by hand for speed (issue 13): the clipped surrogate, value and
 * entropy losses and their gradients with respect to the logits and values are plain JS on a
 * minibatch's few hundred rows; tfjs (WASM) runs what is heavy, the towers' batched forward pass
 * and the matrix products of their backward pass; gradient clipping and Adam are plain JS over
 * the model's Float32Arrays, which stay the one copy of the weights.
 *
 * Why not autodiff and tf.train.adam: a step cost about 400 small kernels (tape bookkeeping,
 * Adam's dozen ops per variable), each paying tfjs's dispatch overhead, and autodiff of a matMul
 * asks for transposed products (xᵀ·dz, dz·Wᵀ), which the WASM backend runs through a plain loop
 * about ten times slower than its XNNPACK path. Here every product is untransposed (transposes
 * are explicit, of the smaller operand, or done in JS) and a step is about sixty kernels. The
 * mathematics is tfjs's (same loss, same gradient conventions at the clip edges, same Adam); only
 * the rounding differs (JS does the small parts in float64).
 */
import * as tf from '@tensorflow/tfjs';
import { ACTIONS, type DenseLayer, type PpoModel } from './actor-critic.ts';

/** A minibatch of transitions, ready for one gradient step. */
export interface Batch {
  size: number;
  /** size x inputSize, row-major. */
  observations: Float32Array;
  actions: Int32Array;
  oldLogProbs: Float32Array;
  /** Normalized within the minibatch. */
  advantages: Float32Array;
  returns: Float32Array;
}

export interface PpoLossConfig {
  clip: number;
  entropyCoef: number;
  valueCoef: number;
  maxGradNorm: number;
}

export const STAT_NAMES = ['policyLoss', 'valueLoss', 'entropy', 'approxKl', 'clipFraction'] as const;

/** The loss's statistics, and its gradient with respect to the logits [size x 3] and values [size]. */
export interface LossHead {
  stats: number[];
  dLogits: Float32Array;
  dValues: Float32Array;
}

/**
 * loss = -mean(min(r·A, clip(r, 1 ± ε)·A)) + valueCoef·mean((v - R)²) - entropyCoef·mean(H), with
 * r = exp(log π(a) - old log π(a)). Gradient conventions follow tfjs's kernels: min passes the
 * gradient to its first argument on ties, clip passes it inside [1 - ε, 1 + ε] inclusive.
 */
export function lossHead(logits: ArrayLike<number>, values: ArrayLike<number>, batch: Batch, cfg: PpoLossConfig): LossHead {
  const n = batch.size;
  const dLogits = new Float32Array(n * ACTIONS);
  const dValues = new Float32Array(n);
  const sums = new Float64Array(STAT_NAMES.length);
  const logP = new Float64Array(ACTIONS);
  for (let i = 0; i < n; i++) {
    logSoftmax(logits, i * ACTIONS, logP);
    let entropy = 0;
    for (let j = 0; j < ACTIONS; j++) entropy -= Math.exp(logP[j] as number) * (logP[j] as number);
    const action = batch.actions[i] as number;
    const advantage = batch.advantages[i] as number;
    const logRatio = (logP[action] as number) - (batch.oldLogProbs[i] as number);
    const ratio = Math.exp(logRatio);
    const unclipped = ratio * advantage;
    const clipped = Math.min(Math.max(ratio, 1 - cfg.clip), 1 + cfg.clip) * advantage;
    const valueError = (values[i] as number) - (batch.returns[i] as number);
    sums[0] = (sums[0] as number) - Math.min(unclipped, clipped);
    sums[1] = (sums[1] as number) + valueError * valueError;
    sums[2] = (sums[2] as number) + entropy;
    sums[3] = (sums[3] as number) + (ratio - 1 - logRatio); // Schulman's low-variance KL(old || new)
    sums[4] = (sums[4] as number) + (Math.abs(ratio - 1) > cfg.clip ? 1 : 0);
    // d loss / d log π(a): only the unclipped term carries a gradient (the clipped one is flat where it is chosen).
    const dLogProb = unclipped <= clipped ? (-advantage * ratio) / n : 0;
    for (let j = 0; j < ACTIONS; j++) {
      const p = Math.exp(logP[j] as number);
      const dPolicy = dLogProb * ((j === action ? 1 : 0) - p);
      const dEntropy = (cfg.entropyCoef / n) * p * ((logP[j] as number) + entropy);
      dLogits[i * ACTIONS + j] = dPolicy + dEntropy;
    }
    dValues[i] = (2 * cfg.valueCoef * valueError) / n;
  }
  return { stats: Array.from(sums, (s) => s / n), dLogits, dValues };
}

function logSoftmax(logits: ArrayLike<number>, offset: number, out: Float64Array): void {
  let max = -Infinity;
  for (let j = 0; j < ACTIONS; j++) max = Math.max(max, logits[offset + j] as number);
  let sum = 0;
  for (let j = 0; j < ACTIONS; j++) sum += Math.exp((logits[offset + j] as number) - max);
  const logSum = max + Math.log(sum);
  for (let j = 0; j < ACTIONS; j++) out[j] = (logits[offset + j] as number) - logSum;
}

// ---- the towers in tfjs ----

/** One tower's batched forward pass, keeping what its backward pass needs. */
interface TowerPass {
  /** The input of each layer (the batch, then each hidden layer's tanh output). */
  inputs: tf.Tensor2D[];
  output: tf.Tensor2D;
}

function towerForward(layers: readonly DenseLayer[], x: tf.Tensor2D): TowerPass {
  const inputs: tf.Tensor2D[] = [];
  let h = x;
  layers.forEach((layer, l) => {
    inputs.push(h);
    // matMul then add: the WASM backend's fused matMul-with-bias is the slower of the two.
    const z = tf.add<tf.Tensor2D>(tf.matMul(h, tf.tensor2d(layer.weights, [layer.inputs, layer.outputs])), tf.tensor1d(layer.bias));
    h = l < layers.length - 1 ? tanh(z) : z;
  });
  return { inputs, output: h };
}

/** tanh(z) = 2·sigmoid(2z) - 1: the WASM backend's sigmoid is vectorized, its tanh about five times slower. */
function tanh(z: tf.Tensor2D): tf.Tensor2D {
  return tf.sub(tf.mul(tf.sigmoid(tf.mul(z, 2)), 2), 1);
}

/**
 * Weight and bias gradients of each layer of a tower, given d loss / d output [rows x outputs].
 * The small matrices (dz, W) are transposed in JS so that every product is untransposed.
 */
function towerBackward(layers: readonly DenseLayer[], pass: TowerPass, dOutput: Float32Array): DenseLayer[] {
  const grads: DenseLayer[] = [];
  const rows = dOutput.length / (layers.at(-1)?.outputs ?? 1);
  let dz = dOutput;
  for (let l = layers.length - 1; l >= 0; l--) {
    const { inputs, outputs, weights } = layers[l] as DenseLayer;
    const input = pass.inputs[l] as tf.Tensor2D;
    const dWeightsT = tf.matMul(tf.tensor2d(transpose(dz, rows, outputs), [outputs, rows]), input).dataSync() as Float32Array;
    grads[l] = { inputs, outputs, weights: transpose(dWeightsT, outputs, inputs), bias: columnSums(dz, rows, outputs) };
    if (l > 0) {
      const dh = tf.matMul(tf.tensor2d(dz, [rows, outputs]), tf.tensor2d(transpose(weights, inputs, outputs), [outputs, inputs])).dataSync() as Float32Array;
      const h = input.dataSync() as Float32Array;
      for (let i = 0; i < dh.length; i++) dh[i] = (dh[i] as number) * (1 - (h[i] as number) ** 2); // tanh' = 1 - tanh²
      dz = dh;
    }
  }
  return grads;
}

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c] as number;
  return out;
}

function columnSums(m: Float32Array, rows: number, cols: number): Float32Array {
  const sums = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) sums[c] = (sums[c] as number) + (m[r * cols + c] as number);
  return Float32Array.from(sums);
}

/** The network's batched forward pass in tfjs: logits [n, 3] and values [n, 1]. */
export function batchForward(model: PpoModel, inputs: tf.Tensor2D): { logits: tf.Tensor2D; values: tf.Tensor2D } {
  return { logits: batchLogits(model, inputs), values: towerForward(model.critic, inputs).output };
}

/** The actor alone: logits [n, 3]. */
export function batchLogits(model: PpoModel, inputs: tf.Tensor2D): tf.Tensor2D {
  return towerForward(model.actor, inputs).output;
}

// ---- the learner ----

/** The loss head on a minibatch and each tower's weight and bias gradients; every tensor is released before it returns. */
export function ppoGradients(model: PpoModel, batch: Batch, cfg: PpoLossConfig): { head: LossHead; actor: DenseLayer[]; critic: DenseLayer[] } {
  tf.engine().startScope();
  try {
    const x = tf.tensor2d(batch.observations, [batch.size, batch.observations.length / batch.size]);
    const actorPass = towerForward(model.actor, x);
    const criticPass = towerForward(model.critic, x);
    const head = lossHead(actorPass.output.dataSync(), criticPass.output.dataSync(), batch, cfg);
    return { head, actor: towerBackward(model.actor, actorPass, head.dLogits), critic: towerBackward(model.critic, criticPass, head.dValues) };
  } finally {
    tf.engine().endScope();
  }
}

/** Adam as tf.train.adam computes it, over plain arrays (moments in float64). */
class Adam {
  private readonly first: Float64Array[];
  private readonly second: Float64Array[];
  private beta1Power: number;
  private beta2Power: number;

  constructor(
    parameters: readonly Float32Array[],
    private readonly learningRate: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = 1e-5,
  ) {
    this.first = parameters.map((p) => new Float64Array(p.length));
    this.second = parameters.map((p) => new Float64Array(p.length));
    this.beta1Power = beta1;
    this.beta2Power = beta2;
  }

  apply(parameters: readonly Float32Array[], grads: readonly Float32Array[]): void {
    // tfjs's p -= lr · (m / (1 - β1ᵗ)) / (√(v / (1 - β2ᵗ)) + ε), with the per-step constants hoisted.
    const stepSize = this.learningRate / (1 - this.beta1Power);
    const secondScale = 1 / (1 - this.beta2Power);
    for (let k = 0; k < parameters.length; k++) {
      adamUpdate(parameters[k] as Float32Array, grads[k] as Float32Array, this.first[k] as Float64Array, this.second[k] as Float64Array, this, stepSize, secondScale);
    }
    this.beta1Power *= this.beta1;
    this.beta2Power *= this.beta2;
  }
}

function adamUpdate(p: Float32Array, g: Float32Array, m: Float64Array, v: Float64Array, rates: { beta1: number; beta2: number; epsilon: number }, stepSize: number, secondScale: number): void {
  const { beta1, beta2, epsilon } = rates;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] as number;
    const mi = beta1 * (m[i] as number) + (1 - beta1) * gi;
    const vi = beta2 * (v[i] as number) + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = (p[i] as number) - (stepSize * mi) / (Math.sqrt(vi * secondScale) + epsilon);
  }
}

/** Trains `model` in place, one minibatch at a time. */
export class PpoLearner {
  private readonly adam: Adam;

  constructor(
    readonly model: PpoModel,
    learningRate: number,
    private readonly cfg: PpoLossConfig,
  ) {
    this.adam = new Adam(parameters(model.actor).concat(parameters(model.critic)), learningRate);
  }

  /** One Adam step on the PPO loss; returns [policyLoss, valueLoss, entropy, approxKl, clipFraction]. */
  step(batch: Batch): number[] {
    const { head, actor, critic } = ppoGradients(this.model, batch, this.cfg);
    // Each tower clipped on its own: the critic's gradients (large while values are off by
    // tens of bps) would otherwise dominate a shared norm and shrink the actor's steps.
    const grads = clipByNorm(parameters(actor), this.cfg.maxGradNorm).concat(clipByNorm(parameters(critic), this.cfg.maxGradNorm));
    this.adam.apply(parameters(this.model.actor).concat(parameters(this.model.critic)), grads);
    return head.stats;
  }
}

/** Each layer's weights then bias, in order. */
function parameters(layers: readonly DenseLayer[]): Float32Array[] {
  return layers.flatMap((l) => [l.weights, l.bias]);
}

/** Scales the arrays (in place) by min(1, maxNorm / ‖g‖), ‖g‖ being their norm taken together. */
function clipByNorm(grads: Float32Array[], maxNorm: number): Float32Array[] {
  let squares = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) squares += (g[i] as number) ** 2;
  const scale = Math.min(1, maxNorm / (Math.sqrt(squares) + 1e-6));
  if (scale < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = (g[i] as number) * scale;
  return grads;
}
