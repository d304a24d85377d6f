/**
 * A PostgreSQL outage is not a lost lease. The ingest service runs on the simulator (fast
 * simulated clock) against a private PostgreSQL cluster, which is stopped for 30 s of real time
 * (15 simulated minutes) mid-session and started again. The feed must stay connected (lifecycle
 * ACTIVE, no socket closed, no reconnect), the spool must grow during the outage and drain after
 * it, and every tick the feed delivered must be in the ticks table exactly once, with a bar for
 * every slot the run covered.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createMemoryBus, type Bus } from '../../src/bus/index.ts';
import { ScaledClock } from '../../src/clock.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import type { Tick } from '../../src/domain/tick.ts';
import type { FeedEvent, FeedState, LiveFeed } from '../../src/feeds/feed-events.ts';
import { startSimulator, type RunningSimulator } from '../../src/feeds/simulator/index.ts';
import { TwelveDataStream } from '../../src/feeds/twelvedata/ws-client.ts';
import { createRestSource } from '../../src/jobs/history-source.ts';
import { IngestService } from '../../src/ingest/ingest-service.ts';
import type { Transition } from '../../src/ingest/lifecycle.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { barsBetween } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { leaseRows } from '../../src/store/leases-repo.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPostgres } from '../../src/store/postgres-driver.ts';
import { ticksBetween } from '../../src/store/ticks-repo.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.ts';
import { waitFor } from '../support/wait-for.ts';

const calendar = new MarketCalendar();
const session = calendar.sessionFor('2026-03-04');
const SPEED = 30;
const MIN = 60_000;
const OUTAGE_REAL_MS = 30_000;
const SYMBOL = 'USD/COP';
const logger = pino({ level: process.env['TASA_LOG_LEVEL'] === 'silent' || !process.env['TASA_LOG_LEVEL'] ? 'silent' : process.env['TASA_LOG_LEVEL'] });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The feed as the service sees it, recording every tick it delivers and every state it reports. */
function tapped(feed: LiveFeed, ticks: Tick[], states: FeedState[]): LiveFeed {
  return {
    close: () => feed.close(),
    subscribe: (symbols) => feed.subscribe(symbols),
    unsubscribe: (symbols) => feed.unsubscribe(symbols),
    events: async function* (): AsyncGenerator<FeedEvent> {
      for await (const event of feed.events()) {
        if (event.type === 'tick') ticks.push(event.tick);
        if (event.type === 'status') states.push(event.state);
        yield event;
      }
    },
  };
}

/**
 * A tick's identity at the exchange. The same quote delivered twice (same time, price, bid and
 * ask, received a moment apart) is one tick: the pipeline drops the second as a duplicate.
 */
const tickKey = (t: Tick): string => `${t.time}|${t.price}|${t.bid}|${t.ask}`;

describe('ingest through a PostgreSQL outage (private cluster)', { timeout: 240_000 }, () => {
  let pg: PrivatePostgres;
  let db: Db;
  let bus: Bus;
  let sim: RunningSimulator;
  let clock: ScaledClock;
  before(async () => {
    assert.ok(session);
    pg = await startPrivatePostgres();
    db = await openPostgres(pg.url);
    await migrate(db);
    clock = new ScaledClock(session.open + 60 * MIN, SPEED);
    bus = createMemoryBus({ clock });
    sim = await startSimulator({ clock, seed: 23, ticksPerSecond: 1, logger });
  });
  after(async () => {
    await sim?.close();
    await bus?.close();
    await db?.close();
    await pg?.destroy();
  });

  it('keeps the feed, spools the outage, drains it when the database returns: every delivered tick stored once', async (t) => {
    const metrics = createMetrics({ defaultMetrics: false });
    const rest = createRestSource({ db, clock, keys: ['outage-key'], baseUrl: sim.restUrl, simulated: true, plan: { perMinute: 1000, perDay: 100_000 }, logger });
    const delivered: Tick[] = [];
    const feedStates: FeedState[] = [];
    const ingest = new IngestService({
      db,
      bus,
      clock,
      calendar,
      logger,
      metrics,
      symbols: [SYMBOL],
      holder: 'outage-test',
      spoolPath: join(mkdtempSync(join(tmpdir(), 'outage-')), 'spool.jsonl'),
      readiness: { waitForL0Ms: 0 },
      openFeed: (symbols) =>
        tapped(
          new TwelveDataStream({ url: sim.wsUrl, keys: rest.pool, symbols, clock, logger, source: 'simulator', shouldReconnect: () => calendar.isMarketOpen(clock.now()) }),
          delivered,
          feedStates,
        ),
    });
    const transitions: Transition[] = [];
    ingest.lifecycle.onTransition((t) => transitions.push(t));
    ingest.start();
    try {
      await waitFor(() => ingest.status().writer.ticksWritten >= 50, 'the first ticks stored', 30_000);
      assert.equal(ingest.lifecycle.state, 'ACTIVE');
      const [lease] = await leaseRows(db, [`ingest:${SYMBOL}`]);
      const epochBefore = lease?.epoch;

      await pg.stop();
      const outageStart = clock.now();
      let spoolMid = 0;
      for (let waited = 0; waited < OUTAGE_REAL_MS; waited += 1000) {
        await sleep(1000);
        assert.equal(ingest.lifecycle.state, 'ACTIVE', `still ACTIVE ${waited / 1000 + 1} s into the outage`);
        if (waited === 10_000) spoolMid = ingest.status().writer.spool.entries;
      }
      const during = ingest.status();
      assert.equal(during.writer.databaseDown, true);
      assert.ok(spoolMid > 0, 'the spool holds the outage');
      assert.ok(during.writer.spool.entries > spoolMid + 100, `the spool keeps growing (${spoolMid} -> ${during.writer.spool.entries})`);
      assert.ok((during.writer.spool.oldestAgeMs ?? 0) >= clock.now() - outageStart - 60_000, 'its age is the outage');
      assert.deepEqual(during.leases, [SYMBOL], 'the lease is kept through the outage');

      await pg.start();
      const back = performance.now();
      const spooledEntries = ingest.status().writer.spool.entries;
      await waitFor(() => !ingest.status().writer.databaseDown && ingest.status().writer.spool.entries === 0, 'the spool drained', 60_000);
      t.diagnostic(`${spooledEntries} spooled entries drained ${Math.round(performance.now() - back)} ms after PostgreSQL was back (retry backoff included)`);
      const outageEnd = clock.now();
      await sleep(3000);
      assert.equal(ingest.lifecycle.state, 'ACTIVE');
      const [leaseAfter] = await leaseRows(db, [`ingest:${SYMBOL}`]);
      assert.equal(leaseAfter?.holder, 'outage-test');
      assert.equal(leaseAfter?.epoch, epochBefore, 'same holder, same epoch: the fence let the spool through');
      await ingest.stop();

      const status = ingest.status();
      const activeSpells = transitions.filter((t) => t.from === 'ACTIVE');
      assert.deepEqual(
        activeSpells.map((t) => t.reason),
        ['stopping'],
        'ACTIVE left only when stopped',
      );
      assert.equal(status.feed.connects, 1, 'one feed for the whole run');
      assert.deepEqual(
        feedStates.filter((s) => s === 'disconnected' || s === 'reconnecting'),
        [],
        'the socket was never closed or reopened before the stop',
      );
      assert.match(await metrics.registry.getSingleMetricAsString('tasa_feed_reconnects_total'), /tasa_feed_reconnects_total 0/);
      assert.equal(status.writer.fencedOut, 0);
      assert.equal(status.writer.spool.rejected, 0);

      const counters = status.symbols[SYMBOL];
      assert.ok(counters);
      assert.deepEqual(counters.rejected, {}, 'the simulator sends clean ticks: none rejected');
      const first = Math.min(...delivered.map((t) => t.time));
      const last = Math.max(...delivered.map((t) => t.time));
      const stored = await ticksBetween(db, SYMBOL, first, last + 1);
      const storedKeys = stored.map(tickKey);
      assert.equal(new Set(storedKeys).size, storedKeys.length, 'no tick stored twice');
      assert.deepEqual(storedKeys.sort(), [...new Set(delivered.map(tickKey))].sort(), `every delivered tick stored (${delivered.length} delivered)`);
      assert.ok(
        delivered.filter((t) => t.receivedAt >= outageStart && t.receivedAt < outageEnd).length > 500,
        'hundreds of ticks arrived during the outage',
      );

      // Aggregation went on: every slot wholly inside the run has its bar, from the ticks.
      const firstSlot = Math.ceil(first / (5 * MIN)) * 5 * MIN;
      const lastSlot = Math.floor(last / (5 * MIN)) * 5 * MIN;
      const bars = await barsBetween(db, SYMBOL, firstSlot, lastSlot);
      const expectedSlots = Array.from({ length: (lastSlot - firstSlot) / (5 * MIN) }, (_, i) => firstSlot + i * 5 * MIN);
      assert.deepEqual(
        bars.map((b) => b.time),
        expectedSlots,
      );
      for (const bar of bars) {
        const inSlot = stored.filter((t) => t.time >= bar.time && t.time < bar.time + 5 * MIN);
        assert.equal(bar.tickCount, inSlot.length, `bar ${new Date(bar.time).toISOString()} counts its ticks`);
        assert.equal(bar.high, Math.max(...inSlot.map((t) => t.price)));
        assert.equal(bar.low, Math.min(...inSlot.map((t) => t.price)));
      }
    } finally {
      await ingest.stop().catch(() => undefined);
    }
  });
});
