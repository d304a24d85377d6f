/**
 * The inputs a trained policy sees, rebuilt from a feature table with the model's own
 * normalization (that of the dataset it was trained on), for backtests over any dataset and for
 * live serving. Same rules as the L4 dataset (rl-dataset.ts): a session is an episode; the
 * window holds the current row and the `window - 1` rows before it inside the same session,
 * oldest first, zero before the session's first bar; a missing feature is 0 after normalization.
 * For a model trained on the dataset at hand this gives exactly `observationAt`'s windows.
 * Pure.
 */
import { TasaError } from '../errors.ts';
import { featureNames, type FeatureOptions } from './features.ts';
import { normalizeValue } from './rl-dataset.ts';
import type { FeatureTable, RlDataset } from './types.ts';

export interface ModelInputs {
  featureNames: readonly string[];
  window: number;
  normalization: RlDataset['normalization'];
  /** The L3 options that produce `featureNames` (stored with the model by the pipeline). */
  featureOptions: FeatureOptions;
}

/** What a model's stored metadata says about its inputs; a model without usable metadata is a bad_input naming it. */
export function modelInputs(modelId: string, observation: { featureNames: readonly string[]; window: number }, metadata: Record<string, unknown>): ModelInputs {
  const bad = (what: string) => new TasaError('bad_input', `Model ${modelId} cannot be served: its metadata ${what}.`, { input: modelId, hint: 'Retrain it with tasa train.' });
  const n = observation.featureNames.length;
  const normalization = metadata['normalization'] as Partial<RlDataset['normalization']> | undefined;
  const numbers = (v: unknown): v is number[] => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!normalization || !numbers(normalization.means) || !numbers(normalization.stds)) throw bad(`has no normalization for its ${n} features`);
  const clip = normalization.clip;
  if (clip !== undefined && !(typeof clip === 'number' && clip > 0)) throw bad('has an invalid clip');
  const features = metadata['features'];
  const featureOptions = typeof features === 'object' && features !== null ? (features as FeatureOptions) : {};
  return {
    featureNames: observation.featureNames,
    window: observation.window,
    normalization: clip === undefined ? { means: normalization.means, stds: normalization.stds } : { means: normalization.means, stds: normalization.stds, clip },
    featureOptions,
  };
}

/** Throws unless `names` (a feature table's columns) are the model's features in its order. */
export function assertModelFeatures(modelId: string, inputs: Pick<ModelInputs, 'featureNames'>, names: readonly string[]): void {
  const same = names.length === inputs.featureNames.length && names.every((name, j) => name === inputs.featureNames[j]);
  if (!same) {
    throw new TasaError('bad_input', `Model ${modelId} observes ${inputs.featureNames.length} features (${inputs.featureNames.slice(0, 3).join(', ')}, ...) that differ from the ${names.length} computed now.`, {
      input: modelId,
      hint: 'Compute the features with the options the model was trained with, or train a new model.',
    });
  }
}

/** The feature column names the model's stored options give (to check against its observation). */
export function featureNamesOf(inputs: ModelInputs): string[] {
  return featureNames(inputs.featureOptions);
}

/** Rows [start, end) of `table` normalized as the model's dataset did: (end - start) x featureCount, row-major. */
export function normalizedRows(table: FeatureTable, start: number, end: number, normalization: RlDataset['normalization']): Float32Array {
  const f = table.columns.length;
  if (normalization.means.length !== f) {
    throw new TasaError('bad_argument', `The normalization has ${normalization.means.length} features; the table has ${f}.`, { input: 'normalization' });
  }
  const out = new Float32Array((end - start) * f);
  for (let i = start; i < end; i++) {
    for (let j = 0; j < f; j++) {
      const z = normalizeValue(table.columns[j]![i]!, j, normalization);
      if (!Number.isNaN(z)) out[(i - start) * f + j] = z;
    }
  }
  return out;
}

/**
 * observe(index) over rows whose sessions are `sessions` (in time order, one per row) and whose
 * normalized features are `rows`: the window ending at `index`, cut at the session's first row.
 */
export function windowObserver(sessions: readonly string[], rows: Float32Array, featureCount: number, window: number): (index: number) => Float32Array {
  const n = sessions.length;
  if (rows.length !== n * featureCount) throw new TasaError('bad_argument', `windowObserver got ${rows.length} values for ${n} rows of ${featureCount} features.`, { input: 'rows' });
  const sessionStart = new Int32Array(n);
  for (let i = 1; i < n; i++) sessionStart[i] = sessions[i] === sessions[i - 1] ? sessionStart[i - 1]! : i;
  return (index) => {
    if (!Number.isInteger(index) || index < 0 || index >= n) throw new TasaError('bad_argument', `Row ${index} is outside the observed rows (0..${n - 1}).`, { input: String(index) });
    const out = new Float32Array(window * featureCount);
    const first = index - window + 1;
    const from = Math.max(first, sessionStart[index]!);
    out.set(rows.subarray(from * featureCount, (index + 1) * featureCount), (from - first) * featureCount);
    return out;
  };
}
