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
import { errorMessage } from '../../errors.ts';
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

/** The independent random streams of one training run. */
export const RANDOM_STREAMS = { initialWeights: 1, actions: 2, episodes: 3, minibatches: 4 } as const;
