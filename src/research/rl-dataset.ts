/**
 * L4: the reinforcement-learning dataset. Pure: no I/O (sha256 from node:crypto is computation).
 *
 * - Episodes are sessions. A session with fewer than `minSessionBars` bars (default 2: one
 *   decision needs a next bar) is skipped and listed in `skippedSessions`.
 * - Splits are chronological by session: the first `trainFraction` of the episode sessions is
 *   train, the next `validationFraction` validation, the rest test (rounded to whole sessions).
 *   The first `purgeSessions` sessions (default 2) of validation and of test are dropped: features
 *   run across sessions (EMA50, 30-bar windows, the previous session's close), so without the gap
 *   the first observations of a split would be computed from the previous split's bars.
 * - Or explicit session windows (`sessions`, a walk-forward fold's): each split is the eligible
 *   sessions between its dates, the other sessions are left out, and nothing more is purged (the
 *   gaps between the windows are the caller's purge; `purgeSessions` is only recorded).
 * - Normalization: per feature, the mean and population std of its finite values over the train
 *   split's rows only; a feature constant over train gets std 1 (centred, not scaled). Values are
 *   normalized as (x - mean) / std and limited to ±clip (default 10 stds: the real history has
 *   5-minute moves of 50+ stds, which would swamp a network's input), then a missing value (NaN)
 *   becomes 0 with mask 0. `normalizeRow` applies the same to a live row.
 * - Costs are configuration, not prices: defaults spreadBps 2 (the half-spread), feeBps 0.5 and
 *   slippageBps 0 are assumptions to be set from the venue's real quotes and fees (the research
 *   config, research-config.ts, sets them, the spread possibly from stored quotes); charged per unit of position
 *   change by the execution model (execution-model.ts) that prices an episode's rewards from its
 *   opens and closes.
 * - `hash` is the sha256 of the symbol, the resolved config, the feature names, the normalization,
 *   the splits and every episode's arrays (their bytes, little-endian as on x86/ARM), in a fixed order.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import { assertSpreadByHour } from './execution-model.ts';
import { sessionRanges, type SessionRange } from './series.ts';
import type { Episode, FeatureTable, Position, RlDataset, SeriesBar, Split, TradingCosts } from './types.ts';

/** Inclusive session dates of each split, in time order and apart. */
export type SplitWindows = Record<Split, { from: IsoDate; to: IsoDate }>;

export interface RlDatasetConfig {
  /** Fractions of the episode sessions in each split; > 0 each and summing to 1 (default 0.7 / 0.15 / 0.15). */
  trainFraction?: number;
  validationFraction?: number;
  testFraction?: number;
  /** Sessions dropped at the start of validation and of test (default 2). */
  purgeSessions?: number;
  /** Bars in one observation (default 12). */
  window?: number;
  /** Default { spreadBps: 2, feeBps: 0.5, slippageBps: 0 }. */
  costs?: TradingCosts;
  /** Sessions with fewer bars are skipped (default 2, the least that gives one decision). */
  minSessionBars?: number;
  /** Normalized values are limited to ±clip (default 10; Infinity for none). */
  clip?: number;
  /** Explicit split windows instead of the fractions (default null: the fractions). */
  sessions?: SplitWindows | null;
}

export type ResolvedRlDatasetConfig = Required<RlDatasetConfig>;

export const DEFAULT_RL_DATASET_CONFIG: Readonly<ResolvedRlDatasetConfig> = Object.freeze({
  trainFraction: 0.7,
  validationFraction: 0.15,
  testFraction: 0.15,
  purgeSessions: 2,
  window: 12,
  costs: Object.freeze({ spreadBps: 2, feeBps: 0.5, slippageBps: 0 }),
  minSessionBars: 2,
  clip: 10,
  sessions: null,
});

/** The splits in time order. */
export const SPLITS: readonly Split[] = ['train', 'validation', 'test'];

export function resolveRlDatasetConfig(config: RlDatasetConfig = {}): ResolvedRlDatasetConfig {
  const d = DEFAULT_RL_DATASET_CONFIG;
  const resolved: ResolvedRlDatasetConfig = {
    trainFraction: config.trainFraction ?? d.trainFraction,
    validationFraction: config.validationFraction ?? d.validationFraction,
    testFraction: config.testFraction ?? d.testFraction,
    purgeSessions: config.purgeSessions ?? d.purgeSessions,
    window: config.window ?? d.window,
    costs: {
      spreadBps: config.costs?.spreadBps ?? d.costs.spreadBps,
      feeBps: config.costs?.feeBps ?? d.costs.feeBps,
      slippageBps: config.costs?.slippageBps ?? d.costs.slippageBps ?? 0,
      ...(config.costs?.spreadBpsByHour === undefined ? {} : { spreadBpsByHour: [...config.costs.spreadBpsByHour] }),
    },
    minSessionBars: config.minSessionBars ?? d.minSessionBars,
    clip: config.clip ?? d.clip,
    sessions: config.sessions ?? null,
  };
  validateConfig(resolved);
  return resolved;
}

function validateConfig(c: ResolvedRlDatasetConfig): void {
  const bad = (name: string, value: unknown, rule: string) => new TasaError('bad_argument', `RL dataset ${name} must be ${rule}, got ${String(value)}.`, { input: name });
  for (const name of ['trainFraction', 'validationFraction', 'testFraction'] as const) {
    if (!(c[name] > 0 && c[name] < 1)) throw bad(name, c[name], 'a number between 0 and 1 (exclusive)');
  }
  const sum = c.trainFraction + c.validationFraction + c.testFraction;
  if (Math.abs(sum - 1) > 1e-9) throw bad('trainFraction + validationFraction + testFraction', sum, '1');
  if (!Number.isInteger(c.purgeSessions) || c.purgeSessions < 0) throw bad('purgeSessions', c.purgeSessions, 'an integer >= 0');
  if (!Number.isInteger(c.window) || c.window < 1) throw bad('window', c.window, 'an integer >= 1');
  if (!Number.isInteger(c.minSessionBars) || c.minSessionBars < 2) throw bad('minSessionBars', c.minSessionBars, 'an integer >= 2');
  if (!(c.clip > 0)) throw bad('clip', c.clip, 'a number > 0 (Infinity for no clipping)');
  for (const name of ['spreadBps', 'feeBps', 'slippageBps'] as const) {
    const value = c.costs[name] ?? 0;
    if (!Number.isFinite(value) || value < 0) throw bad(`costs.${name}`, value, 'a finite number >= 0');
  }
  assertSpreadByHour(c.costs.spreadBpsByHour, 'RL dataset costs.spreadBpsByHour');
  if (c.sessions !== null) assertSplitWindows(c.sessions);
}

function assertSplitWindows(w: SplitWindows): void {
  const text = SPLITS.map((s) => `${s} ${w[s].from}..${w[s].to}`).join(', ');
  const ordered = SPLITS.every((s, i) => w[s].from <= w[s].to && (i === 0 || w[SPLITS[i - 1]!].to < w[s].from));
  if (!ordered) throw new TasaError('bad_argument', `RL dataset sessions must be train, validation and test windows in time order and apart, got ${text}.`, { input: 'sessions' });
}

/** The dataset of one symbol's series and its feature table (`computeFeatures(series, ...)`). */
export function buildRlDataset(symbol: string, series: readonly SeriesBar[], features: FeatureTable, config: RlDatasetConfig = {}): RlDataset {
  const c = resolveRlDatasetConfig(config);
  if (typeof symbol !== 'string' || symbol.trim() === '') throw new TasaError('bad_argument', 'The RL dataset needs a symbol.', { input: 'symbol' });
  assertTableMatches(series, features);
  const ranges = sessionRanges(series);
  const eligible = ranges.filter((r) => r.end - r.start >= c.minSessionBars);
  const skippedSessions = ranges.filter((r) => r.end - r.start < c.minSessionBars).map((r) => ({ session: r.session, bars: r.end - r.start }));
  const assigned = assignSplits(eligible, c);
  const normalization = trainNormalization(features, assigned, c.clip);
  const episodes = assigned.map(({ range, split }) => buildEpisode(series, features, range, split, normalization));
  const splits = summarizeSplits(assigned);
  const dataset: Omit<RlDataset, 'hash'> = {
    symbol,
    featureNames: [...features.names],
    window: c.window,
    costs: { ...c.costs },
    normalization,
    splits,
    purgeSessions: c.purgeSessions,
    episodes,
    skippedSessions,
  };
  return { ...dataset, hash: datasetHash(dataset, c) };
}

function assertTableMatches(series: readonly SeriesBar[], features: FeatureTable): void {
  const n = series.length;
  const bad = (what: string) => new TasaError('bad_argument', `The feature table does not match the series: ${what}.`, { input: 'features' });
  if (features.times.length !== n) throw bad(`${features.times.length} rows for ${n} bars`);
  if (features.names.length !== features.columns.length) throw bad(`${features.names.length} names for ${features.columns.length} columns`);
  if (features.names.length === 0) throw bad('it has no feature');
  for (const [j, column] of features.columns.entries()) if (column.length !== n) throw bad(`column ${features.names[j]} has ${column.length} rows`);
  for (let i = 0; i < n; i++) if (features.times[i] !== series[i]!.time) throw bad(`row ${i} is for another bar`);
}

interface Assigned {
  range: SessionRange;
  split: Split;
}

/** Chronological train / validation / test with `purgeSessions` dropped at the start of the last two, or the explicit windows. */
function assignSplits(sessions: readonly SessionRange[], c: ResolvedRlDatasetConfig): Assigned[] {
  if (c.sessions !== null) return assignWindows(sessions, c.sessions);
  const n = sessions.length;
  const trainEnd = Math.round(n * c.trainFraction);
  const validationEnd = Math.round(n * (c.trainFraction + c.validationFraction));
  const bounds: Array<[Split, number, number]> = [
    ['train', 0, trainEnd],
    ['validation', trainEnd + c.purgeSessions, validationEnd],
    ['test', validationEnd + c.purgeSessions, n],
  ];
  for (const [split, from, to] of bounds) {
    if (to <= from) {
      throw new TasaError('bad_input', `${n} usable sessions leave the ${split} split empty (fractions ${c.trainFraction}/${c.validationFraction}/${c.testFraction}, purge ${c.purgeSessions}); more history is needed.`, {
        input: split,
      });
    }
  }
  return bounds.flatMap(([split, from, to]) => sessions.slice(from, to).map((range) => ({ range, split })));
}

function assignWindows(sessions: readonly SessionRange[], windows: SplitWindows): Assigned[] {
  const assigned = sessions.flatMap((range): Assigned[] => {
    const split = SPLITS.find((s) => windows[s].from <= range.session && range.session <= windows[s].to);
    return split === undefined ? [] : [{ range, split }];
  });
  for (const split of SPLITS) {
    if (!assigned.some((a) => a.split === split)) {
      throw new TasaError('bad_input', `No usable session lies in the ${split} window ${windows[split].from}..${windows[split].to}; more history is needed.`, { input: split });
    }
  }
  return assigned;
}

function trainNormalization(features: FeatureTable, assigned: readonly Assigned[], clip: number): RlDataset['normalization'] {
  const train = assigned.filter((a) => a.split === 'train').map((a) => a.range);
  const means: number[] = [];
  const stds: number[] = [];
  for (const [j, column] of features.columns.entries()) {
    let count = 0;
    let sum = 0;
    for (const { start, end } of train) {
      for (let i = start; i < end; i++) {
        if (!Number.isFinite(column[i]!)) continue;
        count++;
        sum += column[i]!;
      }
    }
    if (count === 0) {
      throw new TasaError('bad_input', `Feature ${features.names[j]} has no value in the training split, so it cannot be normalized; more history is needed.`, { input: features.names[j] });
    }
    const mean = sum / count;
    let squares = 0;
    for (const { start, end } of train) for (let i = start; i < end; i++) if (Number.isFinite(column[i]!)) squares += (column[i]! - mean) ** 2;
    const std = Math.sqrt(squares / count);
    means.push(mean);
    stds.push(std > 0 ? std : 1);
  }
  return Number.isFinite(clip) ? { means, stds, clip } : { means, stds };
}

/** A raw feature value normalized as the dataset does it: NaN when the value is missing. */
export function normalizeValue(x: number, j: number, normalization: RlDataset['normalization']): number {
  if (!Number.isFinite(x)) return NaN;
  const z = (x - normalization.means[j]!) / normalization.stds[j]!;
  const clip = normalization.clip ?? Infinity;
  return z > clip ? clip : z < -clip ? -clip : z;
}

/**
 * One raw feature row (e.g. the latest row of a live feature table, in `featureNames` order)
 * normalized exactly as the dataset's episodes: missing values are 0 with mask 0.
 */
export function normalizeRow(raw: ArrayLike<number>, normalization: RlDataset['normalization']): { features: Float32Array; mask: Uint8Array } {
  if (raw.length !== normalization.means.length) {
    throw new TasaError('bad_argument', `A feature row has ${raw.length} values; the normalization has ${normalization.means.length} features.`, { input: 'raw' });
  }
  const features = new Float32Array(raw.length);
  const mask = new Uint8Array(raw.length);
  for (let j = 0; j < raw.length; j++) {
    const z = normalizeValue(raw[j]!, j, normalization);
    if (Number.isNaN(z)) continue;
    features[j] = z;
    mask[j] = 1;
  }
  return { features, mask };
}

function buildEpisode(series: readonly SeriesBar[], table: FeatureTable, range: SessionRange, split: Split, normalization: RlDataset['normalization']): Episode {
  const n = range.end - range.start;
  const f = table.columns.length;
  const times = new Float64Array(n);
  const opens = new Float64Array(n);
  const closes = new Float64Array(n);
  const features = new Float32Array(n * f);
  const mask = new Uint8Array(n * f);
  for (let i = 0; i < n; i++) {
    const row = range.start + i;
    times[i] = series[row]!.time;
    opens[i] = series[row]!.open;
    closes[i] = series[row]!.close;
    for (let j = 0; j < f; j++) {
      const z = normalizeValue(table.columns[j]![row]!, j, normalization);
      if (Number.isNaN(z)) continue; // stays 0 with mask 0
      features[i * f + j] = z;
      mask[i * f + j] = 1;
    }
  }
  return { session: range.session, split, times, opens, closes, features, mask };
}

function summarizeSplits(assigned: readonly Assigned[]): RlDataset['splits'] {
  const summary = (split: Split) => {
    const sessions = assigned.filter((a) => a.split === split).map((a) => a.range.session);
    return { from: sessions[0]!, to: sessions[sessions.length - 1]!, sessions: sessions.length };
  };
  return { train: summary('train'), validation: summary('validation'), test: summary('test') };
}

// ---------------------------------------------------------------------------------------------
// Hash
// ---------------------------------------------------------------------------------------------

function datasetHash(dataset: Omit<RlDataset, 'hash'>, config: ResolvedRlDatasetConfig): string {
  const hash = createHash('sha256');
  const header = {
    format: 'tasa-rl-dataset/2',
    symbol: dataset.symbol,
    config: {
      trainFraction: config.trainFraction,
      validationFraction: config.validationFraction,
      testFraction: config.testFraction,
      purgeSessions: config.purgeSessions,
      window: config.window,
      // The per-hour spread only when charged, so that a dataset with one spread figure keeps its hash.
      costs: { spreadBps: config.costs.spreadBps, feeBps: config.costs.feeBps, slippageBps: config.costs.slippageBps ?? 0, ...(config.costs.spreadBpsByHour ? { spreadBpsByHour: config.costs.spreadBpsByHour } : {}) },
      minSessionBars: config.minSessionBars,
      clip: String(config.clip),
      // Only when set, so that a dataset split by fractions keeps its hash.
      ...(config.sessions === null ? {} : { sessions: config.sessions }),
    },
    featureNames: dataset.featureNames,
    normalization: dataset.normalization,
    splits: SPLITS.map((s) => [s, dataset.splits[s].from, dataset.splits[s].to, dataset.splits[s].sessions]),
    skippedSessions: dataset.skippedSessions,
    episodes: dataset.episodes.length,
  };
  updateFramed(hash, Buffer.from(JSON.stringify(header), 'utf8'));
  for (const e of dataset.episodes) {
    updateFramed(hash, Buffer.from(`${e.session}|${e.split}`, 'utf8'));
    for (const array of [e.times, e.opens, e.closes, e.features, e.mask]) updateFramed(hash, array);
  }
  return hash.digest('hex');
}

/** Each piece is preceded by its byte length, so no two different sequences hash the same bytes. */
function updateFramed(hash: Hash, bytes: NodeJS.ArrayBufferView): void {
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(bytes.byteLength));
  hash.update(length);
  hash.update(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

// ---------------------------------------------------------------------------------------------
// Observations
// ---------------------------------------------------------------------------------------------

/**
 * The normalized features a policy sees at the close of bar `index` of an episode: `window` rows
 * (oldest first, the last one is bar `index`) x featureCount, zero where the window reaches
 * before the episode's first bar (and where a feature is missing, see the episode's mask).
 * `position` is taken so the call fits the backtest's `observe(index, position)`; the features do
 * not depend on it (a policy gets its position in `Observation.position`).
 */
export function observationAt(dataset: RlDataset, episode: Episode | number, index: number, _position: Position): Float32Array {
  const e = typeof episode === 'number' ? episodeAt(dataset, episode) : episode;
  const f = dataset.featureNames.length;
  const n = e.times.length;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new TasaError('bad_argument', `Bar index ${index} is outside episode ${e.session} (0..${n - 1}).`, { input: String(index) });
  }
  const out = new Float32Array(dataset.window * f);
  const first = index - dataset.window + 1;
  const from = Math.max(first, 0);
  out.set(e.features.subarray(from * f, (index + 1) * f), (from - first) * f);
  return out;
}

function episodeAt(dataset: RlDataset, index: number): Episode {
  const e = dataset.episodes[index];
  if (e === undefined) throw new TasaError('bad_argument', `Episode ${index} is not in the dataset (${dataset.episodes.length} episodes).`, { input: String(index) });
  return e;
}

/**
 * `observe(index, position)` over the series the dataset was built from, for `decideTargets`
 * (backtest.ts): the observation of series row `index`. Rows of sessions that are not episodes
 * (skipped or purged) have none and throw.
 */
export function seriesObserver(dataset: RlDataset, series: readonly Pick<SeriesBar, 'time'>[]): (index: number, position: Position) => Float32Array {
  const where = new Map<number, [Episode, number]>();
  for (const e of dataset.episodes) for (let i = 0; i < e.times.length; i++) where.set(e.times[i]!, [e, i]);
  return (index, position) => {
    const bar = series[index];
    const found = bar === undefined ? undefined : where.get(bar.time);
    if (found === undefined) {
      throw new TasaError('bad_argument', `Series row ${index} belongs to no episode of the dataset (outside the series, or a skipped or purged session).`, { input: String(index) });
    }
    return observationAt(dataset, found[0], found[1], position);
  };
}

/** The sessions of each split, in order (for reports). */
export function sessionsOf(dataset: RlDataset, split: Split): IsoDate[] {
  return dataset.episodes.filter((e) => e.split === split).map((e) => e.session);
}
