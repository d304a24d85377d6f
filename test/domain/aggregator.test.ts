import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import {
  BarAggregator,
  type AggregatorEvent,
  type BarAggregatorOptions,
  type BarUpdate,
  type TickOutcome,
} from '../../src/domain/aggregator.ts';
import { BAR_MS, type Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import type { Tick } from '../../src/domain/tick.ts';

const calendar = new MarketCalendar();
const SYMBOL = 'USD/COP';
const WATERMARK = 2_000;
/** 2024-01-02 is a Tuesday and a trading day; times are UTC (Bogota + 5 h). */
const at = (hms: string, date = '2024-01-02'): number => Date.parse(`${date}T${hms}Z`);
const SESSION_OPEN = at('13:00:00');
const SESSION_CLOSE = at('18:00:00');

function tick(time: number, price: number, fields: Partial<Tick> = {}): Tick {
  return { symbol: SYMBOL, time, price, bid: null, ask: null, receivedAt: time, source: 'twelvedata_ws', ...fields };
}

function aggregator(opts: Partial<BarAggregatorOptions> = {}): BarAggregator {
  return new BarAggregator({ symbol: SYMBOL, calendar, startedAt: SESSION_OPEN, ...opts });
}

function add(agg: BarAggregator, ticks: Tick[]): TickOutcome[] {
  return ticks.map((t) => agg.addTick(t).outcome);
}

function ohlc(bar: Bar): [number, number, number, number, number | null] {
  return [bar.open, bar.high, bar.low, bar.close, bar.tickCount];
}

/** A compact view of events: `bar 13:00 r1 final` / `empty 13:05`. */
function describeEvents(events: AggregatorEvent[]): string[] {
  const hhmm = (t: number): string => new Date(t).toISOString().slice(11, 16);
  return events.map((e) => (e.kind === 'empty' ? `empty ${hhmm(e.time)}` : `bar ${hhmm(e.bar.time)} r${e.bar.revision}${e.final ? ' final' : ''}`));
}

function onlyBar(events: AggregatorEvent[]): BarUpdate {
  assert.equal(events.length, 1, `expected one event, got ${describeEvents(events).join(', ')}`);
  const event = events[0];
  assert.ok(event?.kind === 'bar');
  return event;
}

describe('BarAggregator: OHLC', () => {
  it('builds OHLC by exchange time, whatever the arrival order, and skips duplicates', () => {
    const agg = aggregator();
    const outcomes = add(agg, [
      tick(at('13:00:10'), 3900),
      tick(at('13:01:00'), 3905),
      tick(at('13:00:05'), 3898), // arrives late but is the earliest: the new open
      tick(at('13:04:59'), 3902),
      tick(at('13:03:00'), 3910),
      tick(at('13:00:05'), 3898), // duplicate
      tick(at('13:04:59'), 3903), // same second as 3902, arrives after it: the close
      tick(at('13:00:05'), 3899), // same second as the open, arrives after it: not the open
      tick(at('13:04:59'), 3903, { bid: 3902.5, ask: 3903.5 }), // differs by its bid and ask: not a duplicate
      tick(at('13:04:59'), 3903, { bid: 3902.5, ask: 3904 }), // differs by its ask only: not a duplicate
      tick(at('13:04:59'), 3903, { bid: 3902.5, ask: 3904 }), // duplicate
    ]);
    assert.deepEqual(outcomes, [
      'accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'duplicate', 'accepted', 'accepted', 'accepted', 'accepted', 'duplicate',
    ]);
    const forming = agg.forming();
    assert.ok(forming);
    assert.deepEqual(ohlc(forming), [3898, 3910, 3898, 3903, 9]);

    const final = onlyBar(agg.advanceTo(at('13:05:02')));
    assert.equal(final.final, true);
    assert.deepEqual(final.bar, {
      symbol: SYMBOL,
      time: SESSION_OPEN,
      open: 3898,
      high: 3910,
      low: 3898,
      close: 3903,
      volume: null,
      tickCount: 9,
      source: 'twelvedata_ws',
      revision: 1,
      flags: [],
      coverage: 1,
    });
    assert.equal(agg.forming(), null);
  });

  it('calls a tick a duplicate only when time, price, bid and ask all match', () => {
    const agg = aggregator();
    const base = tick(at('13:01:00'), 3900, { bid: 3899.5, ask: 3900.5 });
    const variants = [base, { ...base, time: base.time + 1 }, { ...base, price: 3900.01 }, { ...base, bid: 3899.4 }, { ...base, ask: 3900.6 }, { ...base, bid: null }, { ...base, ask: null }];
    assert.deepEqual(add(agg, variants), Array(variants.length).fill('accepted'));
    assert.deepEqual(add(agg, variants.map((v) => ({ ...v, receivedAt: v.receivedAt + 5_000 }))), Array(variants.length).fill('duplicate'));
    assert.equal(agg.stats().duplicates, variants.length);
  });

  it('emits a forming update per accepted tick, with revision 1 and final = false', () => {
    const agg = aggregator();
    const first = onlyBar(agg.addTick(tick(at('13:00:10'), 3900)).events);
    assert.equal(first.final, false);
    assert.deepEqual(ohlc(first.bar), [3900, 3900, 3900, 3900, 1]);
    assert.deepEqual(first.bar.flags, ['flat']);
    assert.equal(first.bar.revision, 1);
    const second = onlyBar(agg.addTick(tick(at('13:00:20'), 3901)).events);
    assert.deepEqual(ohlc(second.bar), [3900, 3901, 3900, 3901, 2]);
    assert.deepEqual(second.bar.flags, []);
    assert.deepEqual(ohlc(first.bar), [3900, 3900, 3900, 3900, 1], 'an emitted bar is a snapshot');
  });

  it('labels bars with the tick source (replayed ticks as simulator)', () => {
    for (const [source, expected] of [['simulator', 'simulator'], ['replay', 'simulator'], ['twelvedata_ws', 'twelvedata_ws']] as const) {
      const agg = aggregator();
      assert.equal(onlyBar(agg.addTick(tick(at('13:00:10'), 3900, { source })).events).bar.source, expected);
    }
  });

  it('refuses a tick of another symbol or an unvalidated one', () => {
    const agg = aggregator();
    assert.throws(() => agg.addTick(tick(at('13:00:10'), 3900, { symbol: 'USD/MXN' })), /USD\/MXN/);
    assert.throws(() => agg.addTick(tick(at('13:00:10'), NaN)), /Unvalidated/);
    assert.throws(() => agg.addTick(tick(at('13:00:10'), 0)), /Unvalidated/);
    assert.throws(() => agg.addTick(tick(NaN, 3900)), /Unvalidated/);
  });
});

describe('BarAggregator: closing on the clock', () => {
  it('closes a bar at end + watermark with no further tick, once', () => {
    const agg = aggregator();
    add(agg, [tick(at('13:01:00'), 3900), tick(at('13:02:00'), 3901)]);
    assert.deepEqual(agg.advanceTo(at('13:05:01.999')), []);
    assert.deepEqual(describeEvents(agg.advanceTo(at('13:05:02'))), ['bar 13:00 r1 final']);
    assert.deepEqual(agg.advanceTo(at('13:05:02')), [], 'idempotent');
    assert.deepEqual(agg.advanceTo(at('13:04:00')), [], 'time does not go back');
    assert.deepEqual(describeEvents(agg.advanceTo(at('13:10:02'))), ['empty 13:05']);
  });

  it('respects the watermark: ticks go by exchange time, the watermark only delays the close', () => {
    const agg = aggregator();
    agg.addTick(tick(at('13:02:00'), 3900));
    assert.deepEqual(agg.advanceTo(at('13:05:01')), []);
    // Stamped after the slot's end: the next slot's, even though 13:00 is still open.
    const next = onlyBar(agg.addTick(tick(at('13:05:01'), 3950, { receivedAt: at('13:05:01.2') })).events);
    assert.equal(next.bar.time, at('13:05:00'));
    // Stamped inside 13:00, arriving within the watermark: lands in the still-open 13:00 bar.
    const late = agg.addTick(tick(at('13:04:59'), 3910, { receivedAt: at('13:05:01.5') }));
    assert.equal(late.outcome, 'accepted');
    assert.equal(onlyBar(late.events).bar.time, SESSION_OPEN);
    const [closed] = agg.advanceTo(at('13:05:02'));
    assert.ok(closed?.kind === 'bar');
    assert.deepEqual(ohlc(closed.bar), [3900, 3910, 3900, 3910, 2]);
    assert.equal(agg.forming()?.time, at('13:05:00'));
  });

  it('closes the last slot of the session at 18:00Z + watermark', () => {
    const agg = aggregator();
    agg.addTick(tick(at('17:59:59'), 3900));
    assert.equal(agg.advanceTo(at('17:59:59.5')).length, 59, 'the slots before it were empty');
    assert.deepEqual(agg.advanceTo(at('18:00:01.999')), []);
    assert.deepEqual(describeEvents(agg.advanceTo(at('18:00:02'))), ['bar 17:55 r1 final']);
  });

  it('emits closed bars and empty slots in time order', () => {
    const agg = aggregator();
    add(agg, [tick(at('13:10:30'), 3901), tick(at('13:00:30'), 3900)]);
    assert.deepEqual(describeEvents(agg.advanceTo(at('13:20:02'))), ['bar 13:00 r1 final', 'empty 13:05', 'bar 13:10 r1 final', 'empty 13:15']);
    assert.deepEqual(agg.stats(), { accepted: 2, duplicates: 0, outsideSession: 0, lateRevisions: 0, revisions: 0, tooLate: 0, emptySlots: 2, finalBars: 2 });
  });

  it('reports empties only on the session grid, across a weekend and a holiday', () => {
    // Friday 2024-01-05 17:50Z; Monday 2024-01-08 is Reyes Magos; next session Tuesday 2024-01-09.
    const agg = aggregator({ startedAt: at('17:50:00', '2024-01-05') });
    const events = agg.advanceTo(at('13:10:02', '2024-01-09'));
    assert.deepEqual(
      events.map((e) => (e.kind === 'empty' ? new Date(e.time).toISOString() : 'bar')),
      ['2024-01-05T17:50:00.000Z', '2024-01-05T17:55:00.000Z', '2024-01-09T13:00:00.000Z', '2024-01-09T13:05:00.000Z'],
    );
  });

  it('reports empties only for slots it watched from their open', () => {
    const agg = new BarAggregator({ symbol: SYMBOL, calendar });
    assert.deepEqual(agg.advanceTo(at('14:02:30')), [], 'started mid-session: the morning is not declared empty');
    assert.deepEqual(describeEvents(agg.advanceTo(at('14:20:02'))), ['empty 14:05', 'empty 14:10', 'empty 14:15']);
  });

  it('tells when the next close is due', () => {
    const agg = aggregator();
    assert.equal(agg.nextDeadline(at('12:00:00')), at('13:05:02'));
    assert.equal(agg.nextDeadline(at('13:02:00')), at('13:05:02'));
    agg.advanceTo(at('13:05:02'));
    assert.equal(agg.nextDeadline(at('13:05:02')), at('13:10:02'));
    assert.equal(agg.nextDeadline(at('13:20:00')), at('13:10:02'), 'overdue: due at once');
    agg.advanceTo(at('18:00:02'));
    assert.equal(agg.nextDeadline(at('18:00:02')), at('13:05:02', '2024-01-03'));

    const friday = aggregator({ startedAt: at('17:00:00', '2024-01-05') });
    friday.advanceTo(at('18:00:02', '2024-01-05'));
    assert.equal(friday.nextDeadline(at('18:00:02', '2024-01-05')), at('13:05:02', '2024-01-09'), 'skips the weekend and the Monday holiday');
  });

  it('includes open slots in the next deadline before the clock has started', () => {
    const agg = aggregator();
    agg.addTick(tick(at('13:01:00'), 3900));
    assert.equal(agg.nextDeadline(at('15:00:00')), at('13:05:02'));
  });
});

describe('BarAggregator: late ticks', () => {
  it('revises a closed bar with late ticks on the next advance (revision 2, right OHLC), and then again', () => {
    const agg = aggregator();
    add(agg, [tick(at('13:01:00'), 3900), tick(at('13:02:00'), 3905), tick(at('13:03:00'), 3902)]);
    agg.advanceTo(at('13:07:00'));

    const late = agg.addTick(tick(at('13:02:30'), 3950, { receivedAt: at('13:07:00') }));
    assert.deepEqual(late, { outcome: 'late_revision', events: [] }, 'gathered, not emitted at once');
    assert.equal(agg.nextDeadline(at('13:07:00')), at('13:07:01'), 'the revision is due one flush window after the tick');
    const revised = onlyBar(agg.advanceTo(at('13:07:01')));
    assert.equal(revised.final, true);
    assert.equal(revised.bar.revision, 2);
    assert.deepEqual(ohlc(revised.bar), [3900, 3950, 3900, 3902, 4]);

    assert.equal(agg.addTick(tick(at('13:00:00'), 3800, { receivedAt: at('13:07:30') })).outcome, 'late_revision');
    const earlier = onlyBar(agg.advanceTo(at('13:07:31')));
    assert.equal(earlier.bar.revision, 3);
    assert.deepEqual(ohlc(earlier.bar), [3800, 3950, 3800, 3902, 5]);

    assert.equal(agg.addTick(tick(at('13:00:00'), 3800)).outcome, 'duplicate', 'a re-sent tick does not revise');
    assert.deepEqual(agg.advanceTo(at('13:08:00')), [], 'a revised slot is not closed again');
    assert.deepEqual([agg.stats().lateRevisions, agg.stats().revisions], [2, 2]);
  });

  it('turns an empty slot that receives a late tick into a bar with revision 1', () => {
    const agg = aggregator();
    assert.deepEqual(describeEvents(agg.advanceTo(at('13:05:02'))), ['empty 13:00']);
    const late = agg.addTick(tick(at('13:04:00'), 3900, { receivedAt: at('13:05:03') }));
    assert.equal(late.outcome, 'late_revision');
    const events = agg.advanceTo(at('13:05:04'));
    assert.deepEqual(describeEvents(events), ['bar 13:00 r1 final']);
    assert.deepEqual(ohlc(onlyBar(events).bar), [3900, 3900, 3900, 3900, 1]);
  });

  it('emits a final revision 1, partial, for a slot that closed before the aggregator started', () => {
    const agg = new BarAggregator({ symbol: SYMBOL, calendar });
    agg.advanceTo(at('14:00:00'));
    const late = agg.addTick(tick(at('13:30:00'), 3900, { receivedAt: at('14:00:00') }));
    assert.equal(late.outcome, 'late_revision');
    const events = agg.advanceTo(at('14:00:01'));
    assert.deepEqual(describeEvents(events), ['bar 13:30 r1 final']);
    assert.deepEqual([onlyBar(events).bar.flags, onlyBar(events).bar.coverage], [['flat', 'partial'], 0]);
  });

  it('gathers a burst of 500 late ticks into one revision per flush window', () => {
    const agg = aggregator();
    add(agg, [tick(at('13:01:00'), 3900), tick(at('13:02:00'), 3905)]);
    const events: AggregatorEvent[] = [...agg.advanceTo(at('13:05:02'))];
    // 500 late ticks for the closed 13:00 slot (and 100 for 13:05), arriving over 2.5 s, the caller
    // advancing at each deadline as a timer would: the flush windows are 1 s, so 3 revisions.
    const burstStart = at('13:07:00');
    for (let i = 0; i < 500; i++) {
      const receivedAt = burstStart + i * 5;
      const deadline = agg.nextDeadline(receivedAt);
      if (deadline !== null && deadline <= receivedAt) events.push(...agg.advanceTo(receivedAt));
      agg.addTick(tick(at('13:00:00') + (i % 300) * 1000, 3900 + (i % 7), { receivedAt, bid: i }));
      if (i % 5 === 0) agg.addTick(tick(at('13:05:00') + i * 100, 3910, { receivedAt }));
    }
    events.push(...agg.advanceTo(burstStart + 3_500));
    const revisions = events.filter((e) => e.kind === 'bar' && e.bar.time === SESSION_OPEN && e.bar.revision > 1);
    assert.equal(revisions.length, 3, 'one revision per 1 s flush window of the 2.5 s burst, not 500');
    assertRevisionsIncrease(events.filter((e) => e.kind === 'bar' && e.final));
    const last = revisions.at(-1);
    assert.ok(last?.kind === 'bar');
    assert.deepEqual([last.bar.revision, last.bar.tickCount], [4, 502], 'the last revision holds every tick');
    assert.equal(agg.stats().lateRevisions, 500);
  });
});

describe('BarAggregator: coverage', () => {
  it('flags the slot it started in as partial, with the share it watched', () => {
    const agg = aggregator({ startedAt: at('13:01:15') });
    add(agg, [tick(at('13:02:00'), 3900), tick(at('13:04:00'), 3901), tick(at('13:06:00'), 3902)]);
    const [first, second] = agg.advanceTo(at('13:10:02'));
    assert.ok(first?.kind === 'bar' && second?.kind === 'bar');
    assert.deepEqual([first.bar.flags, first.bar.coverage], [['partial'], 0.75]);
    assert.deepEqual([second.bar.flags, second.bar.coverage], [['flat'], 1]);
  });

  it('takes a 60 s disconnect inside a slot off its coverage (0.8) and does not call the slot after it empty', () => {
    const agg = aggregator();
    add(agg, [tick(at('13:00:30'), 3900), tick(at('13:04:30'), 3905)]);
    agg.feedDown(at('13:01:00'));
    agg.feedUp(at('13:02:00'));
    const bar = onlyBar(agg.advanceTo(at('13:05:02'))).bar;
    assert.deepEqual([bar.flags, bar.coverage], [['partial'], 0.8]);

    agg.feedDown(at('13:09:00'));
    assert.deepEqual(agg.advanceTo(at('13:10:02')), [], 'the 13:05 slot was not watched whole: unknown, not empty');
    agg.feedUp(at('13:16:00'));
    assert.deepEqual(describeEvents(agg.advanceTo(at('13:25:02'))), ['empty 13:20'], '13:10 and 13:15 were not watched whole either');
    assert.equal(onlyBar(agg.addTick(tick(at('13:26:00'), 3906)).events).bar.coverage, 1, 'the forming bar of a covered slot is complete');
  });

  it('calls a slot watched whole with the feed up complete (coverage 1), and merges repeated downs', () => {
    const agg = aggregator();
    agg.feedUp(at('12:59:00')); // up while already up: nothing
    agg.addTick(tick(at('13:03:00'), 3900));
    const bar = onlyBar(agg.advanceTo(at('13:05:02'))).bar;
    assert.deepEqual([bar.flags, bar.coverage], [['flat'], 1]);
    agg.feedDown(at('13:06:00'));
    agg.feedDown(at('13:07:00'));
    agg.feedUp(at('13:07:30'));
    agg.addTick(tick(at('13:08:00'), 3901));
    assert.equal(onlyBar(agg.advanceTo(at('13:10:02'))).bar.coverage, 0.7, 'down 13:06:00-13:07:30');
  });

  it('downgrades a closed bar when a stall is reported after the close, from its last frame', () => {
    const agg = aggregator();
    add(agg, [tick(at('13:00:30'), 3900), tick(at('13:04:00'), 3901)]);
    const closed = onlyBar(agg.advanceTo(at('13:05:02'))).bar;
    assert.deepEqual([closed.revision, closed.coverage], [1, 1]);
    // The socket went silent after a frame at 13:04:00; the silence timeout noticed it at 13:05:30.
    agg.feedDown(at('13:04:00'));
    assert.ok((agg.nextDeadline(at('13:05:30')) ?? Infinity) <= at('13:05:30'), 'the revision is due at once');
    const revised = onlyBar(agg.advanceTo(at('13:05:30'))).bar;
    assert.deepEqual([revised.revision, revised.flags, revised.coverage, revised.tickCount], [2, ['partial'], 0.8, 2]);
    agg.feedUp(at('13:06:00'));
    assert.deepEqual(agg.advanceTo(at('13:06:01')), [], 'a recovery changes nothing already closed');
  });

  it('refuses a non-finite instant for feedDown and feedUp', () => {
    assert.throws(() => aggregator().feedDown(NaN), RangeError);
    assert.throws(() => aggregator().feedUp(Infinity), RangeError);
  });

  it('calls a tick too late after session close + 1 h by default', () => {
    const agg = aggregator();
    agg.addTick(tick(at('13:01:00'), 3900));
    agg.advanceTo(at('18:59:59.999'));
    assert.equal(agg.addTick(tick(at('13:02:00'), 3901)).outcome, 'late_revision');
    agg.advanceTo(at('19:00:00'));
    const result = agg.addTick(tick(at('13:03:00'), 3902));
    assert.deepEqual(result, { outcome: 'too_late', events: [] });
    assert.equal(agg.addTick(tick(at('13:01:00'), 3900)).outcome, 'too_late', 'state was dropped: no duplicate check either');
    assert.equal(agg.stats().tooLate, 2);
  });

  it('calls a tick too late after a custom revision horizon after the slot end', () => {
    const agg = aggregator({ revisionHorizonMs: 10 * 60_000 });
    agg.addTick(tick(at('13:01:00'), 3900));
    agg.advanceTo(at('13:14:59'));
    assert.equal(agg.addTick(tick(at('13:02:00'), 3901)).outcome, 'late_revision');
    agg.advanceTo(at('13:15:00'));
    assert.equal(agg.addTick(tick(at('13:03:00'), 3902)).outcome, 'too_late');
    assert.equal(agg.addTick(tick(at('13:06:00'), 3902)).outcome, 'late_revision', 'the 13:05 slot expires at 13:20');
  });

  it('refuses a revision horizon shorter than the watermark', () => {
    assert.throws(() => aggregator({ watermarkMs: 5_000, revisionHorizonMs: 5_000 }), RangeError);
    assert.throws(() => aggregator({ watermarkMs: -1 }), RangeError);
  });

  it('refuses instants the calendar does not cover, rather than never reporting empties again', () => {
    assert.throws(() => aggregator({ startedAt: 0 }), RangeError);
    assert.throws(() => aggregator({ startedAt: NaN }), RangeError);
    assert.throws(() => aggregator().advanceTo(0), RangeError);
    assert.throws(() => aggregator().advanceTo(NaN), RangeError);
  });
});

describe('BarAggregator: outside the session', () => {
  const outside: Array<[string, number]> = [
    ['before 13:00Z', at('12:59:59')],
    ['at 18:00Z', at('18:00:00')],
    ['on a Saturday', at('15:00:00', '2024-01-06')],
    ['on a Colombian holiday (Reyes Magos)', at('15:00:00', '2024-01-08')],
  ];
  for (const [name, time] of outside) {
    it(`counts a tick ${name} and does not aggregate it`, () => {
      const agg = aggregator();
      assert.deepEqual(agg.addTick(tick(time, 3900)), { outcome: 'outside_session', events: [] });
      assert.equal(agg.forming(), null);
      assert.equal(agg.stats().outsideSession, 1);
    });
  }
});

describe('BarAggregator: against a naive computation', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`gives the same bars as group-by-slot-and-sort for random ticks over a session (seed ${seed})`, () => {
      const random = mulberry32(seed);
      const ticks = randomSessionTicks(random);
      const agg = aggregator();
      const events: AggregatorEvent[] = [];
      for (const t of ticks) {
        events.push(...agg.advanceTo(t.receivedAt), ...agg.addTick(t).events);
      }
      events.push(...agg.advanceTo(SESSION_CLOSE + WATERMARK));

      assert.deepEqual(lastWordPerSlot(events), naiveBars(ticks));
      assertRevisionsIncrease(events);
      const stats = agg.stats();
      assert.equal(stats.tooLate, 0);
      // The run exercised every path it claims to.
      for (const key of ['duplicates', 'outsideSession', 'lateRevisions', 'emptySlots'] as const) assert.ok(stats[key] > 0, key);
      assert.equal(stats.finalBars + stats.emptySlots, 60);
    });
  }
});

describe('BarAggregator: throughput', () => {
  it('aggregates well over 1,000,000 ticks/s (prints the figure, asserts nothing about it)', (t) => {
    measure(100_000, 1); // warm up the JIT
    t.diagnostic(`millisecond timestamps: ${rate(1_000_000, 1)} ticks/s`);
    t.diagnostic(`whole-second timestamps (TwelveData): ${rate(1_000_000, 1000)} ticks/s`);
  });
});

// -- helpers for the randomized comparison --------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Whole-second ticks over one session, in arrival order: most arrive within the watermark, some
 * late (revisions), some re-sent (duplicates); a few slots get no tick; some fall outside.
 */
function randomSessionTicks(random: () => number): Tick[] {
  const silentSlots = new Set(Array.from({ length: 6 }, () => SESSION_OPEN + Math.floor(random() * 60) * BAR_MS));
  const ticks: Tick[] = [];
  for (let i = 0; i < 4000; i++) {
    const time = SESSION_OPEN - 60_000 + Math.floor(random() * ((SESSION_CLOSE - SESSION_OPEN + 120_000) / 1000)) * 1000;
    if (silentSlots.has(Math.floor(time / BAR_MS) * BAR_MS)) continue;
    const price = Math.round((3900 + random() * 40) * 100) / 100;
    const quoted = random() < 0.5;
    const t = tick(time, price, { bid: quoted ? price - 0.5 : null, ask: quoted ? price + 0.5 : null, receivedAt: time + arrivalDelay(random) });
    ticks.push(t);
    if (random() < 0.05) ticks.push({ ...t, receivedAt: t.receivedAt + arrivalDelay(random) });
  }
  return ticks.sort((a, b) => a.receivedAt - b.receivedAt);
}

function arrivalDelay(random: () => number): number {
  const r = random();
  if (r < 0.9) return Math.floor(random() * 1500);
  if (r < 0.98) return Math.floor(random() * 60_000);
  return Math.floor(random() * 30 * 60_000);
}

type SlotView = { open: number; high: number; low: number; close: number; tickCount: number } | 'empty';

/** The naive reference: drop repeats, group by slot, sort each slot by time (stable: ties keep arrival order). */
function naiveBars(ticksInArrivalOrder: Tick[]): Map<number, SlotView> {
  const seen = new Set<string>();
  const bySlot = new Map<number, Tick[]>();
  for (const t of ticksInArrivalOrder) {
    const key = `${t.time}|${t.price}|${t.bid}|${t.ask}`;
    if (t.time < SESSION_OPEN || t.time >= SESSION_CLOSE || seen.has(key)) continue;
    seen.add(key);
    const slot = Math.floor(t.time / BAR_MS) * BAR_MS;
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), t]);
  }
  const view = new Map<number, SlotView>();
  for (let slot = SESSION_OPEN; slot < SESSION_CLOSE; slot += BAR_MS) {
    const sorted = [...(bySlot.get(slot) ?? [])].sort((a, b) => a.time - b.time);
    const prices = sorted.map((t) => t.price);
    const first = sorted[0];
    const last = sorted[sorted.length - 1];
    view.set(slot, first === undefined || last === undefined
      ? 'empty'
      : { open: first.price, high: Math.max(...prices), low: Math.min(...prices), close: last.price, tickCount: sorted.length });
  }
  return view;
}

/** What a consumer that keeps the latest event per slot would end up with. */
function lastWordPerSlot(events: AggregatorEvent[]): Map<number, SlotView> {
  const view = new Map<number, SlotView>();
  for (const e of events) {
    if (e.kind === 'empty') view.set(e.time, 'empty');
    else if (e.final) view.set(e.bar.time, { open: e.bar.open, high: e.bar.high, low: e.bar.low, close: e.bar.close, tickCount: e.bar.tickCount ?? -1 });
  }
  return new Map([...view].sort(([a], [b]) => a - b));
}

function assertRevisionsIncrease(events: AggregatorEvent[]): void {
  const revision = new Map<number, number>();
  for (const e of events) {
    if (e.kind !== 'bar' || !e.final) continue;
    assert.equal(e.bar.revision, (revision.get(e.bar.time) ?? 0) + 1, `revision of ${new Date(e.bar.time).toISOString()}`);
    revision.set(e.bar.time, e.bar.revision);
  }
}

/**
 * Milliseconds to aggregate `n` distinct ticks spread over one session, stamped to `resolutionMs`.
 * The ticks are streamed through a small pool of objects, as a feed would hand them over: holding
 * a million tick objects alive would mostly measure the GC marking the test's own data.
 */
function measure(n: number, resolutionMs: number): number {
  const pool = Array.from({ length: 1024 }, () => tick(0, 1));
  const spacing = (SESSION_CLOSE - SESSION_OPEN) / n;
  const agg = aggregator();
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const t = pool[i % pool.length] ?? tick(0, 1);
    const time = SESSION_OPEN + Math.floor(i * spacing);
    t.time = time - (time % resolutionMs);
    t.price = 3900 + (i % 97) / 100;
    agg.addTick(t);
  }
  const elapsed = performance.now() - started;
  assert.equal(agg.stats().accepted, n);
  return elapsed;
}

function rate(n: number, resolutionMs: number): string {
  return Math.round(n / (measure(n, resolutionMs) / 1000)).toLocaleString('en-US');
}
