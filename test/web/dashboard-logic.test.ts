/**
 * The dashboard's pure parts, in Node: prices and zoned times (each market's own zone, named), the
 * session rules of an instrument (its zone, hours, a session opening the day before), the fold of
 * live 5-minute bars into longer candles, the indicator reshaping, and the Prometheus text reader of the System view.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, cop, decimal, duration, elapsed, integer, MISSING, percent, price, signed, zonedClock, zonedDateTime, zonedMinute } from '../../src/web/format.ts';
import { inSessionHours, sessionDateOf, sessionOpenOn, wallTime, type SessionRules } from '../../src/web/market-time.ts';
import { Metrics, parsePrometheusText } from '../../src/web/prom-text.ts';
import { candlePoints, linePoints, provenanceMarkers, segmentSummary, sessionsBetween, SIMULATED_COLORS, sourceSummary } from '../../src/web/chart-series.ts';
import type { CandlesResponse } from '../../src/contracts/api/candles.ts';
import { bucketStart, candlesFrom, foldBucket, foldTick, indicatorSeries, indicatorsByTime, INTERVALS, minuteCoverageText, ticksFromOf } from '../../src/web/views/candles.ts';
import { CANDLESTICK_INTERVALS } from '../../src/contracts/candle-intervals.ts';

const T = (iso: string) => Date.parse(iso);
const WEEKDAYS = [1, 2, 3, 4, 5];
/** The shipped instruments' session rules, as GET /api/instruments gives them. */
const COP: SessionRules = { zone: 'America/Bogota', open: '08:00', close: '13:00', opensDayBefore: false, weekdays: WEEKDAYS };
const BRL: SessionRules = { zone: 'America/Sao_Paulo', open: '09:00', close: '17:00', opensDayBefore: false, weekdays: WEEKDAYS };
const EUR: SessionRules = { zone: 'America/New_York', open: '17:00', close: '17:00', opensDayBefore: true, weekdays: WEEKDAYS };

describe('formatting', () => {
  it('writes COP with thousands separators and 2 decimals, and missing values as a dash', () => {
    assert.equal(cop(3921.5), '3,921.50');
    assert.equal(cop(4_210_123.456), '4,210,123.46');
    assert.equal(price(5.12345, 4), '5.1235', 'USD/BRL: 4 decimals');
    assert.equal(signed(-0.00012, 5), '-0.00012');
    assert.equal(signed(12.3), '+12.30');
    assert.equal(signed(-0.5), '-0.50');
    assert.equal(integer(1234567), '1,234,567');
    assert.equal(percent(0.01234), '1.23 %');
    assert.equal(decimal(1.23456, 3), '1.235');
    for (const missing of [null, undefined, NaN, Infinity]) {
      assert.equal(cop(missing), MISSING);
      assert.equal(percent(missing), MISSING);
    }
  });

  it("shows times in the market's own zone, named, and dates sessions there", () => {
    assert.equal(zonedDateTime('America/Bogota', '2024-01-02T13:00:00Z'), '2024-01-02 08:00:00 America/Bogota');
    assert.equal(zonedDateTime('America/Bogota', T('2024-01-03T04:59:59Z')), '2024-01-02 23:59:59 America/Bogota');
    assert.equal(zonedMinute('America/Bogota', T('2024-01-02T17:55:00Z')), '2024-01-02 12:55 America/Bogota');
    assert.equal(zonedClock('America/Bogota', '2024-01-02T15:04:05Z'), '10:04:05 America/Bogota');
    assert.equal(zonedDateTime('America/Sao_Paulo', '2024-01-02T13:00:00Z'), '2024-01-02 10:00:00 America/Sao_Paulo');
    assert.equal(zonedDateTime('America/Bogota', null), MISSING);
    assert.equal(sessionDateOf(COP, T('2024-01-03T04:00:00Z')), '2024-01-02');
  });

  it("knows each market's session: its zone's wall time with daylight saving, and a session that opens the day before", () => {
    assert.equal(wallTime('America/New_York', '2024-07-01', '17:00'), T('2024-07-01T21:00:00Z'), 'EDT, UTC-4');
    assert.equal(wallTime('America/New_York', '2024-01-02', '17:00'), T('2024-01-02T22:00:00Z'), 'EST, UTC-5');
    assert.equal(sessionOpenOn(BRL, '2024-01-02'), T('2024-01-02T12:00:00Z'));
    // EUR/USD: Monday's session opens Sunday 17:00 New York.
    assert.equal(sessionOpenOn(EUR, '2024-07-01'), T('2024-06-30T21:00:00Z'));
    assert.equal(sessionDateOf(EUR, T('2024-06-30T21:00:00Z')), '2024-07-01');
    assert.equal(sessionDateOf(EUR, T('2024-06-30T20:59:00Z')), '2024-06-30');
    assert.equal(inSessionHours(EUR, T('2024-06-30T22:00:00Z')), true, 'Sunday evening is Monday session');
    assert.equal(inSessionHours(EUR, T('2024-06-29T22:00:00Z')), false, 'Saturday evening');
    assert.equal(inSessionHours(BRL, T('2024-01-02T19:59:00Z')), true, '16:59 Sao Paulo');
    assert.equal(inSessionHours(BRL, T('2024-01-02T20:00:00Z')), false, '17:00 Sao Paulo');
    assert.equal(inSessionHours(COP, T('2024-01-02T19:59:00Z')), false, '14:59 Bogota');
    assert.equal(bucketStart(T('2024-01-02T19:55:00Z'), '1day', BRL), T('2024-01-02T12:00:00Z'));
    assert.equal(bucketStart(T('2024-01-02T16:10:00Z'), '4h', BRL), T('2024-01-02T16:00:00Z'), '4h from the 09:00 open: 13:00-17:00 Sao Paulo');
    assert.equal(bucketStart(T('2024-07-03T12:00:00Z'), '1w', EUR), T('2024-06-30T21:00:00Z'), "the week's Monday session opens on Sunday");
  });

  it('writes durations and sizes for people', () => {
    assert.equal(duration(45_000), '45 s');
    assert.equal(duration(3 * 3_600_000 + 12 * 60_000), '3 h 12 min');
    assert.equal(duration(-5), '0 s');
    assert.equal(elapsed(850), '850 ms');
    assert.equal(bytes(12_345_678), '12.3 MB');
  });
});

describe('candles', () => {
  const bar = (iso: string, open: number, high: number, low: number, close: number, simulated = false) => ({
    time: T(iso),
    open,
    high,
    low,
    close,
    session: sessionDateOf(COP, T(iso)),
    simulated,
    source: simulated ? ('simulated' as const) : ('imported' as const),
  });

  it('puts a 5-minute bar in its bucket; daily buckets open at the session open', () => {
    assert.equal(bucketStart(T('2024-01-02T13:25:00Z'), '15min', COP), T('2024-01-02T13:15:00Z'));
    assert.equal(bucketStart(T('2024-01-02T13:55:00Z'), '1h', COP), T('2024-01-02T13:00:00Z'));
    assert.equal(bucketStart(T('2024-01-02T17:55:00Z'), '1day', COP), T('2024-01-02T13:00:00Z'));
    assert.equal(bucketStart(T('2024-01-02T13:05:00Z'), '5min', COP), T('2024-01-02T13:05:00Z'));
    // 4h: 08:00-12:00 and 12:00-13:00 Bogota; 1w: keyed by the Monday of the Bogota week (2024-01-08 is a holiday Monday).
    assert.equal(bucketStart(T('2024-01-02T16:55:00Z'), '4h', COP), T('2024-01-02T13:00:00Z'));
    assert.equal(bucketStart(T('2024-01-02T17:00:00Z'), '4h', COP), T('2024-01-02T17:00:00Z'));
    assert.equal(bucketStart(T('2024-01-12T17:55:00Z'), '1w', COP), T('2024-01-08T13:00:00Z'));
    assert.equal(bucketStart(T('2024-01-09T13:00:00Z'), '1w', COP), bucketStart(T('2024-01-08T13:00:00Z'), '1w', COP));
    assert.equal(bucketStart(T('2024-01-14T20:00:00Z'), '1w', COP), T('2024-01-08T13:00:00Z'), 'Sunday belongs to the week that began on Monday');
  });

  it('folds live bars into the stored candle: its open, every high and low, the latest close', () => {
    const stored = bar('2024-01-02T13:00:00Z', 100, 104, 99, 103);
    const live = [bar('2024-01-02T13:10:00Z', 102, 103, 98, 101), bar('2024-01-02T13:05:00Z', 103, 106, 102, 102)];
    assert.deepEqual(foldBucket(T('2024-01-02T13:00:00Z'), stored, live), { time: T('2024-01-02T13:00:00Z'), open: 100, high: 106, low: 98, close: 101, session: '2024-01-02', simulated: false, source: 'imported' });
    assert.deepEqual(foldBucket(T('2024-01-02T13:00:00Z'), undefined, live.slice(0, 1)), { ...live[0], time: T('2024-01-02T13:00:00Z') });
    assert.equal(foldBucket(T('2024-01-02T13:00:00Z'), undefined, []), null);
  });

  it('never folds live simulated bars into a stored real candle: they open their own candle at their first bar', () => {
    const stored = bar('2024-01-02T13:00:00Z', 100, 104, 99, 103);
    const live = [bar('2024-01-02T13:10:00Z', 502, 503, 498, 501, true)];
    assert.deepEqual(foldBucket(T('2024-01-02T13:00:00Z'), stored, live), { ...live[0], time: T('2024-01-02T13:10:00Z') });
  });

  it('1m: offers the API intervals (all but 30min), buckets by the minute, and moves the forming minute candle tick by tick', () => {
    assert.deepEqual(
      INTERVALS.map((i) => i.value),
      CANDLESTICK_INTERVALS.filter((i) => i !== '30min'),
    );
    assert.equal(INTERVALS[0]?.label, '1m');
    assert.equal(bucketStart(T('2024-01-02T13:07:59Z'), '1min', COP), T('2024-01-02T13:07:00Z'));
    const first = foldTick(undefined, 3950, T('2024-01-02T13:07:12Z'), false, COP);
    assert.deepEqual(first, { time: T('2024-01-02T13:07:00Z'), open: 3950, high: 3950, low: 3950, close: 3950, session: '2024-01-02', simulated: false, source: 'vendor' });
    const moved = foldTick(foldTick(first, 3955, T('2024-01-02T13:07:30Z'), false, COP), 3948, T('2024-01-02T13:07:59Z'), false, COP);
    assert.deepEqual([moved.time, moved.open, moved.high, moved.low, moved.close], [T('2024-01-02T13:07:00Z'), 3950, 3955, 3948, 3948]);
    // The stored candle of the minute (the history's) is extended; a tick of the next minute opens a new one.
    const stored = bar('2024-01-02T13:08:00Z', 100, 104, 99, 103);
    assert.deepEqual(foldTick(stored, 105, T('2024-01-02T13:08:40Z'), false, COP), { ...stored, high: 105, close: 105 });
    assert.equal(foldTick(moved, 3951, T('2024-01-02T13:08:01Z'), false, COP).time, T('2024-01-02T13:08:00Z'));
    // A simulated tick never extends a real candle: its part opens at the tick, as the server splits the minute.
    const split = foldTick(moved, 500, T('2024-01-02T13:07:40Z'), true, COP);
    assert.deepEqual([split.time, split.open, split.simulated, split.source], [T('2024-01-02T13:07:40Z'), 500, true, 'simulated']);
  });

  it('1m: takes live ticks inside session hours only, and says where 1-minute candles exist', () => {
    assert.equal(inSessionHours(COP, T('2024-01-02T13:00:00Z')), true);
    assert.equal(inSessionHours(COP, T('2024-01-02T17:59:59Z')), true);
    assert.equal(inSessionHours(COP, T('2024-01-02T12:59:59Z')), false);
    assert.equal(inSessionHours(COP, T('2024-01-02T18:00:00Z')), false);
    assert.equal(inSessionHours(COP, T('2024-01-06T15:00:00Z')), false, 'Saturday');
    assert.equal(ticksFromOf({ ticksFrom: '2026-11-25T13:00:05.000Z' }), T('2026-11-25T13:00:05Z'));
    assert.equal(ticksFromOf({ ticksFrom: null }), null);
    assert.equal(ticksFromOf({}), undefined);
    assert.equal(minuteCoverageText(T('2026-11-25T13:00:05Z'), 'America/Bogota'), '1-minute candles exist only where ticks are stored: since 2026-11-25 08:00 America/Bogota');
    assert.match(minuteCoverageText(null, 'America/Bogota'), /^No ticks are stored/);
    assert.match(minuteCoverageText(undefined, 'America/Bogota'), /only where ticks are stored/);
  });

  it('breaks the series where the provenance changes: an empty slot, simulated colours and a marker on each part', () => {
    // Real history ends 2025-06-27 12:55 Bogota; simulated bars start 2026-11-25 08:00.
    const candles = [bar('2025-06-27T17:50:00Z', 1, 2, 0.5, 1.5), bar('2025-06-27T17:55:00Z', 1.5, 2, 1, 2), bar('2026-11-25T13:00:00Z', 5, 6, 4, 4.5, true), bar('2026-11-25T13:05:00Z', 4.5, 5, 4, 4.8, true)];
    const { points, breaks } = candlePoints(candles, 300_000);
    assert.equal(breaks, 1);
    assert.equal(points.length, 5);
    const gap = points[2]!;
    assert.ok(!('open' in gap), 'the point between the last real and the first simulated candle is whitespace');
    assert.ok(Number(gap.time) > T('2025-06-27T17:55:00Z') / 1000 && Number(gap.time) < T('2026-11-25T13:00:00Z') / 1000);
    assert.deepEqual(
      points.filter((p) => 'open' in p).map((p) => ('color' in p ? p.color : undefined)),
      [undefined, undefined, SIMULATED_COLORS.down, SIMULATED_COLORS.up],
    );
    assert.equal(segmentSummary(candles), 'real:2,simulated:2');
    assert.deepEqual(
      provenanceMarkers([...candles, bar('2026-11-26T13:00:00Z', 1, 2, 0.5, 1.5)]).map((m) => [m.time, m.text]),
      [
        [T('2026-11-25T13:00:00Z') / 1000, 'simulated'],
        [T('2026-11-26T13:00:00Z') / 1000, 'real'],
      ],
    );
    // Indicator lines break there too.
    const line = linePoints(candles, [10, 11, null, 12]);
    assert.deepEqual(line.map((p) => ('value' in p ? p.value : 'gap')), [10, 11, 'gap', 12]);
    // One provenance: no break, nothing labelled.
    assert.equal(candlePoints(candles.slice(0, 2), 300_000).breaks, 0);
    assert.deepEqual(provenanceMarkers(candles.slice(0, 2)), []);
  });

  it('draws whole missing sessions as a break with the number of sessions missing, but not nights, weekends or holidays', () => {
    // Fri 2024-01-05, then Mon 2024-01-08 is a holiday (Reyes moved); Tue 9 and Wed 10 trade.
    const tradingDays = ['2024-01-04', '2024-01-05', '2024-01-09', '2024-01-10', '2024-01-11'];
    assert.equal(sessionsBetween(tradingDays, '2024-01-05', '2024-01-09'), 0);
    assert.equal(sessionsBetween(tradingDays, '2024-01-04', '2024-01-11'), 3);
    const friday = bar('2024-01-05T17:55:00Z', 1, 2, 0.5, 1.5);
    const tuesday = bar('2024-01-09T13:00:00Z', 1.5, 2, 1, 2);
    const thursday = bar('2024-01-11T13:00:00Z', 2, 3, 1, 2.5);
    const weekend = candlePoints([friday, tuesday], 300_000, tradingDays);
    assert.deepEqual([weekend.points.length, weekend.holes], [2, []], 'a weekend and a holiday take no room');
    const hole = candlePoints([friday, tuesday, thursday], 300_000, tradingDays);
    assert.deepEqual(hole.holes, [{ time: thursday.time, sessions: 1 }]);
    assert.equal(hole.points.length, 4);
    assert.ok(!('open' in hole.points[2]!), 'an empty slot before the candle after the hole');
    const line = linePoints([friday, tuesday, thursday], [1, 2, 3], tradingDays);
    assert.deepEqual(line.map((p) => ('value' in p ? p.value : 'gap')), [1, 2, 'gap', 3], 'indicator lines break at the hole too');
    assert.equal(line[2]?.time, hole.points[2]?.time, 'at the same empty slot as the candles');
  });

  it('marks each candle by its source, the least trustworthy of its bars', () => {
    const base = { open: 1, high: 2, low: 0.5, close: 1.5, bars: 12, expected: 12, complete: true, simulated: false };
    const r: CandlesResponse = {
      symbol: 'USD/COP',
      interval: '1h',
      count: 5,
      truncated: false,
      candles: [
        { ...base, time: '2024-01-02T13:00:00.000Z', sources: ['twelvedata_ws'] },
        { ...base, time: '2024-01-02T14:00:00.000Z', sources: ['import', 'twelvedata_rest'] },
        { ...base, time: '2024-01-02T15:00:00.000Z', sources: ['import'] },
        { ...base, time: '2024-01-02T16:00:00.000Z', sources: ['twelvedata_ws'], complete: false },
        { ...base, time: '2024-01-02T17:00:00.000Z', sources: ['import'], complete: false, bars: 11 },
        { ...base, time: '2024-01-03T13:00:00.000Z', sources: ['simulator'], simulated: true },
      ],
      segments: [],
    };
    assert.deepEqual(
      candlesFrom(r, COP).map((c) => c.source),
      ['vendor', 'backfilled', 'imported', 'partial', 'imported', 'simulated'],
      'a candle missing a bar is not partial: only one holding a partial bar is',
    );
    assert.equal(sourceSummary(candlesFrom(r, COP)), 'vendor:1,backfilled:1,imported:2,simulated:1,partial:1');
  });

  it('turns the API answers into candles and one series per indicator, aligned by time', () => {
    const r: CandlesResponse = {
      symbol: 'USD/COP',
      interval: '5min',
      count: 2,
      truncated: false,
      candles: [
        { time: '2024-01-02T13:00:00.000Z', open: 1, high: 2, low: 0.5, close: 1.5, bars: 1, expected: 1, complete: true, simulated: false, sources: ['import'] },
        { time: '2024-01-02T13:05:00.000Z', open: 1.5, high: 2, low: 1, close: 2, bars: 1, expected: 1, complete: true, simulated: true, sources: ['simulator'] },
      ],
      segments: [
        { from: '2024-01-02T13:00:00.000Z', to: '2024-01-02T13:00:00.000Z', simulated: false, candles: 1 },
        { from: '2024-01-02T13:05:00.000Z', to: '2024-01-02T13:05:00.000Z', simulated: true, candles: 1 },
      ],
    };
    const candles = candlesFrom(r, COP);
    assert.deepEqual(
      candles.map((c) => [c.time, c.close, c.session, c.simulated]),
      [
        [T('2024-01-02T13:00:00Z'), 1.5, '2024-01-02', false],
        [T('2024-01-02T13:05:00Z'), 2, '2024-01-02', true],
      ],
    );
    // The indicator answer covers the second candle only (another page held the first).
    const byTime = indicatorsByTime({ symbol: 'USD/COP', interval: '5min', times: ['2024-01-02T13:05:00.000Z'], values: { ema20: [1.7], rsi14: [55] } });
    const ind = indicatorSeries(candles, byTime);
    assert.deepEqual(ind?.ema20, [null, 1.7]);
    assert.deepEqual(ind?.rsi14, [null, 55]);
    assert.deepEqual(ind?.macd, [null, null], 'an indicator not answered is null, not zero');
    assert.equal(indicatorSeries(candles, new Map()), null);
  });
});

describe('Prometheus text', () => {
  const text = [
    '# HELP tasa_ws_clients Connected WebSocket clients',
    '# TYPE tasa_ws_clients gauge',
    'tasa_ws_clients 3',
    'tasa_ticks_received_total{symbol="USD/COP"} 120',
    'tasa_ticks_received_total{symbol="EUR/USD"} 30',
    'tasa_http_request_duration_seconds_sum{method="GET",route="/health",status="200"} 0.5',
    'tasa_http_request_duration_seconds_count{method="GET",route="/health",status="200"} 4',
    'tasa_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/health",status="200"} 4',
    'weird_label{msg="a \\"quoted\\" word"} 1',
  ].join('\n');

  it('reads samples with labels, sums over label sets and takes histogram means', () => {
    const m = new Metrics(parsePrometheusText(text));
    assert.equal(m.sum('tasa_ws_clients'), 3);
    assert.equal(m.sum('tasa_ticks_received_total'), 150);
    assert.equal(m.sum('tasa_ticks_received_total', { symbol: 'USD/COP' }), 120);
    assert.equal(m.mean('tasa_http_request_duration_seconds'), 0.125);
    assert.equal(m.sum('tasa_absent_metric'), null, 'a metric without samples is missing, not zero');
    assert.equal(m.series('weird_label')[0]?.labels['msg'], 'a "quoted" word');
    assert.equal(m.series('tasa_http_request_duration_seconds_bucket')[0]?.labels['le'], '+Inf');
  });
});
