/**
 * PPO figures on a synthetic dataset shaped like the real one (40 features x window 12, 60-bar
 * sessions): training throughput with the default config, and the cost of one decision through
 * the pure-JS forward pass used for serving, next to the same forward pass through tfjs.
 */
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { TfActorCritic, encodeInput } from '../src/research/ppo/actor-critic.ts';
import { PpoPolicy, serializeModel } from '../src/research/ppo/ppo-policy.ts';
import { DEFAULT_PPO_CONFIG, trainPpo } from '../src/research/ppo/ppo-trainer.ts';
import { SeededRandom } from '../src/domain/random.ts';
import { initTfBackend } from '../src/research/ppo/tf-backend.ts';
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

  const cfg = { ...DEFAULT_PPO_CONFIG, steps: ITERATIONS * DEFAULT_PPO_CONFIG.rolloutLength };
  const result = await trainPpo(dataset, cfg);
  // The first iteration includes kernel warm-up; later ones are the steady state.
  const steady = result.curve.slice(1).map((p) => p.stepsPerSecond);
  const rate = steady.reduce((a, b) => a + b, 0) / steady.length;
  record('ppo', 'training throughput', `${Math.round(rate).toLocaleString('en-US')} steps/s`, `${backendNote}; ${shape}; rollout ${cfg.rolloutLength}, ${cfg.epochs} epochs, minibatch ${cfg.minibatchSize}, hidden ${cfg.hidden.join('x')}`);

  const policy = new PpoPolicy('bench', result.model);
  const rng = new SeededRandom(1);
  const windows = Array.from({ length: 64 }, () => Float32Array.from({ length: FEATURES * WINDOW }, () => rng.normal()));
  record('ppo', 'decision (pure JS forward)', `${microsPerCall(DECISIONS, (i) => policy.decideFeatures(windows[i % 64]!, 0)).toFixed(1)} µs`, `actor ${FEATURES * WINDOW + 3}->${cfg.hidden.join('->')}->3, softmax, argmax`);

  const net = new TfActorCritic(result.model);
  const input = encodeInput(windows[0]!, 0);
  const tfMicros = microsPerCall(2_000, () => tf.tidy(() => tf.softmax(net.logits(tf.tensor2d(input, [1, input.length]))).dataSync()));
  net.dispose();
  record('ppo', 'decision through tfjs (for comparison)', `${tfMicros.toFixed(1)} µs`, `${backendNote}, actor on a batch of 1, softmax, read back`);
  record('ppo', 'serialized model', `${(serializeModel(result.model, result.metadata).length / 1024).toFixed(0)} KiB`, 'weights float32 + JSON header');
}

/** Mean µs per call over `calls` calls, after as many warm-up calls. */
function microsPerCall(calls: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < calls; i++) fn(i);
  const start = performance.now();
  for (let i = 0; i < calls; i++) fn(i);
  return ((performance.now() - start) * 1000) / calls;
}
