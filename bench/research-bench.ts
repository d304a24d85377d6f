/**
 * Research figures: indicators (L2), features (L3) and the RL dataset (L4) over ~80k synthetic
 * bars (the real 2020-2025 history has ~78k session bars), all in memory.
 */
import { computeFeatures } from '../src/research/features.ts';
import { computeIndicators, IndicatorState } from '../src/research/indicators.ts';
import { buildRlDataset } from '../src/research/rl-dataset.ts';
import { syntheticSeries } from '../test/research/synthetic-series.ts';
import { bestOf, formatMs, formatRate, record } from './harness.ts';

const BARS = 80_000;

export async function benchIndicators(): Promise<void> {
  const series = syntheticSeries(BARS, { seed: 1, from: Date.parse('2020-01-02T00:00:00Z') });
  const n = series.length;
  const note = `${n.toLocaleString('en-US')} synthetic bars`;

  const indicatorsMs = await bestOf(3, () => computeIndicators(series));
  record('research', 'indicators, batch (L2)', formatRate(n, indicatorsMs, 'bars'), `${note}, 12 indicators`);

  const streamingMs = await bestOf(3, () => {
    const state = new IndicatorState();
    for (const bar of series) {
      state.add(bar);
      state.replace(bar);
    }
  });
  record('research', 'indicators, streaming add + replace', formatRate(n, streamingMs, 'bars'), note);

  const indicators = computeIndicators(series);
  const featuresMs = await bestOf(3, () => computeFeatures(series, indicators));
  const table = computeFeatures(series, indicators);
  record('research', 'features (L3)', formatRate(n, featuresMs, 'bars'), `${note}, ${table.names.length} features`);

  const datasetMs = await bestOf(3, () => buildRlDataset('USD/COP', series, table));
  const dataset = buildRlDataset('USD/COP', series, table);
  record('research', 'RL dataset build + sha256 (L4)', formatMs(datasetMs), `${note}, ${dataset.episodes.length} episodes`);
}
