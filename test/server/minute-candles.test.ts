/**
 * GET /api/candlesticks/{symbol}?interval=1min on a real store: candles built from stored ticks
 * (the seeded simulator's tick path), checked against ground truth computed here from the same
 * ticks, against the 5-minute bars the real aggregator builds from them, and for paging, limits,
 * indicators and the errors.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import type { CandleBody, CandlesResponse } from '../../src/contracts/api/candles.ts';
import type { CandleIndicatorsResponse } from '../../src/contracts/api/desk.ts';
import { BarAggregator } from '../../src/domain/aggregator.ts';
import { BAR_MS, type Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { computeIndicators } from '../../src/research/indicators.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { ensureTickPartitions, insertTicks } from '../../src/store/ticks-repo.ts';
import { simulatedTicks } from '../support/simulated-ticks.ts';
import { databaseTargets } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { seedSessions } from './seed-bars.ts';

const calendar = new MarketCalendar();
const MIN = 60_000;
const at = (iso: string): number => Date.parse(iso);
const iso = (t: number): string => new Date(t).toISOString();
/** Thursday 2024-01-04, 11:00:30 Bogota: the session is running. */
const NOW = at('2024-01-04T16:00:30Z');
/** On 2024-01-04 the feed is the simulator until here, then TwelveData's stream: the 10:02 Bogota minute is split. */
const SWITCH = at('2024-01-04T15:02:30Z');
/** Minutes of 2024-01-03 left without ticks (a gap stays a gap). */
const GAP = [at('2024-01-03T13:20:00Z'), at('2024-01-03T13:21:00Z'), at('2024-01-03T13:22:00Z')];
/** Slots of 2024-01-03 whose stored bar does not cover the slot whole, or is missing. */
const PARTIAL_SLOT = at('2024-01-03T14:00:00Z');
const BACKFILLED_SLOT = at('2024-01-03T15:00:00Z');
const MISSING_SLOT = at('2024-01-03T14:30:00Z');
/** Replaced by the vendor's bar after the session (jobs/reconcile.ts): it no longer vouches for the ticks. */
const RECONCILED_SLOT = at('2024-01-03T16:00:00Z');

interface Truth {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  ticks: number;
  simulated: boolean;
}

/** Ground truth, independently: in-session ticks by (time, arrival), a second delivery once, a candle per minute and provenance run. */
function groundTruth(ticks: readonly Tick[]): Truth[] {
  const sorted = ticks.filter((t) => calendar.sessionAt(t.time) !== null).sort((a, b) => a.time - b.time || a.receivedAt - b.receivedAt);
  const seen = new Set<string>();
  const out: Array<Truth & { minute: number }> = [];
  for (const t of sorted) {
    const key = `${t.time}|${t.price}|${t.bid}|${t.ask}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const minute = t.time - (t.time % MIN);
    const simulated = t.source !== 'twelvedata_ws';
    const last = out.at(-1);
    if (last !== undefined && last.minute === minute && last.simulated === simulated) {
      last.high = Math.max(last.high, t.price);
      last.low = Math.min(last.low, t.price);
      last.close = t.price;
      last.ticks++;
    } else {
      const time = last !== undefined && last.minute === minute ? t.time : minute;
      out.push({ minute, time, open: t.price, high: t.price, low: t.price, close: t.price, ticks: 1, simulated });
    }
  }
  return out.map(({ minute: _, ...c }) => c);
}

/** The 5-minute bars the live path builds from `ticks`: the real aggregator, fed in arrival order on their clock. */
function aggregate(ticks: readonly Tick[], startedAt: number, until: number): Bar[] {
  const agg = new BarAggregator({ symbol: 'USD/COP', calendar, startedAt });
  const finals = new Map<number, Bar>();
  const keep = (events: ReturnType<BarAggregator['advanceTo']>): void => {
    for (const e of events) if (e.kind === 'bar' && e.final) finals.set(e.bar.time, e.bar);
  };
  for (const t of [...ticks].sort((a, b) => a.receivedAt - b.receivedAt)) {
    keep(agg.advanceTo(t.receivedAt));
    keep(agg.addTick(t).events);
  }
  keep(agg.advanceTo(until));
  return [...finals.values()].sort((a, b) => a.time - b.time);
}

function shape(c: CandleBody): Truth {
  return { time: Date.parse(c.time), open: c.open, high: c.high, low: c.low, close: c.close, ticks: c.ticks ?? -1, simulated: c.simulated };
}

for (const target of databaseTargets()) {
  describe(`1-minute candles from stored ticks on ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    let ticks: Tick[];
    let truth: Truth[];
    let bars: Bar[];
    before(async () => {
      db = await target.open();
      server = await startTestServer({ db, clock: new ManualClock(NOW) });
      // Imported history (bars, no ticks) before the ticks start.
      await seedSessions(db, calendar, [['2024-01-02', {}]]);
      const day1 = simulatedTicks({ calendar, from: '2024-01-03', to: '2024-01-03', ticksPerSecond: 0.2, seed: 7 })
        .filter((t) => !GAP.includes(t.time - (t.time % MIN)))
        .map((t) => ({ ...t, source: 'twelvedata_ws' as const }));
      const day2 = simulatedTicks({ calendar, from: '2024-01-04', to: '2024-01-04', ticksPerSecond: 0.2, seed: 8 })
        .filter((t) => t.receivedAt <= NOW)
        .map((t) => ({ ...t, source: t.time >= SWITCH ? ('twelvedata_ws' as const) : ('simulator' as const) }));
      // Outside every session: before the open, after the close, on Saturday.
      const outside = [at('2024-01-03T12:30:00Z'), at('2024-01-03T18:00:00Z'), at('2024-01-03T19:15:00Z'), at('2024-01-06T15:00:00Z')].map(
        (time): Tick => ({ symbol: 'USD/COP', time, price: 9999, bid: 9998, ask: 10000, receivedAt: time + 80, source: 'twelvedata_ws' }),
      );
      // Two draws of the simulator can share an exchange time and an arrival (to the ms): their order is undefined, so one is kept.
      const arrivals = new Set<string>();
      ticks = [...day1, ...day2, ...outside].filter((t) => {
        const key = `${t.time}|${t.receivedAt}`;
        return !arrivals.has(key) && arrivals.add(key) !== undefined;
      });
      await ensureTickPartitions(db, at('2024-01-01T00:00:00Z'), at('2024-02-01T00:00:00Z'));
      // The simulator repeats a quote now and then (a second delivery): the store keeps one (its key is the quote).
      assert.equal(await insertTicks(db, ticks), new Set(ticks.map((t) => `${t.time}|${t.price}|${t.bid}|${t.ask}`)).size);
      truth = groundTruth(ticks);
      // The 5-minute bars of the same ticks, as the live path stores them; one slot partial, one backfilled, one reconciled, one missing.
      // A backfilled or reconciled bar is the vendor's (history-source.ts `vendorBar`): no tick count.
      const stored = (date: string) => ticks.filter((t) => t.time >= at(`${date}T13:00:00Z`) && t.time < at(`${date}T18:00:00Z`));
      bars = [...aggregate(stored('2024-01-03'), at('2024-01-03T13:00:00Z'), at('2024-01-03T19:00:00Z')), ...aggregate(stored('2024-01-04'), at('2024-01-04T13:00:00Z'), NOW)];
      await upsertBars(
        db,
        bars
          .filter((b) => b.time !== MISSING_SLOT)
          .map((b) => (b.time === PARTIAL_SLOT ? { ...b, flags: ['partial' as const], coverage: 0.6 } : vendorSlot(b))),
      );
    });
    /** The backfilled and reconciled slots as the jobs store them; every other bar as the live path does. */
    function vendorSlot(b: Bar): Bar {
      if (b.time === BACKFILLED_SLOT) return { ...b, flags: ['backfilled'], source: 'twelvedata_rest', tickCount: null, coverage: 1 };
      if (b.time === RECONCILED_SLOT) return { ...b, flags: ['reconciled'], source: 'twelvedata_rest', tickCount: null, coverage: 1 };
      return b;
    }
    after(async () => {
      await server?.close();
      await db?.close();
    });

    const get = async <T>(url: string): Promise<[number, T]> => {
      const res = await server.app.inject({ method: 'GET', url });
      return [res.statusCode, res.json<T>()];
    };
    const candles = async (query: string): Promise<CandlesResponse> => {
      const [status, body] = await get<CandlesResponse>(`/api/candlesticks/USDCOP?interval=1min&${query}`);
      assert.equal(status, 200, JSON.stringify(body));
      return body;
    };
    const truthIn = (from: number, to: number): Truth[] => truth.filter((c) => c.time >= from && c.time < to);

    it('builds one candle per minute with ticks, equal to the ground truth; gaps and ticks outside sessions make none', async () => {
      const body = await candles('from=2024-01-03&to=2024-01-03&limit=5000');
      const expected = truthIn(at('2024-01-03T13:00:00Z'), at('2024-01-03T18:00:00Z'));
      assert.equal(expected.length, 300 - GAP.length, 'every other minute of the session has ticks');
      assert.deepEqual(body.candles.map(shape), expected);
      assert.equal(body.count, expected.length);
      assert.equal(body.truncated, false);
      assert.equal(body.ticksFrom, '2024-01-03T12:30:00.000Z', 'the oldest stored tick');
      assert.ok(body.candles.every((c) => c.bars === 1 && c.expected === 1 && !c.simulated && c.sources.join() === 'twelvedata_ws'));
      for (const t of GAP) assert.ok(!body.candles.some((c) => Date.parse(c.time) === t), `no candle at ${iso(t)}`);
      assert.ok(!body.candles.some((c) => c.open === 9999 || c.high === 9999), 'no tick outside the session');
    });

    it('agrees with the 5-minute bar of each slot: open of the first minute, max high, min low, close of the last', async () => {
      const body = await candles('from=2024-01-03&to=2024-01-04T16:00:00Z&limit=5000');
      let compared = 0;
      for (const bar of bars) {
        const inSlot = body.candles.filter((c) => Date.parse(c.time) >= bar.time && Date.parse(c.time) < bar.time + BAR_MS);
        if (inSlot.some((c) => c.simulated) && inSlot.some((c) => !c.simulated)) continue; // the switch: a bar takes its first tick's source
        assert.deepEqual(
          { open: inSlot[0]?.open, high: Math.max(...inSlot.map((c) => c.high)), low: Math.min(...inSlot.map((c) => c.low)), close: inSlot.at(-1)?.close, ticks: inSlot.reduce((n, c) => n + (c.ticks ?? 0), 0) },
          { open: bar.open, high: bar.high, low: bar.low, close: bar.close, ticks: bar.tickCount },
          iso(bar.time),
        );
        compared++;
      }
      assert.ok(compared >= 60 + 30, `${compared} slots compared`);
    });

    it('is complete only where the minute ended and its slot has a stored bar that covered the slot whole', async () => {
      const body = await candles('from=2024-01-03&to=2024-01-05&limit=5000');
      const notComplete = new Set(body.candles.filter((c) => !c.complete).map((c) => c.time));
      for (const c of body.candles) {
        const t = Date.parse(c.time);
        const slot = t - (t % BAR_MS);
        const split = t >= SWITCH - (SWITCH % MIN) && t < SWITCH - (SWITCH % MIN) + MIN;
        const whole = ![PARTIAL_SLOT, BACKFILLED_SLOT, RECONCILED_SLOT, MISSING_SLOT].includes(slot) && bars.some((b) => b.time === slot) && t + MIN <= NOW && !split;
        assert.equal(c.complete, whole, c.time);
      }
      assert.ok(notComplete.has('2024-01-04T16:00:00.000Z'), 'the minute in progress');
      assert.equal(body.candles.at(-1)?.time, '2024-01-04T16:00:00.000Z');
    });

    it('splits the minute where the feed changed from the simulator to TwelveData, and lists the segments', async () => {
      const body = await candles('from=2024-01-04T15:00:00Z&to=2024-01-04T15:05:00Z');
      const minute = body.candles.filter((c) => c.time.startsWith('2024-01-04T15:02'));
      assert.deepEqual(
        minute.map((c) => [c.simulated, c.sources, c.complete]),
        [
          [true, ['simulator'], false],
          [false, ['twelvedata_ws'], false],
        ],
      );
      assert.ok(Date.parse(minute[1]!.time) >= SWITCH, 'the second part opens at its first tick');
      assert.deepEqual(body.candles.map(shape), truthIn(at('2024-01-04T15:00:00Z'), at('2024-01-04T15:05:00Z')));
      assert.deepEqual(
        body.segments.map((s) => [s.simulated, s.candles]),
        [
          [true, 3],
          [false, 3],
        ],
      );
    });

    it('pages: from with limit, the latest before to, and older pages back to where the ticks stop', async () => {
      const first = await candles('from=2024-01-03&limit=10');
      assert.deepEqual(first.candles.map(shape), truth.slice(0, 10));
      assert.equal(first.truncated, true);
      const midMinute = await candles('from=2024-01-03T13:05:30Z&to=2024-01-03T13:10:30Z');
      assert.deepEqual(
        midMinute.candles.map((c) => c.time.slice(11, 16)),
        ['13:06', '13:07', '13:08', '13:09', '13:10'],
        'buckets opening in [from, to)',
      );
      assert.deepEqual(midMinute.candles.at(-1) && shape(midMinute.candles.at(-1)!), truth.find((c) => c.time === at('2024-01-03T13:10:00Z')), 'the last minute whole');

      const latest = await candles('limit=50');
      assert.deepEqual(latest.candles.map(shape), truth.slice(-50));
      assert.equal(latest.truncated, true);
      // Page back with to = the oldest held, as the chart does, until the API says nothing is older.
      const held: Truth[] = latest.candles.map(shape);
      let oldest = latest.candles[0]!.time;
      let pages = 0;
      for (let truncated = true; truncated; pages++) {
        const page = await candles(`to=${oldest}&limit=200`);
        held.unshift(...page.candles.map(shape));
        truncated = page.truncated;
        if (page.candles.length > 0) oldest = page.candles[0]!.time;
        assert.ok(pages < 10, 'paging ends');
      }
      assert.deepEqual(held, truth, 'every candle once, in order, back to the first tick');
      const before = await candles('to=2024-01-03T13:00:00Z&limit=100');
      assert.deepEqual([before.count, before.truncated, before.candles], [0, false, []], 'before the first tick in a session: nothing');
    });

    it('answers an empty list, never an error, where no tick is stored', async () => {
      for (const query of ['from=2024-01-02&to=2024-01-02', 'from=2023-06-01&to=2023-06-30', 'from=2024-01-05&to=2024-01-10', 'to=2020-01-01', 'from=2024-01-06&to=2024-01-07']) {
        const body = await candles(query);
        assert.deepEqual([body.count, body.truncated, body.candles, body.segments], [0, false, [], []], query);
      }
      const [status, body] = await get<{ error: { code: string } }>('/api/candlesticks/USDCOP?interval=1min&from=2024-01-04&to=2024-01-03');
      assert.deepEqual([status, body.error.code], [400, 'bad_argument']);
    });

    it('indicators at 1min: warmed up on earlier 1-minute candles, the same on both routes', async () => {
      const query = 'interval=1min&to=2024-01-03T18:00:00Z&limit=30';
      const [, byCandle] = await get<CandlesResponse>(`/api/candlesticks/USDCOP?${query}&indicators=ema20,rsi14`);
      const [status, byName] = await get<CandleIndicatorsResponse>(`/api/candlesticks/USDCOP/indicators?${query}&indicators=ema20,rsi14`);
      assert.equal(status, 200, JSON.stringify(byName));
      assert.equal(byCandle.count, 30);
      assert.deepEqual(byName.times, byCandle.candles.map((c) => c.time));
      assert.deepEqual(byName.values['ema20'], byCandle.candles.map((c) => c.indicators?.['ema20'] ?? null));
      // Independently: indicators over every 1-minute candle of the session from the ground truth.
      const day = truthIn(at('2024-01-03T13:00:00Z'), at('2024-01-03T18:00:00Z'));
      const rows = computeIndicators(day.map((c) => ({ time: c.time, open: c.open, high: c.high, low: c.low, close: c.close })));
      const offset = day.length - 30;
      byCandle.candles.forEach((c, i) => {
        const v = c.indicators?.['ema20'];
        const expected = rows[offset + i]!.ema20;
        assert.ok(typeof v === 'number' && Math.abs(v - expected) < 0.005, `ema20 at ${c.time}: ${v} vs ${expected}`);
        const rsi = c.indicators?.['rsi14'];
        assert.ok(typeof rsi === 'number' && Math.abs(rsi - rows[offset + i]!.rsi14) < 0.1, `rsi14 at ${c.time}`);
      });
    });

    it('lists 1min among the allowed intervals on both routes', async () => {
      for (const url of ['/api/candlesticks/USDCOP?interval=2min', '/api/candlesticks/USDCOP/indicators?interval=2min&indicators=ema20']) {
        const [status, body] = await get<{ error: { message: string } }>(url);
        assert.equal(status, 400);
        assert.equal(body.error.message, 'Invalid querystring/interval: must be one of 1min, 5min, 15min, 30min, 1h, 4h, 1day, 1w.', url);
      }
    });
  });
}
