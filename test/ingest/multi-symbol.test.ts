/**
 * Several symbols over one TwelveData WebSocket, each in its own market hours, on the simulator:
 *
 * - the stream: subscribe/unsubscribe on the live connection, a subscribe made before the socket
 *   opened included in its first message, and after a reconnect one subscribe with every tracked
 *   symbol;
 * - the ingest, USD/BRL (09:00-17:00 Sao Paulo, 12:00-20:00 UTC) and USD/COP (08:00-13:00 Bogota,
 *   13:00-18:00 UTC) on 2026-03-03, on a fast clock: USD/BRL's market opens and the feed connects
 *   for it alone; an hour later USD/COP's opens and is subscribed on the same connection; at
 *   USD/COP's close it is unsubscribed while USD/BRL streams on. The other symbol's bars around
 *   each change stay complete (coverage 1) and hold every tick the simulator printed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createMemoryBus, type Bus } from '../../src/bus/index.ts';
import { ScaledClock, systemClock } from '../../src/clock.ts';
import { BAR_MS, type Bar } from '../../src/domain/bar.ts';
import { CalendarSet, MarketCalendar, type Session } from '../../src/domain/calendar.ts';
import { shippedInstrument } from '../../src/domain/symbol.ts';
import type { FeedEvent, SubscriptionEvent } from '../../src/feeds/feed-events.ts';
import { startSimulator, type RunningSimulator } from '../../src/feeds/simulator/index.ts';
import { TwelveDataStream } from '../../src/feeds/twelvedata/ws-client.ts';
import { IngestService } from '../../src/ingest/ingest-service.ts';
import { barsBetween } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';
import { waitFor } from '../support/wait-for.ts';

const logger = pino({ level: 'silent' });
const MIN = 60_000;
const BRL = 'USD/BRL';
const COP = 'USD/COP';
const calendars = new CalendarSet([BRL, COP].map((symbol) => new MarketCalendar({}, shippedInstrument(symbol))));

function sessionOf(symbol: string): Session {
  const session = calendars.of(symbol).sessionFor('2026-03-03');
  assert.ok(session, `${symbol} trades on 2026-03-03`);
  return session;
}

async function until(clock: ScaledClock, t: number): Promise<void> {
  while (clock.now() < t) await new Promise((r) => setTimeout(r, 20));
}

/**
 * The bar holds exactly the ticks the simulator printed for its slot (it was streamed all along).
 * The wire stamps whole seconds: two prints of one second with the same quote are one tick.
 */
function assertWholeBar(sim: RunningSimulator, bar: Bar | undefined, symbol: string, slot: number): void {
  const what = `${symbol} ${new Date(slot).toISOString()}`;
  assert.ok(bar, `${what} is stored`);
  assert.equal(bar.coverage, 1, `${what} was covered whole`);
  assert.ok(!bar.flags.includes('partial'), `${what} is not partial`);
  const printed = sim.ticksInSlot(symbol, slot);
  const prices = printed.map((t) => t.price);
  const onTheWire = new Set(printed.map((t) => `${Math.floor(t.time / 1000)}|${t.price}|${t.bid}|${t.ask}`));
  assert.deepEqual(
    [bar.open, bar.high, bar.low, bar.close, bar.tickCount],
    [prices[0], Math.max(...prices), Math.min(...prices), prices.at(-1), onTheWire.size],
    `${what} holds every tick the simulator printed`,
  );
}

/**
 * `count` bars from `from`, each holding every tick the simulator printed for its slot. At these
 * clock speeds the 2-second watermark is milliseconds of real time, so on a loaded machine a slot's
 * last ticks may land after it closed: they revise the bar (a late tick's revision), which is
 * waited for here, and what counts is the stored bar once revised.
 */
async function wholeBars(db: Db, sim: RunningSimulator, symbol: string, from: number, count: number): Promise<void> {
  const isWhole = (bar: Bar | undefined, slot: number): boolean => {
    try {
      assertWholeBar(sim, bar, symbol, slot);
      return true;
    } catch {
      return false;
    }
  };
  let bars: Bar[] = [];
  const slots = Array.from({ length: count }, (_, i) => from + i * BAR_MS);
  await waitFor(
    async () => {
      bars = await barsBetween(db, symbol, from, from + count * BAR_MS);
      return slots.every((slot) => isWhole(bars.find((b) => b.time === slot), slot));
    },
    () => `${count} whole ${symbol} bars from ${new Date(from).toISOString()}`,
    5_000,
  ).catch(() => undefined);
  for (const slot of slots) assertWholeBar(sim, bars.find((b) => b.time === slot), symbol, slot);
}

async function storedBars(db: Db, symbol: string, from: number, count: number): Promise<Bar[]> {
  let bars: Bar[] = [];
  await waitFor(
    async () => (bars = await barsBetween(db, symbol, from, from + count * BAR_MS)).length === count,
    () => `${count} ${symbol} bars from ${new Date(from).toISOString()} (have ${bars.length})`,
  );
  return bars;
}

describe('TwelveDataStream subscriptions on a live connection', { timeout: 60_000 }, () => {
  let sim: RunningSimulator;
  before(async () => {
    sim = await startSimulator({ clock: systemClock, symbols: [COP, BRL, 'EUR/USD'], ticksPerSecond: 2, logger });
  });
  after(async () => {
    await sim?.close();
  });

  it('changes the tracked set without reconnecting, and subscribes to all of it in one message after a reconnect', async () => {
    const stream = new TwelveDataStream({ url: sim.wsUrl, apiKey: 'k-subscriptions', symbols: [COP], clock: systemClock, logger, heartbeatIntervalMs: 3_600_000, backoff: { initialMs: 10, maxMs: 50 } });
    const subscriptions: SubscriptionEvent[] = [];
    const events: FeedEvent[] = [];
    const consuming = (async () => {
      for await (const event of stream.events()) {
        events.push(event);
        if (event.type === 'subscription') subscriptions.push(event);
      }
    })();
    // Before the socket has opened: part of the first subscribe.
    stream.subscribe([BRL]);
    try {
      await waitFor(() => subscriptions.length === 1, 'the first subscribe-status');
      assert.deepEqual(subscriptions[0]?.success.sort(), [BRL, COP], 'one subscribe with both symbols');
      assert.equal(sim.stats().wsMessagesReceived, 1);

      stream.subscribe(['EUR/USD', BRL]);
      await waitFor(() => Object.keys(sim.stats().subscriptions).length === 3, 'EUR/USD subscribed');
      assert.deepEqual(subscriptions[1]?.success, ['EUR/USD'], 'only the new symbol is sent');
      stream.unsubscribe([COP, 'USD/MXN']);
      await waitFor(() => sim.stats().subscriptions[COP] === undefined, 'USD/COP unsubscribed');
      assert.deepEqual(sim.stats().subscriptions, { [BRL]: 1, 'EUR/USD': 1 });
      assert.deepEqual(stream.symbols(), [BRL, 'EUR/USD']);
      assert.equal(sim.stats().connectionsTotal, 1, 'no reconnection for a subscription change');
      assert.equal(sim.stats().wsMessagesReceived, 3, 'one message per change, nothing for an untracked symbol');

      sim.faults.dropAll();
      await waitFor(() => sim.stats().connectionsTotal === 2 && subscriptions.length === 3, 'reconnected and subscribed');
      assert.deepEqual(subscriptions[2]?.success.sort(), ['EUR/USD', BRL], 'the tracked set, in one subscribe');
      assert.deepEqual(sim.stats().subscriptions, { [BRL]: 1, 'EUR/USD': 1 });
      assert.equal(sim.stats().wsMessagesReceived, 4, 'one message after the reconnect');
      await waitFor(() => events.some((e) => e.type === 'tick' && e.tick.symbol === 'EUR/USD'), 'EUR/USD ticks after the reconnect');
    } finally {
      await stream.close();
      await consuming;
    }
  });
});

for (const target of databaseTargets()) {
  describe(`ingest of two symbols with different hours on ${target.name}`, { timeout: 120_000 }, () => {
    let db: Db;
    let bus: Bus;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await bus?.close();
      await db?.close();
    });

    /** A simulator and an ingest of both symbols on a clock from `start`. */
    async function run(start: number, speed: number): Promise<{ clock: ScaledClock; sim: RunningSimulator; ingest: IngestService; frames: Array<{ connection: number; symbol: string }> }> {
      const clock = new ScaledClock(start, speed);
      bus = createMemoryBus({ clock });
      const frames: Array<{ connection: number; symbol: string }> = [];
      const sim = await startSimulator({
        clock,
        symbols: [BRL, COP],
        seed: 21,
        ticksPerSecond: 1,
        logger,
        maxBacklogMs: Number.POSITIVE_INFINITY,
        onPriceFrame: (connection, frame) => frames.push({ connection, symbol: (JSON.parse(frame) as { symbol: string }).symbol }),
      });
      const ingest = new IngestService({
        db,
        bus,
        clock,
        calendar: calendars,
        logger,
        symbols: [BRL, COP],
        holder: `multi-${target.name}`,
        spoolPath: join(mkdtempSync(join(tmpdir(), 'multi-')), 'spool.jsonl'),
        readiness: { waitForL0Ms: 0 },
        openFeed: (symbols) =>
          // Silence: 750 ms of real time at this speed, so a loaded machine's pause is not taken for a stall.
          new TwelveDataStream({ url: sim.wsUrl, apiKey: 'k-multi', symbols, clock, logger, source: 'simulator', silenceTimeoutMs: 300_000, backoff: { initialMs: 1_000, maxMs: 20_000 } }),
      });
      ingest.start();
      return { clock, sim, ingest, frames };
    }

    it('subscribes the second market on the live connection when it opens; the first one streams on whole', async () => {
      const brl = sessionOf(BRL);
      const cop = sessionOf(COP);
      assert.ok(brl.open < cop.open && cop.open < brl.close, 'USD/BRL opens first, USD/COP within its session');
      const { clock, sim, ingest, frames } = await run(brl.open - 5 * MIN, 400);
      try {
        await until(clock, brl.open + MIN);
        const activeAt = ingest.lifecycle.transitions().find((t) => t.to === 'ACTIVE')?.at;
        assert.ok(activeAt !== undefined && activeAt >= brl.open, 'the feed opened with the first market, not before');

        await until(clock, cop.open - 2 * MIN);
        const first = ingest.status();
        assert.equal(first.state, 'ACTIVE', 'ACTIVE while any market is');
        assert.deepEqual([first.markets?.[BRL]?.state, first.markets?.[BRL]?.subscribed, first.markets?.[BRL]?.marketOpen], ['ACTIVE', true, true]);
        assert.deepEqual([first.markets?.[COP]?.state, first.markets?.[COP]?.subscribed, first.markets?.[COP]?.marketOpen], ['READY', false, false]);
        assert.deepEqual(sim.stats().subscriptions, { [BRL]: 1 }, 'the socket tracks the open market only');

        await until(clock, cop.open + 11 * MIN);
        const both = ingest.status();
        assert.deepEqual([both.markets?.[BRL]?.state, both.markets?.[COP]?.state, both.markets?.[COP]?.subscribed], ['ACTIVE', 'ACTIVE', true]);
        const stats = sim.stats();
        assert.equal(stats.connectionsTotal, 1, 'one socket for both markets, never reconnected');
        assert.deepEqual(stats.subscriptions, { [BRL]: 1, [COP]: 1 }, 'USD/COP was subscribed on that socket');
        assert.deepEqual([...new Set(frames.map((f) => f.connection))], [1]);
        assert.ok(frames.some((f) => f.symbol === COP), 'USD/COP prices flow on it');
        assert.equal(both.feed.connects, 1, 'one feed opened');

        await wholeBars(db, sim, BRL, cop.open - 10 * MIN, 4);
        // USD/COP's first slot began before the subscribe went out; the next one is whole.
        await storedBars(db, COP, cop.open, 2);
        await wholeBars(db, sim, COP, cop.open + BAR_MS, 1);
      } finally {
        await ingest.stop();
        await sim.close();
      }
    });

    it('unsubscribes a market at its close while the other streams on', async () => {
      const brl = sessionOf(BRL);
      const cop = sessionOf(COP);
      const { clock, sim, ingest, frames } = await run(cop.close - 15 * MIN, 300);
      try {
        await until(clock, cop.close - MIN);
        assert.deepEqual(sim.stats().subscriptions, { [BRL]: 1, [COP]: 1 });
        await until(clock, cop.close + 11 * MIN);
        const status = ingest.status();
        assert.deepEqual([status.state, status.markets?.[BRL]?.state, status.markets?.[COP]?.state, status.markets?.[COP]?.subscribed], ['ACTIVE', 'ACTIVE', 'READY', false]);
        assert.equal(status.markets?.[COP]?.session?.date, '2026-03-04', 'its next session');
        assert.ok(clock.now() < brl.close);
        const stats = sim.stats();
        assert.equal(stats.connectionsTotal, 1, 'the close did not reconnect');
        assert.deepEqual(stats.subscriptions, { [BRL]: 1 }, 'USD/COP unsubscribed on the live socket');
        const copFrames = frames.filter((f) => f.symbol === COP).length;
        await until(clock, clock.now() + 2 * MIN);
        assert.equal(frames.filter((f) => f.symbol === COP).length, copFrames, 'no USD/COP price after the unsubscribe');

        await wholeBars(db, sim, COP, cop.close - BAR_MS, 1);
        await wholeBars(db, sim, BRL, cop.close - BAR_MS, 3);
      } finally {
        await ingest.stop();
        await sim.close();
      }
    });
  });
}
