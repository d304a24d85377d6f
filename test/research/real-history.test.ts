/**
 * Sanity check of L2-L4 on the real 2020-2025 USD/COP history (flat bars, gaps, short sessions).
 * Skips when ../shared/data is absent: nothing else depends on it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { computeFeatures } from '../../src/research/features.ts';
import { computeIndicators, indicatorColumn, WARMUP } from '../../src/research/indicators.ts';
import { buildRlDataset } from '../../src/research/rl-dataset.ts';
import { toSeries } from '../../src/research/series.ts';
import { INDICATOR_NAMES } from '../../src/research/types.ts';
import { realBars, REAL_FILE_SKIP } from '../support/real-history.ts';

describe('research layers on the real history', { skip: REAL_FILE_SKIP }, () => {
  it('give indicators after warm-up, features NaN only where documented, and a dataset with three splits', async () => {
    const calendar = new MarketCalendar();
    const series = toSeries(await realBars(calendar), calendar);
    assert.ok(series.length > 70_000, `${series.length} session bars`);

    const indicators = computeIndicators(series);
    for (const name of INDICATOR_NAMES) {
      const values = indicatorColumn(indicators, name);
      const missing = values.filter(Number.isNaN).length;
      assert.equal(missing, WARMUP[name] - 1, `${name}: ${missing} NaN rows`);
    }

    const table = computeFeatures(series, indicators);
    const sessions = new Set(series.map((b) => b.session)).size;
    // bb_position is missing exactly on the band's warm-up and where its 20 closes are all equal (zero width).
    const window = WARMUP.bbUpper;
    let flatWindows = 0;
    for (let i = window - 1; i < series.length; i++) {
      const closes = series.slice(i - window + 1, i + 1).map((b) => b.close);
      if (Math.max(...closes) === Math.min(...closes)) flatWindows++;
    }
    for (const [j, name] of table.names.entries()) {
      const missing = table.columns[j]!.filter((x) => !Number.isFinite(x)).length;
      if (name === 'bb_position') assert.equal(missing, window - 1 + flatWindows, `${name}: ${missing} missing values, ${flatWindows} flat windows`);
      // Each session's first bar is the documented exception of rv_session.
      else assert.ok(missing <= (name === 'rv_session' ? sessions : 60), `${name}: ${missing} missing values`);
    }

    const dataset = buildRlDataset('USD/COP', series, table);
    for (const split of ['train', 'validation', 'test'] as const) assert.ok(dataset.splits[split].sessions > 100, `${split}: ${dataset.splits[split].sessions} sessions`);
    assert.ok(dataset.splits.train.to < dataset.splits.validation.from && dataset.splits.validation.to < dataset.splits.test.from);
    for (const e of dataset.episodes) assert.ok(e.features.every((x) => Math.abs(x) <= 10));
  });
});
