/**
 * L4 in the pipeline: the RL dataset (research/rl-dataset.ts).
 *
 * Archive: monthly Parquet with one row per episode bar (time, session, split, bar index in the
 * episode, open, close, then every normalized feature as float32, null where the raw
 * feature was missing), and `dataset.json` with what the rows do not say (feature names, window,
 * costs, the train-split normalization, the splits, purged and skipped sessions, the dataset's
 * own sha256). The summary records that sha256 (`rlDatasetHash`): the models trained on it carry
 * the same hash.
 */
import { resolveRlDatasetConfig, type RlDatasetConfig } from '../../research/rl-dataset.ts';
import type { RlDataset } from '../../research/types.ts';
import { doubleColumn, floatColumn, int32Column, stringColumn, timestampColumn, type TableColumn } from '../archive/parquet-table.ts';
import type { LayerOutput, LayerSpec } from '../layer-runner.ts';
import { layerFileKey } from '../layout.ts';
import type { ParentRun } from '../manifest.ts';
import type { ChainData } from './chain-data.ts';
import { monthlyPartitions } from './monthly.ts';

/** The resolved dataset config as JSON (no clipping is `clip: null`: JSON has no Infinity). */
export function l4Config(config: RlDatasetConfig): Record<string, unknown> {
  const c = resolveRlDatasetConfig(config);
  return { dataset: { ...c, costs: { ...c.costs }, clip: Number.isFinite(c.clip) ? c.clip : null } };
}

/** The dataset config recorded in an L4 run's config. */
export function datasetConfigOf(config: Record<string, unknown>): RlDatasetConfig {
  const dataset = config['dataset'];
  if (typeof dataset !== 'object' || dataset === null) return {};
  const c = dataset as RlDatasetConfig & { clip?: number | null };
  return { ...c, clip: c.clip === null ? Infinity : c.clip };
}

export function l4Spec(data: ChainData, parents: readonly ParentRun[], force: boolean): LayerSpec {
  return {
    layer: 'L4',
    symbol: data.symbol,
    config: l4Config(data.datasetConfig),
    parents,
    force,
    compute: async (): Promise<LayerOutput> => {
      const dataset = await data.dataset();
      const { columns, times } = episodeColumns(dataset);
      const rows = times.length;
      const header = datasetHeader(dataset);
      return {
        tables: monthlyPartitions('L4', data.symbol, columns, times, data.calendar).map((t) => ({ ...t, metadata: { layer: 'L4', symbol: data.symbol, rlDatasetHash: dataset.hash } })),
        blobs: [{ key: layerFileKey('L4', data.symbol, 'dataset.json'), bytes: new TextEncoder().encode(`${JSON.stringify(header, null, 2)}\n`), rows: 1 }],
        summary: datasetSummary(dataset),
        rowsIn: (await data.series()).length,
        rowsOut: rows,
      };
    },
  };
}

export function datasetSummary(dataset: RlDataset): Record<string, unknown> {
  return {
    rlDatasetHash: dataset.hash,
    episodes: dataset.episodes.length,
    features: dataset.featureNames.length,
    window: dataset.window,
    splits: dataset.splits,
    skippedSessions: dataset.skippedSessions?.length ?? 0,
  };
}

function datasetHeader(dataset: RlDataset): Record<string, unknown> {
  return {
    format: 'tasa-rl-dataset/2',
    symbol: dataset.symbol,
    hash: dataset.hash,
    featureNames: dataset.featureNames,
    window: dataset.window,
    costs: dataset.costs,
    normalization: dataset.normalization,
    splits: dataset.splits,
    purgeSessions: dataset.purgeSessions,
    skippedSessions: dataset.skippedSessions ?? [],
  };
}

function episodeColumns(dataset: RlDataset): { columns: TableColumn[]; times: Float64Array } {
  const f = dataset.featureNames.length;
  const n = dataset.episodes.reduce((sum, e) => sum + e.times.length, 0);
  const time = new Float64Array(n);
  const open = new Float64Array(n);
  const close = new Float64Array(n);
  const bar = new Int32Array(n);
  const session: string[] = new Array<string>(n);
  const split: string[] = new Array<string>(n);
  const features = dataset.featureNames.map(() => new Float32Array(n));
  let row = 0;
  for (const e of dataset.episodes) {
    for (let i = 0; i < e.times.length; i++, row++) {
      time[row] = e.times[i]!;
      open[row] = e.opens[i]!;
      close[row] = e.closes[i]!;
      bar[row] = i;
      session[row] = e.session;
      split[row] = e.split;
      for (let j = 0; j < f; j++) features[j]![row] = e.mask[i * f + j] === 1 ? e.features[i * f + j]! : NaN;
    }
  }
  const columns = [
    timestampColumn('time', time),
    stringColumn('session', session),
    stringColumn('split', split),
    int32Column('bar', bar),
    doubleColumn('open', open),
    doubleColumn('close', close),
    ...dataset.featureNames.map((name, j) => floatColumn(name, features[j]!)),
  ];
  return { columns, times: time };
}
