/**
 * TensorFlow.js set-up for the research layers, and the seeded randomness that makes training
 * reproducible.
 *
 * The WASM backend is used (SIMD where Node has it, single-threaded in Node): it is several times
 * faster than the pure-JS 'cpu' backend and, being single-threaded, gives bit-identical results
 * run after run. The .wasm binaries are read from the installed package (no network).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { TasaError, errorMessage } from '../../errors.ts';
import type { Logger } from '../../log.ts';

export type TfBackendName = 'wasm' | 'cpu';

export interface TfBackendInfo {
  backend: TfBackendName;
  /** WASM SIMD in use (always false on 'cpu'). */
  simd: boolean;
  /** Why WASM could not be used, when the backend fell back to 'cpu'. */
  fallbackReason: string | null;
}

let initializing: Promise<TfBackendInfo> | undefined;

/**
 * Selects the WASM backend once per process (later calls return the same result). Only when WASM
 * cannot load does it fall back to 'cpu', with a warning on `logger` (or stderr).
 */
export function initTfBackend(logger?: Pick<Logger, 'warn'>): Promise<TfBackendInfo> {
  initializing ??= selectBackend(logger);
  return initializing;
}

async function selectBackend(logger: Pick<Logger, 'warn'> | undefined): Promise<TfBackendInfo> {
  try {
    setWasmPaths(wasmDirectory());
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
    await tf.ready();
    return { backend: 'wasm', simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), fallbackReason: null };
  } catch (err) {
    const reason = errorMessage(err);
    const message = `TensorFlow.js WASM backend unavailable (${reason}); using the slower 'cpu' backend.`;
    if (logger) logger.warn({ reason }, message);
    else process.stderr.write(`warning: ${message}\n`);
    await tf.setBackend('cpu');
    await tf.ready();
    return { backend: 'cpu', simd: false, fallbackReason: reason };
  }
}

/** The installed package's dist folder, with a trailing separator (setWasmPaths takes a prefix). */
function wasmDirectory(): string {
  const wasmFile = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
  return path.dirname(wasmFile) + path.sep;
}

/**
 * A small seeded PRNG (sfc32: 128-bit state, passes PractRand far beyond what training draws).
 * Each use (initial weights, action sampling, minibatch shuffling) gets its own stream derived
 * from the run's seed, so changing how one is used does not shift the others.
 */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  constructor(seed: number, stream = 0) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88 ^ stream;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    // Mix the seed in: the first outputs of sfc32 from a fresh state are correlated.
    for (let i = 0; i < 16; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller, the second value kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Index drawn with the given probabilities (which sum to 1, up to rounding); never one of probability 0. */
  categorical(probabilities: ArrayLike<number>): number {
    let u = this.next();
    let lastPossible = -1;
    for (let i = 0; i < probabilities.length; i++) {
      const p = probabilities[i] ?? 0;
      if (p <= 0) continue;
      lastPossible = i;
      u -= p;
      if (u < 0) return i;
    }
    // Rounding left u >= 0 after the last term: that term is the draw.
    if (lastPossible < 0) throw new TasaError('bad_argument', 'Cannot sample from probabilities that are all zero.', { input: 'probabilities' });
    return lastPossible;
  }

  /** Shuffles in place (Fisher-Yates). */
  shuffle<T extends Int32Array | number[]>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as number;
      items[i] = items[j] as number;
      items[j] = tmp;
    }
    return items;
  }
}

/** The independent random streams of one training run. */
export const RANDOM_STREAMS = { initialWeights: 1, actions: 2, episodes: 3, minibatches: 4 } as const;
