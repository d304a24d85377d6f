import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BAR_MS } from '../../src/domain/bar.ts';
import { instrumentCalendar } from '../../src/domain/calendar.ts';
import { bogotaDate } from '../../src/domain/time.ts';
import { TasaError } from '../../src/errors.ts';
import { runBacktest } from '../../src/research/backtest.ts';
import { downsampleEquity } from '../../src/research/equity-curve.ts';
import { computePerformance } from '../../src/research/performance.ts';
import { prng, syntheticSeries } from './synthetic-series.ts';

/** 2024-01-02 and 2024-01-03, 08:00 Bogota (13:00Z). */
const DAY1 = Date.UTC(2024, 0, 2, 13);
const DAY2 = Date.UTC(2024, 0, 3, 13);
const USD_COP = instrumentCalendar('USD/COP');

function times(...starts: Array<[number, number]>): Float64Array {
  const out: number[] = [];
  for (const [open, bars] of starts) for (let i = 0; i < bars; i++) out.push(open + i * BAR_MS);
  return Float64Array.from(out);
}

describe('downsampleEquity', () => {
  it('keeps every bar when they fit, with the drawdown from the initial equity as first peak', () => {
    const t = times([DAY1, 3]);
    const d = downsampleEquity(t, [95, 100, 90], USD_COP, 10, 100);
    assert.deepEqual(d.points, [
      [t[0], 95, 1 - 95 / 100],
      [t[1], 100, 0],
      [t[2], 90, 1 - 90 / 100],
    ]);
    assert.equal(d.sessionsPerPoint, 1);
    assert.equal(d.bars, 3);
    assert.equal(d.sessions, 1);
  });

  it('ends a bucket at each session close and keeps the deepest drawdown inside it (hand-checked)', () => {
    const t = times([DAY1, 4], [DAY2, 2]);
    const d = downsampleEquity(t, [100, 110, 99, 105, 120, 90], USD_COP, 2, 100);
    assert.equal(d.points.length, 2);
    assert.deepEqual(d.points[0], [t[3], 105, 1 - 99 / 110]);
    assert.deepEqual(d.points[1], [t[5], 90, 1 - 90 / 120]);
    assert.equal(d.sessionsPerPoint, 1);
  });

  it('groups whole sessions when there are more sessions than points', () => {
    const t = times([DAY1, 2], [DAY2, 2], [Date.UTC(2024, 0, 4, 13), 2], [Date.UTC(2024, 0, 5, 13), 2], [Date.UTC(2024, 0, 8, 13), 2]);
    const equity = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const d = downsampleEquity(t, equity, USD_COP, 2, 1);
    assert.equal(d.sessionsPerPoint, 3);
    assert.deepEqual(
      d.points.map((p) => p[1]),
      [6, 10],
    );
    assert.equal(d.sessions, 5);
  });

  it('on a real backtest: at most maxPoints, every session close kept, max drawdown exact', () => {
    const series = syntheticSeries(3000, { seed: 11 });
    const random = prng(5);
    const targets = Int8Array.from(series, () => Math.floor(random() * 3) - 1);
    const run = runBacktest(series, targets, { spreadBps: 1, feeBps: 0.5 });
    const maxPoints = 400;
    const d = downsampleEquity(run.times, run.equity, USD_COP, maxPoints, run.initialEquity);
    assert.ok(d.points.length <= maxPoints && d.points.length > maxPoints / 2, `${d.points.length} points`);
    const metrics = computePerformance(run, 60 * 250);
    assert.equal(Math.max(...d.points.map((p) => p[2])), metrics.maxDrawdown);
    const stored = new Set(d.points.map((p) => p[0]));
    for (let i = 0; i < series.length; i++) {
      const last = i === series.length - 1 || series[i + 1]!.session !== series[i]!.session;
      if (last) assert.ok(stored.has(run.times[i]!), `session close of ${series[i]!.session} kept`);
    }
    assert.equal(new Set(d.points.map((p) => bogotaDate(p[0]))).size, d.sessions);
    // A chart of the stored curve spans the whole run: from the first bar's mark to the last.
    assert.deepEqual(d.points[0], [run.times[0], run.equity[0], Math.max(0, 1 - run.equity[0]! / run.initialEquity)]);
    assert.deepEqual(d.points.at(-1)?.slice(0, 2), [run.times.at(-1), run.equity.at(-1)]);
  });

  it('keeps the first bar as a point of its own only while there are fewer sessions than points', () => {
    const t = times([DAY1, 4], [DAY2, 2]);
    const d = downsampleEquity(t, [100, 110, 99, 105, 120, 90], USD_COP, 3, 100);
    assert.deepEqual(
      d.points.map((p) => [p[0], p[1]]),
      [
        [t[0], 100],
        [t[3], 105],
        [t[5], 90],
      ],
    );
    assert.deepEqual(d.points[1], [t[3], 105, 1 - 99 / 110], 'the deepest drawdown of bars 1-3');
  });

  it('returns nothing for an empty curve and names bad input', () => {
    assert.deepEqual(downsampleEquity([], [], USD_COP, 10).points, []);
    assert.throws(() => downsampleEquity([1, 2], [1], USD_COP, 10), (e: unknown) => e instanceof TasaError && /one time per mark/.test(e.message));
    assert.throws(() => downsampleEquity([1], [1], USD_COP, 0), (e: unknown) => e instanceof TasaError && e.input === 'maxPoints');
    assert.throws(() => downsampleEquity([2, 1], [1, 1], USD_COP, 10), (e: unknown) => e instanceof TasaError && e.input === 'times');
    assert.throws(() => downsampleEquity([1], [1], USD_COP, 10, 0), (e: unknown) => e instanceof TasaError && e.input === 'initialEquity');
  });
});

describe('downsampleEquity in another market', () => {
  /** EUR/USD's session dated 2026-04-01 opens at 17:00 New York (EDT) on 31 March: 21:00Z, 16:00 Bogota. */
  const NEW_YORK_CLOSE = Date.UTC(2026, 2, 31, 21);

  it('splits EUR/USD sessions at 17:00 New York, not at Bogota midnight', () => {
    const t = times([NEW_YORK_CLOSE - 3 * BAR_MS, 3], [NEW_YORK_CLOSE, 3]);
    const equity = [100, 101, 102, 103, 104, 105];
    const eurUsd = downsampleEquity(t, equity, instrumentCalendar('EUR/USD'), 2, 100);
    assert.equal(eurUsd.sessions, 2);
    assert.deepEqual(
      eurUsd.points.map((p) => [p[0], p[1]]),
      [
        [t[2], 102],
        [t[5], 105],
      ],
      'each session closes a point: 16:55 and 17:10 New York',
    );
    // The same bars all lie on 2026-03-31 in Bogota: one USD/COP-style session.
    assert.equal(downsampleEquity(t, equity, USD_COP, 2, 100).sessions, 1);
  });
});
