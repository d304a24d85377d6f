/**
 * PPO figures on a synthetic dataset shaped like the real one (40 features x window 12, 60-bar
 * sessions): training throughput with the default config (one seed, the iterations alone), the
 * whole honest selection (three seeds, validation scoring and early stopping, the test split
 * scored per seed) against it in the same run, and the cost of one decision through the pure-JS
 * forward pass used for serving, next to the same forward pass through tfjs.
 */
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { encodeInput } from '../src/research/ppo/actor-critic.ts';
import { PpoPolicy, serializeModel } from '../src/research/ppo/ppo-policy.ts';
import { DEFAULT_PPO_CONFIG, trainPpo } from '../src/research/ppo/ppo-trainer.ts';
import { batchLogits } from '../src/research/ppo/ppo-update.ts';
import { SeededRandom } from '../src/domain/random.ts';
import { initTfBackend } from '../src/research/ppo/tf-backend.ts';
import type { RlDataset } from '../src/research/types.ts';
import { syntheticRlDataset } from '../test/support/synthetic-rl-dataset.ts';
import { record } from './harness.ts';

const FEATURES = 40;
const WINDOW = 12;
const ITERATIONS = 3;
const DECISIONS = 20_000;

export async function benchPpo(): Promise<void> {
  const backend = await initTfBackend();
  const backendNote = `${backend.backend}${backend.simd ? ' + SIMD' : ''}`;
  const dataset = syntheticRlDataset({ sessions: 120, barsPerSession: 60, features: FEATURES, window: WINDOW });
  const shape = `${FEATURES} features x window ${WINDOW}`;

  const cfg = { ...DEFAULT_PPO_CONFIG, steps: ITERATIONS * DEFAULT_PPO_CONFIG.rolloutLength, seeds: 1 };
  const cpuSeconds: number[] = [];
  let cpuFrom = process.cpuUsage();
  const result = await trainPpo(dataset, cfg, {
    onProgress: () => {
      const used = process.cpuUsage(cpuFrom);
      cpuSeconds.push((used.user + used.system) / 1e6);
      cpuFrom = process.cpuUsage();
    },
  });
  // The first iteration includes kernel warm-up; later ones are the steady state.
  const steady = result.curve.slice(1).map((p) => p.stepsPerSecond);
  const rate = steady.reduce((a, b) => a + b, 0) / steady.length;
  const configNote = `rollout ${cfg.rolloutLength}, ${cfg.epochs} epochs, minibatch ${cfg.minibatchSize}, hidden ${cfg.hidden.join('x')}`;
  record('ppo', 'training throughput', `${Math.round(rate).toLocaleString('en-US')} steps/s`, `wall time; ${backendNote}; ${shape}; ${configNote}`);
  // CPU time is steadier than wall time on a shared machine; the reference, a pure-JS product of one
  // minibatch's first layer, rescales it to the machine's speed at the moment.
  const cpuPerIteration = cpuSeconds.slice(1).reduce((a, b) => a + b, 0) / (cpuSeconds.length - 1);
  const referenceMs = pureJsMatMulMs(cfg.minibatchSize, FEATURES * WINDOW + 3, cfg.hidden[0] ?? 64);
  record(
    'ppo',
    'training throughput per CPU second',
    `${Math.round(cfg.rolloutLength / cpuPerIteration).toLocaleString('en-US')} steps/s`,
    `one ${cfg.rolloutLength}-step iteration = ${((cpuPerIteration * 1000) / referenceMs).toFixed(0)}× a pure-JS ${cfg.minibatchSize}x${FEATURES * WINDOW + 3}·${FEATURES * WINDOW + 3}x${cfg.hidden[0]} matrix product (${referenceMs.toFixed(1)} ms) in the same run`,
  );

  await benchSelection(dataset, rate, backendNote);

  const policy = new PpoPolicy('bench', result.model);
  const rng = new SeededRandom(1);
  const windows = Array.from({ length: 64 }, () => Float32Array.from({ length: FEATURES * WINDOW }, () => rng.normal()));
  record('ppo', 'decision (pure JS forward)', `${microsPerCall(DECISIONS, (i) => policy.decideFeatures(windows[i % 64]!, 0)).toFixed(1)} µs`, `actor ${FEATURES * WINDOW + 3}->${cfg.hidden.join('->')}->3, softmax, argmax`);

  const input = encodeInput(windows[0]!, 0);
  const tfMicros = microsPerCall(2_000, () => tf.tidy(() => tf.softmax(batchLogits(result.model, tf.tensor2d(input, [1, input.length]))).dataSync()));
  record('ppo', 'decision through tfjs (for comparison)', `${tfMicros.toFixed(1)} µs`, `${backendNote}, actor on a batch of 1, softmax, read back`);
  record('ppo', 'serialized model', `${(serializeModel(result.model, result.metadata).length / 1024).toFixed(0)} KiB`, 'weights float32 + JSON header');
}

/**
 * Steps/s of the whole trainPpo with the default selection (3 seeds, each scored on validation
 * every 5 iterations, test scored per seed at the end), wall time including the scoring, next to
 * the plain training throughput of the same run.
 */
async function benchSelection(dataset: RlDataset, plainRate: number, backendNote: string): Promise<void> {
  const iterations = 2 * DEFAULT_PPO_CONFIG.evalEvery;
  const cfg = { ...DEFAULT_PPO_CONFIG, steps: iterations * DEFAULT_PPO_CONFIG.rolloutLength };
  const result = await trainPpo(dataset, cfg);
  const validationSteps = result.validation?.steps ?? 0;
  record(
    'ppo',
    'training with selection (3 seeds)',
    `${Math.round(result.stepsPerSecond).toLocaleString('en-US')} steps/s`,
    `wall time of trainPpo, ${result.totalSteps.toLocaleString('en-US')} steps over ${cfg.seeds} seeds of ${iterations} iterations, greedy scoring of ${validationSteps.toLocaleString('en-US')} validation steps every ${cfg.evalEvery} iterations and of the test split per seed included; ${(result.stepsPerSecond / plainRate).toFixed(2)}× the plain training throughput above (same run); ${backendNote}`,
  );
}

/** Mean µs per call over `calls` calls, after as many warm-up calls. */
function microsPerCall(calls: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < calls; i++) fn(i);
  const start = performance.now();
  for (let i = 0; i < calls; i++) fn(i);
  return ((performance.now() - start) * 1000) / calls;
}

/** Best of 5 timings (ms) of a plain-loop product of a rows x inner and an inner x cols matrix (float64). */
function pureJsMatMulMs(rows: number, inner: number, cols: number): number {
  const rng = new SeededRandom(2);
  const a = Float64Array.from({ length: rows * inner }, () => rng.normal());
  const b = Float64Array.from({ length: inner * cols }, () => rng.normal());
  const out = new Float64Array(rows * cols);
  let best = Infinity;
  for (let run = 0; run < 6; run++) {
    const start = performance.now();
    out.fill(0);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < inner; k++) {
        const x = a[r * inner + k] as number;
        for (let c = 0; c < cols; c++) out[r * cols + c] = (out[r * cols + c] as number) + x * (b[k * cols + c] as number);
      }
    }
    if (run > 0) best = Math.min(best, performance.now() - start);
  }
  return best;
}
