/** L2 in the pipeline: the indicator rows of the series (research/indicators.ts), monthly Parquet. */
import { WARMUP, indicatorColumn } from '../../research/indicators.ts';
import { INDICATOR_NAMES } from '../../research/types.ts';
import { doubleColumn, timestampColumn } from '../archive/parquet-table.ts';
import type { LayerOutput, LayerSpec } from '../layer-runner.ts';
import type { ParentRun } from '../manifest.ts';
import type { ChainData } from './chain-data.ts';
import { monthlyPartitions } from './monthly.ts';

/** The indicators have fixed periods: the config names them and their warm-ups so that a change shows in the hash. */
export function l2Config(): Record<string, unknown> {
  return { indicators: [...INDICATOR_NAMES], warmup: { ...WARMUP } };
}

export function l2Spec(data: ChainData, parents: readonly ParentRun[], force: boolean): LayerSpec {
  return {
    layer: 'L2',
    symbol: data.symbol,
    config: l2Config(),
    parents,
    force,
    compute: async (): Promise<LayerOutput> => {
      const rows = await data.indicators();
      const times = rows.map((r) => r.time);
      const columns = [timestampColumn('time', times), ...INDICATOR_NAMES.map((name) => doubleColumn(name, indicatorColumn(rows, name)))];
      return {
        tables: monthlyPartitions('L2', data.symbol, columns, times, data.calendar).map((t) => ({ ...t, metadata: { layer: 'L2', symbol: data.symbol } })),
        summary: { rows: rows.length, indicators: INDICATOR_NAMES.length },
        rowsIn: rows.length,
        rowsOut: rows.length,
      };
    },
  };
}
