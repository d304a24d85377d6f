/**
 * The actor-critic network of the PPO policy: `PpoModel`, plain Float32Arrays, and its pure-JS
 * forward pass (`JsForward`). For one observation at a time it costs about what a tfjs WASM call
 * does (whose time goes to tensor creation, kernel dispatch and read-back, not arithmetic), but it
 * needs no backend, no tensor bookkeeping and runs synchronously: serving, backtests and rollout
 * collection use it. Training's batched passes and gradients are in ppo-update.ts.
 *
 * Actor and critic are separate MLPs (tanh hidden layers): the actor ends in 3 logits (short,
 * flat, long), the critic in one value. A dense layer's weights are `inputs x outputs`, row-major.
 *
 * Network input: the observation window (window x featureCount, oldest row first) followed by
 * the current position one-hot (short, flat, long).
 */
import { TasaError } from '../../errors.ts';
import type { Position } from '../types.ts';
import type { SeededRandom } from '../../domain/random.ts';

export const ACTIONS = 3;
/** Position one-hot appended to the features. */
export const POSITION_INPUTS = 3;

export interface DenseLayer {
  inputs: number;
  outputs: number;
  /** inputs x outputs, row-major. */
  weights: Float32Array;
  bias: Float32Array;
}

/** What the network expects to see, so that serving can check it is given the right features. */
export interface ObservationSpec {
  featureNames: string[];
  window: number;
}

export interface PpoModel {
  observation: ObservationSpec;
  /** Hidden layer sizes, shared by actor and critic. */
  hidden: number[];
  /** hidden.length tanh layers, then a linear layer of 3 logits. */
  actor: DenseLayer[];
  /** hidden.length tanh layers, then a linear layer of 1 value. */
  critic: DenseLayer[];
}

export function inputSize(spec: ObservationSpec): number {
  return spec.window * spec.featureNames.length + POSITION_INPUTS;
}

/** Writes the network input for a feature window and a position into `out` (allocated when omitted). */
export function encodeInput(features: Float32Array, position: Position, out: Float32Array = new Float32Array(features.length + POSITION_INPUTS)): Float32Array {
  out.set(features, 0);
  const base = features.length;
  out[base] = position === -1 ? 1 : 0;
  out[base + 1] = position === 0 ? 1 : 0;
  out[base + 2] = position === 1 ? 1 : 0;
  return out;
}

/** Index of the largest probability; a tie goes to flat, then to the lower index. */
export function mostLikelyAction(p: ArrayLike<number>): number {
  let best = 1;
  for (let i = 0; i < ACTIONS; i++) if ((p[i] as number) > (p[best] as number)) best = i;
  return best;
}

// ---- initial weights ----

/**
 * Orthogonal initialization (the usual choice for PPO): sqrt(2) gain on hidden layers, 0.01 on the
 * actor's output (near-uniform first policy), 1 on the critic's output. Biases start at 0.
 */
export function initialModel(observation: ObservationSpec, hidden: readonly number[], rng: SeededRandom): PpoModel {
  const sizes = [inputSize(observation), ...hidden];
  const tower = (outputs: number, outputGain: number): DenseLayer[] => [
    ...hidden.map((units, i) => orthogonalLayer(sizes[i] ?? 0, units, Math.SQRT2, rng)),
    orthogonalLayer(sizes[sizes.length - 1] ?? 0, outputs, outputGain, rng),
  ];
  const actor = tower(ACTIONS, 0.01);
  const critic = tower(1, 1);
  return { observation: { featureNames: [...observation.featureNames], window: observation.window }, hidden: [...hidden], actor, critic };
}

function orthogonalLayer(inputs: number, outputs: number, gain: number, rng: SeededRandom): DenseLayer {
  return { inputs, outputs, weights: orthogonal(inputs, outputs, gain, rng), bias: new Float32Array(outputs) };
}

/**
 * A rows x cols matrix with orthonormal columns (rows >= cols) or rows (rows < cols), times
 * `gain`: Gram-Schmidt on Gaussian vectors of length max(rows, cols).
 */
function orthogonal(rows: number, cols: number, gain: number, rng: SeededRandom): Float32Array {
  const n = Math.max(rows, cols);
  const k = Math.min(rows, cols);
  const basis: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (const u of basis) subtractProjection(v, u);
    const norm = Math.hypot(...v);
    for (let i = 0; i < n; i++) v[i] = (v[i] ?? 0) / norm;
    basis.push(v);
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (rows >= cols ? (basis[c]?.[r] ?? 0) : (basis[r]?.[c] ?? 0));
  }
  return out;
}

function subtractProjection(v: Float64Array, u: Float64Array): void {
  let dot = 0;
  for (let i = 0; i < v.length; i++) dot += (v[i] ?? 0) * (u[i] ?? 0);
  for (let i = 0; i < v.length; i++) v[i] = (v[i] ?? 0) - dot * (u[i] ?? 0);
}

// ---- pure-JS forward pass ----

/** A dense layer prepared for single-row products: weights transposed to outputs x inputs, float64. */
interface JsLayer {
  inputs: number;
  outputs: number;
  transposed: Float64Array;
  bias: Float64Array;
  out: Float64Array;
}

function prepareLayer(layer: DenseLayer): JsLayer {
  const { inputs, outputs, weights } = layer;
  const transposed = new Float64Array(inputs * outputs);
  for (let i = 0; i < inputs; i++) for (let j = 0; j < outputs; j++) transposed[j * inputs + i] = weights[i * outputs + j] as number;
  return { inputs, outputs, transposed, bias: Float64Array.from(layer.bias), out: new Float64Array(outputs) };
}

/**
 * The model's forward pass for one observation at a time, with buffers prepared once so that a
 * pass allocates nothing. Every array it touches is a Float64Array (one element kind keeps V8's
 * loops monomorphic), and each output is a dot product over contiguous memory.
 */
export class JsForward {
  private readonly actor: JsLayer[];
  private readonly critic: JsLayer[];
  private readonly input: Float64Array;

  constructor(model: PpoModel) {
    this.actor = model.actor.map(prepareLayer);
    this.critic = model.critic.map(prepareLayer);
    this.input = new Float64Array(inputSize(model.observation));
  }

  /** Softmax of the actor's logits, written into `out` (short, flat, long). */
  probabilities<T extends Float64Array | number[]>(input: Float32Array, out: T): T;
  probabilities(input: Float32Array): Float64Array;
  probabilities(input: Float32Array, out: Float64Array | number[] = new Float64Array(ACTIONS)): Float64Array | number[] {
    this.input.set(input);
    softmax(runTower(this.actor, this.input), out);
    return out;
  }

  value(input: Float32Array): number {
    this.input.set(input);
    return runTower(this.critic, this.input)[0] ?? Number.NaN;
  }

  /**
   * The rest of both towers from their first layer's pre-activations (x · W + b), for a caller
   * that computed those in a batch: the softmax goes into `out`, the value is returned.
   */
  fromFirstLayer(actorZ: ArrayLike<number>, criticZ: ArrayLike<number>, out: Float64Array): number {
    softmax(runTower(this.actor, this.input, actorZ), out);
    return runTower(this.critic, this.input, criticZ)[0] ?? Number.NaN;
  }
}

/** The tower on `input`, or from `firstLayerZ` (its first layer's pre-activations) when given. */
function runTower(layers: readonly JsLayer[], input: Float64Array, firstLayerZ?: ArrayLike<number>): Float64Array {
  let x = input;
  for (let l = 0; l < layers.length; l++) {
    const layer = layers[l] as JsLayer;
    if (l === 0 && firstLayerZ) for (let j = 0; j < layer.outputs; j++) layer.out[j] = firstLayerZ[j] as number;
    else dense(layer, x);
    if (l < layers.length - 1) for (let j = 0; j < layer.outputs; j++) layer.out[j] = Math.tanh(layer.out[j] as number);
    x = layer.out;
  }
  return x;
}

/** out = x · W + b, each output a dot product with four accumulators (about a third faster in V8). */
function dense(layer: JsLayer, x: Float64Array): void {
  const { inputs, outputs, transposed: w, bias, out } = layer;
  const tail = inputs - (inputs % 4);
  for (let j = 0; j < outputs; j++) {
    const base = j * inputs;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < tail; i += 4) {
      s0 += (x[i] as number) * (w[base + i] as number);
      s1 += (x[i + 1] as number) * (w[base + i + 1] as number);
      s2 += (x[i + 2] as number) * (w[base + i + 2] as number);
      s3 += (x[i + 3] as number) * (w[base + i + 3] as number);
    }
    for (let i = tail; i < inputs; i++) s0 += (x[i] as number) * (w[base + i] as number);
    out[j] = (bias[j] as number) + s0 + s1 + s2 + s3;
  }
}

function softmax(logits: Float64Array, out: Float64Array | number[]): void {
  let max = -Infinity;
  for (const z of logits) max = Math.max(max, z);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp((logits[i] as number) - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < logits.length; i++) out[i] = (out[i] as number) / sum;
}

/** Checks a model's layer shapes chain from the input to 3 logits and 1 value. */
export function checkModelShape(model: PpoModel, source: string): void {
  const chainOk = (layers: readonly DenseLayer[], outputs: number): boolean =>
    layers.length === model.hidden.length + 1 &&
    layers.every((l, i) => l.weights.length === l.inputs * l.outputs && l.bias.length === l.outputs && l.inputs === (i === 0 ? inputSize(model.observation) : model.hidden[i - 1]) && l.outputs === (i < model.hidden.length ? model.hidden[i] : outputs));
  if (!chainOk(model.actor, ACTIONS) || !chainOk(model.critic, 1)) {
    throw new TasaError('bad_input', `The PPO model from ${source} has layer shapes that do not match its input and hidden sizes.`, { input: source });
  }
}
