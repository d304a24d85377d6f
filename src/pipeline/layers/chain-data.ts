/**
 * The data of one pipeline run, computed on first use and kept: L1 bars -> series -> L2
 * indicators -> L3 features -> L4 dataset. A layer whose run is skipped computes nothing, so a
 * run where everything is unchanged never reads a bar; a layer that does run gets its parents'
 * data from here. L2..L4 are pure functions of the bars and their configs, so recomputing them
 * gives exactly what the skipped runs stored (the code version is part of every skip check); the
 * bars come from the L1 run's archive, or from the database when L1 itself runs.
 */
import type { Bar } from '../../domain/bar.ts';
import type { MarketCalendar } from '../../domain/calendar.ts';
import { TasaError } from '../../errors.ts';
import { computeFeatures, type FeatureOptions } from '../../research/features.ts';
import { computeIndicators } from '../../research/indicators.ts';
import { buildRlDataset, type RlDatasetConfig } from '../../research/rl-dataset.ts';
import { toSeries } from '../../research/series.ts';
import type { FeatureTable, IndicatorRow, RlDataset, SeriesBar } from '../../research/types.ts';

function memo<T>(fn: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= fn());
}

export class ChainData {
  private loadBars: (() => Promise<Bar[]>) | null = null;
  private barsAsked = false;
  /** Set when the dataset stands for a recorded L4 run: a rebuilt dataset must have its sha256. */
  private expected: { runId: number; hash: string } | null = null;
  /** Options of the L3 features and the L4 dataset this chain computes with. */
  featureOptions: FeatureOptions = {};
  datasetConfig: RlDatasetConfig = {};

  constructor(
    readonly symbol: string,
    /** The symbol's market: its sessions make the series and partition the layers' files. */
    readonly calendar: MarketCalendar,
  ) {}

  /** Where the bars come from; may change until something asks for them. */
  setBarSource(load: () => Promise<Bar[]>): void {
    if (this.barsAsked) throw new TasaError('internal', `The bars of ${this.symbol} were already read; their source cannot change.`);
    this.loadBars = load;
  }

  /** The dataset must come out with this sha256 (it rebuilds L4 run `runId`). */
  expectDatasetHash(runId: number, hash: string): void {
    this.expected = { runId, hash };
  }

  readonly bars = memo(async () => {
    this.barsAsked = true;
    if (this.loadBars === null) throw new TasaError('internal', `The pipeline of ${this.symbol} asked for bars before knowing where they come from.`);
    return this.loadBars();
  });

  readonly series = memo(async (): Promise<SeriesBar[]> => {
    const series = toSeries(await this.bars(), this.calendar);
    if (series.length === 0) throw new TasaError('not_found', `None of the bars of ${this.symbol} lies inside a session.`, { input: this.symbol });
    return series;
  });

  readonly indicators = memo(async (): Promise<IndicatorRow[]> => computeIndicators(await this.series()));

  readonly features = memo(async (): Promise<FeatureTable> => computeFeatures(await this.series(), await this.indicators(), this.featureOptions));

  readonly dataset = memo(async (): Promise<RlDataset> => {
    const dataset = buildRlDataset(this.symbol, await this.series(), await this.features(), this.datasetConfig);
    const expected = this.expected;
    if (expected !== null && dataset.hash !== expected.hash) {
      throw new TasaError('conflict', `The L4 dataset of run ${expected.runId} rebuilt by this code has sha256 ${dataset.hash}, not the recorded ${expected.hash}.`, {
        input: String(expected.runId),
        hint: 'Rerun the pipeline from L2 (tasa pipeline run --layers L2-L6).',
      });
    }
    return dataset;
  });
}
