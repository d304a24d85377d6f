import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMemoryBus } from '../../src/bus/index.ts';
import { ManualClock } from '../../src/clock.ts';
import type { LatestPrice } from '../../src/contracts/bus-messages.ts';
import { BAR_MS, type Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { barMessage } from '../../src/ingest/tick-processor.ts';
import { runSync } from '../../src/jobs/sync.ts';
import { barsBetween, upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { listRuns } from '../../src/store/pipeline-runs-repo.ts';
import { insertTicks, ticksBetween } from '../../src/store/ticks-repo.ts';
import { anyData, type AnyDataBus } from '../bus/helpers.ts';
import { databaseTargets } from '../support/test-db.ts';
import { SYMBOL } from './support/jobs-fixtures.ts';

const calendar = new MarketCalendar();

/** Tuesday 2024-03-05 13:00Z, 08:00 Bogota. */
const OPEN = Date.UTC(2024, 2, 5, 13, 0);
const NOW = OPEN + 2 * 3600_000;
const [A, B, C, D, E, F] = [0, 1, 2, 3, 4, 5].map((i) => OPEN + i * BAR_MS) as [number, number, number, number, number, number];

function tick(i: number): Tick {
  return { symbol: SYMBOL, time: OPEN + i * 1500 + 7, price: 3900 + i / 4, bid: 3899.5, ask: 3900.5 + i / 4, receivedAt: OPEN + i * 1500 + 90, source: 'simulator' };
}

/** The tick message the ingest pipeline publishes. */
function tickMessage(t: Tick): LatestPrice {
  return {
    symbol: t.symbol,
    price: t.price,
    bid: t.bid,
    ask: t.ask,
    spread: t.bid !== null && t.ask !== null ? t.ask - t.bid : null,
    timestamp: new Date(t.time).toISOString(),
    receivedAt: new Date(t.receivedAt).toISOString(),
    source: t.source,
  };
}

function bar(time: number, close: number, revision = 1, extra: Partial<Bar> = {}): Bar {
  return { symbol: SYMBOL, time, open: close - 1, high: close + 1, low: close - 2, close, volume: null, tickCount: 40, source: 'simulator', revision, flags: [], ...extra };
}

for (const target of databaseTargets()) {
  describe(`runSync on ${target.name}`, () => {
    let db: Db;
    let bus: AnyDataBus;
    const clock = new ManualClock(NOW);
    before(async () => {
      db = await target.open();
      bus = anyData(createMemoryBus({ clock }));
      await insertTicks(db, [tick(1), tick(2)]);
      await upsertBars(db, [bar(A, 3901), bar(C, 3903), bar(D, 3904), bar(E, 3905, 1, { source: 'twelvedata_rest', flags: ['backfilled'], tickCount: null })]);
      await upsertBars(db, [bar(D, 3914)]); // the live path already revised D: stored revision 2
      for (let i = 1; i <= 5; i++) await bus.publish('ticks', SYMBOL, tickMessage(tick(i)));
      await bus.publish('bars', SYMBOL, barMessage(bar(A, 3901), true));
      await bus.publish('bars', SYMBOL, barMessage(bar(B, 3902), false)); // forming: not stored by ingest either
      await bus.publish('bars', SYMBOL, barMessage(bar(B, 3902.5), true));
      await bus.publish('bars', SYMBOL, barMessage(bar(C, 3903), true));
      await bus.publish('bars', SYMBOL, barMessage(bar(C, 3913, 2), true)); // a late tick revised C
      await bus.publish('bars', SYMBOL, barMessage(bar(D, 3904), true)); // older than the stored revision
      await bus.publish('bars', SYMBOL, barMessage(bar(E, 3915), true)); // the live bar for a backfilled slot
      await bus.publish('bars', SYMBOL, { time: new Date(F).toISOString(), empty: true, final: true });
      await bus.publish('bars', SYMBOL, { time: 'not a time', open: 1, final: true });
      await bus.publish('status', SYMBOL, { state: 'connected' });
    });
    after(async () => {
      await bus.close();
      await db.close();
    });

    it('inserts the ticks and final bars the database is missing, by the revision rule', async () => {
      const s = await runSync({ db, bus, symbol: SYMBOL, clock, calendar, pageSize: 4 });
      assert.deepEqual([s.events, s.lastSeq, s.complete, s.unreadable], [15, 15, true, 1]);
      assert.deepEqual(s.ticks, { seen: 5, inserted: 3 });
      assert.deepEqual(s.bars, { seen: 5, inserted: 1, updated: 2, skipped: 2 });

      const ticks = await ticksBetween(db, SYMBOL, OPEN, NOW);
      assert.deepEqual(ticks, [1, 2, 3, 4, 5].map(tick));
      const bars = new Map((await barsBetween(db, SYMBOL, A, F + BAR_MS)).map((b) => [b.time, b]));
      assert.deepEqual([bars.get(A)?.close, bars.get(A)?.revision], [3901, 1]);
      assert.deepEqual([bars.get(B)?.close, bars.get(B)?.source], [3902.5, 'simulator']);
      assert.deepEqual([bars.get(C)?.close, bars.get(C)?.revision], [3913, 2]);
      assert.deepEqual([bars.get(D)?.close, bars.get(D)?.revision], [3914, 2], 'a higher stored revision is never overwritten');
      assert.deepEqual([bars.get(E)?.close, bars.get(E)?.source, bars.get(E)?.flags], [3915, 'simulator', []]);
      assert.equal(bars.has(F), false);
    });

    it('records the run and writes nothing the second time', async () => {
      const s = await runSync({ db, bus, symbol: SYMBOL, clock, calendar });
      assert.deepEqual([s.ticks.inserted, s.bars.inserted, s.bars.updated, s.bars.skipped], [0, 0, 0, 5]);
      const runs = await listRuns(db, { layer: 'sync' });
      assert.equal(runs.length, 2);
      assert.deepEqual([runs[1]?.status, runs[1]?.rowsIn, runs[1]?.rowsOut, runs[1]?.startedAt], ['completed', 15, 6, NOW]);
    });
  });
}
