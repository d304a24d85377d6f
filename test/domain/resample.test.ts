import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BAR_MS, type Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { CandleResampler, bucketAt, provenanceSegments, resampleBars } from '../../src/domain/resample.ts';

const calendar = new MarketCalendar();
const OPEN = Date.UTC(2024, 0, 2, 13, 0);
const NEXT_OPEN = Date.UTC(2024, 0, 3, 13, 0);

function bar(time: number, open: number, high: number, low: number, close: number): Bar {
  return { symbol: 'USD/COP', time, open, high, low, close, volume: 0, tickCount: null, source: 'import', revision: 1, flags: [] };
}

/** Slot i of a session: distinct values so that each OHLC field has one right answer. */
function slot(sessionOpen: number, i: number): Bar {
  return bar(sessionOpen + i * BAR_MS, 4000 + i, 4010 + ((i * 7) % 13), 3990 - ((i * 5) % 11), 4001 + i);
}

describe('resampling 5-minute bars into candles', () => {
  it('makes one hour candle of twelve bars: first open, highest high, lowest low, last close', () => {
    const bars = Array.from({ length: 12 }, (_, i) => slot(OPEN, i));
    const [candle, ...rest] = resampleBars(calendar, '1h', bars);
    assert.deepEqual(rest, []);
    assert.deepEqual(candle, {
      time: OPEN,
      session: '2024-01-02',
      open: 4000,
      high: Math.max(...bars.map((b) => b.high)),
      low: Math.min(...bars.map((b) => b.low)),
      close: 4012,
      bars: 12,
      expected: 12,
      complete: true,
      simulated: false,
      sources: ['import'],
    });
  });

  it('aligns buckets to the session open and flags buckets with missing bars incomplete', () => {
    const bars = [0, 1, 2, 4, 5, 6, 7, 8].map((i) => slot(OPEN, i));
    const candles = resampleBars(calendar, '15min', bars);
    assert.deepEqual(
      candles.map((c) => [new Date(c.time).toISOString(), c.bars, c.complete, c.open, c.close]),
      [
        ['2024-01-02T13:00:00.000Z', 3, true, 4000, 4003],
        ['2024-01-02T13:15:00.000Z', 2, false, 4004, 4006],
        ['2024-01-02T13:30:00.000Z', 3, true, 4006, 4009],
      ],
    );
  });

  it('never lets a bucket span two sessions; 1day is the session', () => {
    const bars = [...[58, 59].map((i) => slot(OPEN, i)), ...[0, 1].map((i) => slot(NEXT_OPEN, i))];
    const hours = resampleBars(calendar, '1h', bars);
    assert.deepEqual(
      hours.map((c) => [new Date(c.time).toISOString(), c.session, c.bars, c.expected]),
      [
        ['2024-01-02T17:00:00.000Z', '2024-01-02', 2, 12],
        ['2024-01-03T13:00:00.000Z', '2024-01-03', 2, 12],
      ],
    );
    const days = resampleBars(calendar, '1day', bars);
    assert.deepEqual(
      days.map((c) => [c.session, c.bars, c.expected, c.complete, c.open, c.close]),
      [
        ['2024-01-02', 2, 60, false, 4058, 4060],
        ['2024-01-03', 2, 60, false, 4000, 4002],
      ],
    );
  });

  it('4h is session-aligned: 08:00-12:00 of 48 bars, then the last hour 12:00-13:00 expecting 12', () => {
    const bars = Array.from({ length: 60 }, (_, i) => slot(OPEN, i));
    const candles = resampleBars(calendar, '4h', bars);
    assert.deepEqual(
      candles.map((c) => [c.time, c.bars, c.expected, c.complete, c.open, c.close]),
      [
        [OPEN, 48, 48, true, 4000, 4048],
        [OPEN + 4 * 3600_000, 12, 12, true, 4048, 4060],
      ],
    );
    assert.deepEqual(bucketAt(calendar, '4h', OPEN + 4 * 3600_000 + BAR_MS), { open: OPEN + 4 * 3600_000, end: OPEN + 5 * 3600_000, session: calendar.sessionFor('2024-01-02'), expected: 12 });
  });

  it('1w is the Bogota trading week from Monday: one candle over its sessions, a holiday week expecting fewer bars', () => {
    // Week of Monday 2024-01-01 (a holiday): Tue-Fri. Week of Monday 2024-01-08 (a holiday): Tue 9 - Fri 12.
    const days = ['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-09', '2024-01-12'];
    const bars = days.flatMap((d) => Array.from({ length: 60 }, (_, i) => slot(calendar.sessionFor(d)!.open, i)));
    const candles = resampleBars(calendar, '1w', bars);
    assert.deepEqual(
      candles.map((c) => [new Date(c.time).toISOString(), c.session, c.bars, c.expected, c.complete, c.open, c.close]),
      [
        ['2024-01-02T13:00:00.000Z', '2024-01-02', 240, 240, true, 4000, 4060],
        ['2024-01-09T13:00:00.000Z', '2024-01-09', 120, 240, false, 4000, 4060],
      ],
    );
    const lastClose = calendar.sessionFor('2024-01-12')!.close;
    // Wednesday night and Saturday of that week: inside the week's span, and after its last close.
    assert.equal(bucketAt(calendar, '1w', Date.parse('2024-01-11T03:00:00Z'))?.end, lastClose);
    assert.equal(bucketAt(calendar, '1w', Date.parse('2024-01-13T15:00:00Z')), null);
  });

  it('5min keeps each bar as its own complete candle; bars outside sessions are ignored', () => {
    const outside = bar(Date.UTC(2024, 0, 2, 12, 55), 1, 1, 1, 1);
    const candles = resampleBars(calendar, '5min', [outside, slot(OPEN, 0), slot(OPEN, 1)]);
    assert.deepEqual(
      candles.map((c) => [c.time, c.bars, c.complete]),
      [
        [OPEN, 1, true],
        [OPEN + BAR_MS, 1, true],
      ],
    );
    assert.equal(bucketAt(calendar, '1h', outside.time), null);
  });

  it('never blends simulated and real bars into one candle: the bucket is split where the provenance changes', () => {
    const simulated = (b: Bar): Bar => ({ ...b, source: 'simulator', flags: ['backfilled'] });
    // 13:00-13:15 real, 13:15 real then 13:20 and 13:25 simulated, 13:30-13:45 simulated.
    const bars = [0, 1, 2, 3].map((i) => slot(OPEN, i)).concat([4, 5, 6, 7, 8].map((i) => simulated(slot(OPEN, i))));
    const candles = resampleBars(calendar, '15min', bars);
    assert.deepEqual(
      candles.map((c) => [new Date(c.time).toISOString(), c.simulated, c.sources, c.bars, c.complete, c.open, c.close]),
      [
        ['2024-01-02T13:00:00.000Z', false, ['import'], 3, true, 4000, 4003],
        ['2024-01-02T13:15:00.000Z', false, ['import'], 1, false, 4003, 4004],
        ['2024-01-02T13:20:00.000Z', true, ['simulator'], 2, false, 4004, 4006],
        ['2024-01-02T13:30:00.000Z', true, ['simulator'], 3, true, 4006, 4009],
      ],
    );
    assert.deepEqual(
      provenanceSegments(candles).map((g) => [new Date(g.from).toISOString(), new Date(g.to).toISOString(), g.simulated, g.candles]),
      [
        ['2024-01-02T13:00:00.000Z', '2024-01-02T13:15:00.000Z', false, 2],
        ['2024-01-02T13:20:00.000Z', '2024-01-02T13:30:00.000Z', true, 2],
      ],
    );
  });

  it('refuses bars out of time order', () => {
    const r = new CandleResampler(calendar, '15min');
    r.add(slot(OPEN, 6));
    assert.throws(() => r.add(slot(OPEN, 0)), /time order/);
  });
});
