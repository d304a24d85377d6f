import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BarAggregator } from '../../src/domain/aggregator.ts';
import { BAR_MS, type Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { MinuteCandleBuilder, coversWholeSlot, minuteCandles } from '../../src/domain/minute-candles.ts';
import type { Tick, TickSource } from '../../src/domain/tick.ts';

const calendar = new MarketCalendar();
/** Tuesday 2024-01-02, 08:00 Bogota. */
const OPEN = Date.UTC(2024, 0, 2, 13, 0);
const MIN = 60_000;
const SEC = 1_000;

function tick(time: number, price: number, o: { source?: TickSource; receivedAt?: number; bid?: number } = {}): Tick {
  return { symbol: 'USD/COP', time, price, bid: o.bid ?? price - 1, ask: price + 1, receivedAt: o.receivedAt ?? time + 80, source: o.source ?? 'twelvedata_ws' };
}

/** Every slot of the morning covered whole, and a clock long after it. */
const ALL_SLOTS = { now: Infinity, wholeSlots: new Set(Array.from({ length: 60 }, (_, i) => OPEN + i * BAR_MS)) };

describe('1-minute candles from ticks', () => {
  it('a minute with one tick is a candle of that price: bars = expected = 1, one tick', () => {
    const [c, ...rest] = minuteCandles(calendar, [tick(OPEN + 2 * MIN + 17 * SEC, 3950.5)], ALL_SLOTS);
    assert.deepEqual(rest, []);
    assert.deepEqual(c, { time: OPEN + 2 * MIN, session: '2024-01-02', open: 3950.5, high: 3950.5, low: 3950.5, close: 3950.5, bars: 1, expected: 1, complete: true, simulated: false, sources: ['twelvedata_ws'], ticks: 1 });
  });

  it('takes OHLC in (exchange time, arrival) order whatever the input order, and leaves minutes without ticks out', () => {
    const t = OPEN + 10 * MIN;
    const ticks = [
      tick(t + 5 * SEC, 4001, { receivedAt: t + 9 * SEC }), // same second as the next: arrived second, so not the open
      tick(t + 5 * SEC, 4000, { receivedAt: t + 6 * SEC }),
      tick(t + 20 * SEC, 4009),
      tick(t + 40 * SEC, 3995),
      tick(t + 59 * SEC, 4003, { receivedAt: t + 59 * SEC + 100 }),
      tick(t + 59 * SEC, 4004, { receivedAt: t + 59 * SEC + 300 }), // tie at the end: the later arrival closes
      tick(t + 3 * MIN, 4010), // minutes +1 and +2 have no tick
    ];
    const forward = minuteCandles(calendar, ticks, ALL_SLOTS);
    const reversed = minuteCandles(calendar, [...ticks].reverse(), ALL_SLOTS);
    assert.deepEqual(reversed, forward);
    assert.deepEqual(
      forward.map((c) => [c.time - OPEN, c.open, c.high, c.low, c.close, c.ticks]),
      [
        [10 * MIN, 4000, 4009, 3995, 4004, 6],
        [13 * MIN, 4010, 4010, 4010, 4010, 1],
      ],
    );
  });

  it('drops ticks outside every session: before the open, from the close, weekends and holidays', () => {
    const ticks = [
      tick(OPEN - SEC, 3900), // 07:59:59 Bogota
      tick(OPEN, 3901),
      tick(OPEN + 5 * 3_600_000 - SEC, 3902), // 12:59:59, the session's last second
      tick(OPEN + 5 * 3_600_000, 3903), // 13:00: closed
      tick(Date.UTC(2024, 0, 6, 15, 0), 3904), // Saturday
      tick(Date.UTC(2024, 0, 8, 15, 0), 3905), // Monday 2024-01-08: Epiphany, a Colombian holiday
    ];
    const candles = minuteCandles(calendar, ticks, ALL_SLOTS);
    assert.deepEqual(
      candles.map((c) => [new Date(c.time).toISOString(), c.close]),
      [
        ['2024-01-02T13:00:00.000Z', 3901],
        ['2024-01-02T17:59:00.000Z', 3902],
      ],
    );
  });

  it('splits a minute where the provenance changes: never blends simulated and real ticks, neither part complete', () => {
    const t = OPEN + 7 * MIN;
    const ticks = [
      tick(t + 1 * SEC, 4000, { source: 'simulator' }),
      tick(t + 10 * SEC, 4005, { source: 'replay' }), // replayed ticks make simulator bars: the same class
      tick(t + 30 * SEC, 4100, { source: 'twelvedata_ws' }),
      tick(t + 45 * SEC, 4090, { source: 'twelvedata_ws' }),
      tick(t + 50 * SEC, 4007, { source: 'simulator' }),
      tick(t + MIN + SEC, 4008, { source: 'simulator' }),
    ];
    const candles = minuteCandles(calendar, ticks, ALL_SLOTS);
    assert.deepEqual(
      candles.map((c) => ({ at: c.time - t, o: c.open, h: c.high, l: c.low, c: c.close, simulated: c.simulated, sources: c.sources, complete: c.complete, ticks: c.ticks })),
      [
        { at: 0, o: 4000, h: 4005, l: 4000, c: 4005, simulated: true, sources: ['simulator'], complete: false, ticks: 2 },
        { at: 30 * SEC, o: 4100, h: 4100, l: 4090, c: 4090, simulated: false, sources: ['twelvedata_ws'], complete: false, ticks: 2 },
        { at: 50 * SEC, o: 4007, h: 4007, l: 4007, c: 4007, simulated: true, sources: ['simulator'], complete: false, ticks: 1 },
        { at: MIN, o: 4008, h: 4008, l: 4008, c: 4008, simulated: true, sources: ['simulator'], complete: true, ticks: 1 },
      ],
    );
  });

  it('a split part sharing its first tick time with the part before opens 1 ms after it', () => {
    const t = OPEN + 3 * MIN;
    const candles = minuteCandles(calendar, [tick(t, 4000, { source: 'simulator' }), tick(t, 4100, { source: 'twelvedata_ws' }), tick(t, 4101, { source: 'twelvedata_ws', receivedAt: t + 500 })], ALL_SLOTS);
    assert.deepEqual(
      candles.map((c) => [c.time - t, c.open, c.close, c.simulated]),
      [
        [0, 4000, 4000, true],
        [1, 4100, 4101, false],
      ],
    );
  });

  it('complete only once the minute has ended and the stored bar of its slot covered the slot whole', () => {
    const ticks = [tick(OPEN + 30 * SEC, 4000), tick(OPEN + 5 * MIN + 30 * SEC, 4001), tick(OPEN + 10 * MIN + 30 * SEC, 4002)];
    // Slot 0 covered, slot 1 has no whole bar (partial, backfilled or missing), slot 2 covered but its minute not ended yet.
    const ctx = { now: OPEN + 10 * MIN + 45 * SEC, wholeSlots: new Set([OPEN, OPEN + 2 * BAR_MS]) };
    assert.deepEqual(
      minuteCandles(calendar, ticks, ctx).map((c) => c.complete),
      [true, false, false],
    );
    assert.equal(minuteCandles(calendar, ticks, { ...ctx, now: OPEN + 11 * MIN })[2]?.complete, true, 'ended at 08:11');
  });

  it('a slot counts as covered whole only when its bar was built live from ticks and is not partial', () => {
    const slot = (tickCount: number | null, f: Bar['flags']) => coversWholeSlot({ tickCount, flags: f });
    assert.deepEqual(
      [slot(12, []), slot(12, ['flat']), slot(12, ['partial']), slot(null, []), slot(null, ['reconciled']), slot(null, ['backfilled'])],
      [true, true, false, false, false, false],
      'a reconciled, backfilled or imported bar (no tick count) does not vouch for the ticks',
    );
  });

  it('recognises a second delivery across a provenance split of its minute', () => {
    const t = OPEN + 4 * MIN + 30 * SEC;
    const real = tick(t, 4000, { receivedAt: t + 10 });
    const ticks = [real, tick(t, 4001, { source: 'simulator', receivedAt: t + 20 }), { ...real, receivedAt: t + 30 }];
    const candles = minuteCandles(calendar, ticks, ALL_SLOTS);
    assert.deepEqual(
      candles.map((c) => [c.simulated, c.ticks]),
      [
        [false, 1],
        [true, 1],
      ],
      'the repeated real tick opens no third part',
    );
  });

  it('counts a second delivery of a tick once, so it cannot move the close', () => {
    const t = OPEN + MIN;
    const ticks = [tick(t + SEC, 4000, { receivedAt: t + SEC + 10 }), tick(t + SEC, 4002, { receivedAt: t + SEC + 20 }), tick(t + SEC, 4000, { receivedAt: t + SEC + 30 })];
    const [c] = minuteCandles(calendar, ticks, ALL_SLOTS);
    assert.deepEqual([c?.open, c?.close, c?.ticks], [4000, 4002, 2]);
  });

  it('refuses ticks out of time order when fed one by one', () => {
    const builder = new MinuteCandleBuilder(calendar, ALL_SLOTS);
    builder.add(tick(OPEN + MIN, 4000));
    assert.throws(() => builder.add(tick(OPEN + 30 * SEC, 4000)), RangeError);
  });

  it('five minutes agree with the 5-minute bar the aggregator builds from the same ticks', () => {
    // A deterministic walk: several ticks a minute, shared seconds, some minutes empty.
    const ticks: Tick[] = [];
    let price = 4000;
    for (let s = 0; s < 15 * 60; s += 7) {
      if (Math.floor(s / 60) % 4 === 3) continue; // every fourth minute without ticks
      price = Math.round((price + Math.sin(s / 11) * 3 + ((s * 13) % 5) - 2) * 100) / 100;
      ticks.push(tick(OPEN + Math.floor(s / 2) * 2 * SEC, price, { receivedAt: OPEN + s * SEC + 50 }));
    }
    const agg = new BarAggregator({ symbol: 'USD/COP', calendar, startedAt: OPEN });
    for (const t of ticks) agg.addTick(t);
    const bars = agg
      .advanceTo(OPEN + 20 * MIN)
      .flatMap((e) => (e.kind === 'bar' && e.final ? [e.bar] : []))
      .sort((a, b) => a.time - b.time);
    assert.equal(bars.length, 3);
    const minutes = minuteCandles(calendar, ticks, ALL_SLOTS);
    for (const bar of bars) {
      const inSlot = minutes.filter((c) => c.time >= bar.time && c.time < bar.time + BAR_MS);
      assert.ok(inSlot.length >= 3);
      assert.deepEqual(
        { open: inSlot[0]?.open, high: Math.max(...inSlot.map((c) => c.high)), low: Math.min(...inSlot.map((c) => c.low)), close: inSlot.at(-1)?.close, ticks: inSlot.reduce((n, c) => n + (c.ticks ?? 0), 0) },
        { open: bar.open, high: bar.high, low: bar.low, close: bar.close, ticks: bar.tickCount },
      );
    }
  });
});
