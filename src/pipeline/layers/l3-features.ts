/** L3 in the pipeline: the feature table (research/features.ts), monthly Parquet, one column per feature. */
import { featureNames, type FeatureOptions } from '../../research/features.ts';
import { doubleColumn, stringColumn, timestampColumn } from '../archive/parquet-table.ts';
import type { LayerOutput, LayerSpec } from '../layer-runner.ts';
import type { ParentRun } from '../manifest.ts';
import type { ChainData } from './chain-data.ts';
import { monthlyPartitions } from './monthly.ts';

/** The options as given (JSON) and the columns they produce. */
export function l3Config(options: FeatureOptions): Record<string, unknown> {
  return { features: JSON.parse(JSON.stringify(options)) as Record<string, unknown>, names: featureNames(options) };
}

/** The feature options recorded in an L3 run's config. */
export function featureOptionsOf(config: Record<string, unknown>): FeatureOptions {
  const features = config['features'];
  return typeof features === 'object' && features !== null ? features : {};
}

export function l3Spec(data: ChainData, parents: readonly ParentRun[], force: boolean): LayerSpec {
  return {
    layer: 'L3',
    symbol: data.symbol,
    config: l3Config(data.featureOptions),
    parents,
    force,
    compute: async (): Promise<LayerOutput> => {
      const table = await data.features();
      const columns = [
        timestampColumn('time', table.times),
        stringColumn('session', table.sessions),
        ...table.names.map((name, j) => doubleColumn(name, table.columns[j]!)),
      ];
      return {
        tables: monthlyPartitions('L3', data.symbol, columns, table.times, data.calendar).map((t) => ({ ...t, metadata: { layer: 'L3', symbol: data.symbol } })),
        summary: { rows: table.times.length, features: table.names.length },
        rowsIn: table.times.length,
        rowsOut: table.times.length,
      };
    },
  };
}
