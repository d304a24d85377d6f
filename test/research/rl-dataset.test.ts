import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TasaError } from '../../src/errors.ts';
import { computeFeatures } from '../../src/research/features.ts';
import { computeIndicators } from '../../src/research/indicators.ts';
import { buildRlDataset, normalizeRow, observationAt, seriesObserver, type RlDatasetConfig } from '../../src/research/rl-dataset.ts';
import { sessionRanges } from '../../src/research/series.ts';
import type { RlDataset, SeriesBar } from '../../src/research/types.ts';
import { syntheticSeries } from './synthetic-series.ts';

const SYMBOL = 'USD/COP';
const build = (series: readonly SeriesBar[], config?: RlDatasetConfig): RlDataset => buildRlDataset(SYMBOL, series, computeFeatures(series, computeIndicators(series)), config);

// ~44 sessions, a few of them one bar long (skipped) and some short.
const series = syntheticSeries(2500, { seed: 17, oneBarSessionRate: 0.1 });
const dataset = build(series);
const ranges = sessionRanges(series);
const usable = ranges.filter((r) => r.end - r.start >= 2).map((r) => r.session);
const lastTrainTime = (() => {
  const train = dataset.episodes.filter((e) => e.split === 'train');
  const last = train[train.length - 1]!;
  return last.times[last.times.length - 1]!;
})();

function moveBars(which: (bar: SeriesBar) => boolean, factor: number): SeriesBar[] {
  return series.map((b) => (which(b) ? { ...b, open: b.open * factor, high: b.high * factor, low: b.low * factor, close: b.close * factor } : b));
}

describe('RL dataset: episodes and splits', () => {
  it('skips sessions with fewer than two bars and reports them', () => {
    const skipped = ranges.filter((r) => r.end - r.start < 2).map((r) => ({ session: r.session, bars: r.end - r.start }));
    assert.ok(skipped.length >= 2, 'the fixture has one-bar sessions');
    assert.deepEqual(dataset.skippedSessions, skipped);
    for (const { session } of skipped) assert.ok(!dataset.episodes.some((e) => e.session === session));
  });

  it('splits chronologically, 70/15/15 of the usable sessions, with 2 purged sessions before validation and test', () => {
    const n = usable.length;
    const labels = dataset.episodes.map((e) => e.split);
    const order = { train: 0, validation: 1, test: 2 };
    for (let i = 1; i < labels.length; i++) assert.ok(order[labels[i - 1]!] <= order[labels[i]!], 'splits in time order');
    const sessions = dataset.episodes.map((e) => e.session);
    assert.deepEqual(sessions, [...sessions].sort());
    const trainEnd = Math.round(n * 0.7);
    const validationEnd = Math.round(n * 0.85);
    const expected = [...usable.slice(0, trainEnd), ...usable.slice(trainEnd + 2, validationEnd), ...usable.slice(validationEnd + 2)];
    assert.deepEqual(sessions, expected);
    assert.equal(dataset.purgeSessions, 2);
    for (const [split, list] of [
      ['train', usable.slice(0, trainEnd)],
      ['validation', usable.slice(trainEnd + 2, validationEnd)],
      ['test', usable.slice(validationEnd + 2)],
    ] as const) {
      assert.deepEqual(dataset.splits[split], { from: list[0], to: list[list.length - 1], sessions: list.length });
    }
    // Exactly two usable sessions lie between the last train session and the first validation one.
    const gap = usable.indexOf(dataset.splits.validation.from) - usable.indexOf(dataset.splits.train.to) - 1;
    assert.equal(gap, 2);
    assert.equal(usable.indexOf(dataset.splits.test.from) - usable.indexOf(dataset.splits.validation.to) - 1, 2);
  });

  it('purgeSessions 0 leaves no gap', () => {
    const unpurged = build(series, { purgeSessions: 0 });
    assert.equal(unpurged.episodes.length, usable.length);
  });

  it('an episode holds its bars, opens, closes and n x featureCount features', () => {
    const f = dataset.featureNames.length;
    for (const e of dataset.episodes) {
      const range = ranges.find((r) => r.session === e.session)!;
      const bars = series.slice(range.start, range.end);
      assert.deepEqual([...e.times], bars.map((b) => b.time));
      assert.deepEqual([...e.opens], bars.map((b) => b.open));
      assert.deepEqual([...e.closes], bars.map((b) => b.close));
      assert.equal(e.features.length, bars.length * f);
      assert.equal(e.mask.length, bars.length * f);
    }
  });
});

describe('RL dataset: normalization', () => {
  it('uses the training split only: moving every later bar leaves means and stds unchanged', () => {
    const moved = build(moveBars((b) => b.time > lastTrainTime, 1.07));
    assert.deepEqual(moved.normalization, dataset.normalization);
    assert.notEqual(moved.hash, dataset.hash, 'the later bars did change the dataset');
  });

  it('moving a training bar changes them', () => {
    const moved = build(moveBars((b) => b.time === dataset.episodes[3]!.times[5], 1.01));
    assert.notDeepEqual(moved.normalization.means, dataset.normalization.means);
  });

  it('normalized training values have mean 0 and std 1 (without clipping); missing values are 0 with mask 0', () => {
    const unclipped = build(series, { clip: Infinity });
    assert.equal(unclipped.normalization.clip, undefined);
    assert.deepEqual(unclipped.normalization.means, dataset.normalization.means);
    const f = unclipped.featureNames.length;
    const train = unclipped.episodes.filter((e) => e.split === 'train');
    let missing = 0;
    for (let j = 0; j < f; j++) {
      const values: number[] = [];
      for (const e of train) {
        for (let i = 0; i < e.times.length; i++) {
          if (e.mask[i * f + j] === 1) values.push(e.features[i * f + j]!);
          else {
            missing++;
            assert.equal(e.features[i * f + j], 0);
          }
        }
      }
      const mean = values.reduce((s, x) => s + x, 0) / values.length;
      const std = Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / values.length);
      assert.ok(Math.abs(mean) < 1e-5, `${unclipped.featureNames[j]} mean ${mean}`);
      assert.ok(Math.abs(std - 1) < 1e-5, `${unclipped.featureNames[j]} std ${std}`);
    }
    assert.ok(missing > 0, 'warm-up rows are masked');
  });

  it('limits normalized values to ±clip (default 10)', () => {
    const clipped = build(series, { clip: 2 });
    const free = build(series, { clip: Infinity });
    assert.equal(dataset.normalization.clip, 10);
    let hits = 0;
    for (const [k, e] of clipped.episodes.entries()) {
      const raw = free.episodes[k]!.features;
      for (let i = 0; i < raw.length; i++) {
        const expected = Math.max(-2, Math.min(2, raw[i]!));
        assert.equal(e.features[i], expected);
        if (expected !== raw[i]) hits++;
      }
    }
    assert.ok(hits > 0, 'some values were beyond 2 stds');
  });

  it('normalizeRow normalizes a raw row exactly as the episodes', () => {
    const table = computeFeatures(series, computeIndicators(series));
    const e = dataset.episodes[7]!;
    const f = dataset.featureNames.length;
    for (const i of [0, 3, e.times.length - 1]) {
      const row = table.times.indexOf(e.times[i]!);
      const { features, mask } = normalizeRow(table.columns.map((c) => c[row]!), dataset.normalization);
      assert.deepEqual(features, e.features.slice(i * f, (i + 1) * f));
      assert.deepEqual(mask, e.mask.slice(i * f, (i + 1) * f));
    }
    assert.throws(() => normalizeRow([1, 2], dataset.normalization), TasaError);
  });
});

describe('RL dataset: hash', () => {
  it('is a stable sha256 across two builds', () => {
    assert.match(dataset.hash, /^[0-9a-f]{64}$/);
    assert.equal(build(series).hash, dataset.hash);
  });

  it('changes with the config and with the data', () => {
    const hashes = [
      dataset.hash,
      build(series, { window: 10 }).hash,
      build(series, { costs: { spreadBps: 3, feeBps: 0.5 } }).hash,
      build(series, { purgeSessions: 3 }).hash,
      build(series, { trainFraction: 0.6, validationFraction: 0.2, testFraction: 0.2 }).hash,
      build(series, { clip: 5 }).hash,
      buildRlDataset('EUR/USD', series, computeFeatures(series, computeIndicators(series))).hash,
      build(moveBars((b) => b.time === series[series.length - 1]!.time, 1.0001)).hash,
      // No feature reads the open: only the episode's opens, which price the rewards, see this change.
      build(series.map((b, i) => (i === series.length - 2 ? { ...b, open: b.open * 1.0001, high: Math.max(b.high, b.open * 1.0001) } : b))).hash,
    ];
    assert.equal(new Set(hashes).size, hashes.length);
  });
});

describe('RL dataset: observations', () => {
  const f = dataset.featureNames.length;
  const e = dataset.episodes[5]!;

  it('observationAt gives window x features, oldest first, zero-padded before the episode start', () => {
    assert.equal(dataset.window, 12);
    const first = observationAt(dataset, e, 0, 0);
    assert.equal(first.length, 12 * f);
    assert.ok(first.subarray(0, 11 * f).every((x) => x === 0));
    assert.deepEqual(first.subarray(11 * f), e.features.subarray(0, f));
    const later = observationAt(dataset, 5, 20, 1);
    assert.deepEqual(later, e.features.slice(9 * f, 21 * f));
    const third = observationAt(dataset, e, 2, -1);
    assert.deepEqual(third.subarray(9 * f), e.features.subarray(0, 3 * f));
    assert.ok(third.subarray(0, 9 * f).every((x) => x === 0));
  });

  it('seriesObserver maps series rows to their episode observation, and refuses rows of no episode', () => {
    const observe = seriesObserver(dataset, series);
    const row = series.findIndex((b) => b.time === e.times[20]);
    assert.deepEqual(observe(row, 0), observationAt(dataset, e, 20, 0));
    const skippedRow = series.findIndex((b) => b.session === dataset.skippedSessions![0]!.session);
    assert.throws(() => observe(skippedRow, 0), TasaError);
    assert.throws(() => observe(series.length, 0), TasaError);
  });

  it('observationAt rejects an index outside the episode', () => {
    assert.throws(() => observationAt(dataset, e, e.times.length, 0), TasaError);
    assert.throws(() => observationAt(dataset, dataset.episodes.length, 0, 0), TasaError);
  });
});

describe('RL dataset: bad input', () => {
  it('rejects bad fractions, a history too short to fill every split and a mismatched table', () => {
    assert.throws(() => build(series, { trainFraction: 0.8 }), TasaError);
    assert.throws(() => build(series, { window: 0 }), TasaError);
    assert.throws(() => build(series.slice(0, 300)), TasaError);
    const table = computeFeatures(series, computeIndicators(series));
    assert.throws(() => buildRlDataset(SYMBOL, series.slice(1), table), TasaError);
  });
});
