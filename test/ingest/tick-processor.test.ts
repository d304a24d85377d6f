/**
 * TickProcessor with its real parts (memory bus, durable writer, a test database) on a ManualClock:
 * the bars it stores know how much of their slot the feed covered, and a burst of late ticks
 * makes one stored revision per flush window.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createMemoryBus, type Bus, type BusEvent } from '../../src/bus/index.ts';
import { ManualClock } from '../../src/clock.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { DurableWriter } from '../../src/ingest/durable-writer.ts';
import { TickProcessor } from '../../src/ingest/tick-processor.ts';
import { barRevisions, barsBetween } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';

const SYMBOL = 'USD/COP';
const logger = pino({ level: 'silent' });
const at = (hms: string): number => Date.parse(`2024-01-02T${hms}Z`);

function tick(time: number, price: number, receivedAt: number, bid: number | null = null): Tick {
  return { symbol: SYMBOL, time, price, bid, ask: null, receivedAt, source: 'twelvedata_ws' };
}

for (const target of databaseTargets()) {
  describe(`TickProcessor on ${target.name}`, () => {
    let db: Db;
    let bus: Bus;
    let clock: ManualClock;
    let writer: DurableWriter;
    let pipeline: TickProcessor;
    const barEvents: Array<Record<string, unknown>> = [];
    before(async () => {
      db = await target.open();
      // Started at 12:58 Bogota + 5 h = 12:58Z, before the session: the first slot is watched whole.
      clock = new ManualClock(at('12:58:00'));
      bus = createMemoryBus({ clock });
      await bus.subscribe(SYMBOL, (e: BusEvent) => void barEvents.push(e.data), { channels: ['bars'] });
      writer = new DurableWriter({ db, clock, logger, spoolPath: join(mkdtempSync(join(tmpdir(), 'pipeline-')), 'spool.jsonl'), tickFlushMs: 10 });
      pipeline = new TickProcessor({ symbol: SYMBOL, calendar: new MarketCalendar(), clock, bus, writer, logger, maxJump: 0.05 });
    });
    after(async () => {
      pipeline.stop();
      await writer.close();
      await bus.close();
      await db.close();
    });

    it('stores a bar whose slot saw a 60 s disconnect as partial with coverage 0.8, and says so on the bus', async () => {
      await clock.advanceTo(at('13:01:00'));
      pipeline.addTick(tick(at('13:01:00'), 3900, clock.now()));
      await clock.advanceTo(at('13:02:00'));
      pipeline.feedDown();
      await clock.advanceTo(at('13:03:00'));
      pipeline.feedUp();
      pipeline.addTick(tick(at('13:03:00'), 3902, clock.now()));
      await clock.advanceTo(at('13:07:00'));
      pipeline.addTick(tick(at('13:07:00'), 3903, clock.now()));
      await clock.advanceTo(at('13:10:03'));
      await writer.flush();

      const [first, second] = await barsBetween(db, SYMBOL, at('13:00:00'), at('13:10:00'));
      assert.deepEqual([first?.flags, first?.coverage, first?.revision], [['partial'], 0.8, 1]);
      assert.deepEqual([second?.flags, second?.coverage], [['flat'], 1]);
      const finals = barEvents.filter((e) => e['final'] === true && e['time'] === '2024-01-02T13:00:00.000Z');
      assert.deepEqual(finals.map((e) => [e['partial'], e['coverage']]), [[true, 0.8]]);
    });

    it('stores a burst of 500 late ticks as one revision per 1 s flush window', async () => {
      const burstStart = clock.now();
      for (let i = 0; i < 500; i++) {
        // 5 ms apart on the clock: the burst lasts 2.5 s, so three flush windows.
        await clock.advanceTo(burstStart + i * 5);
        pipeline.addTick(tick(at('13:00:00') + (i % 300) * 1000, 3900 + (i % 7), clock.now(), 3800 + i / 100));
      }
      await clock.advance(2_000);
      await writer.flush();

      const [bar] = await barsBetween(db, SYMBOL, at('13:00:00'), at('13:05:00'));
      const history = await barRevisions(db, SYMBOL, at('13:00:00'));
      assert.deepEqual(pipeline.counters.rejected, {});
      assert.equal(bar?.tickCount, 502, 'every late tick is in the bar');
      const revisions = barEvents.filter((e) => e['final'] === true && e['time'] === '2024-01-02T13:00:00.000Z' && Number(e['revision']) > 1);
      assert.deepEqual(revisions.map((e) => e['revision']), [2, 3, 4], 'one revision per flush window: 3 windows, not 500 revisions');
      // The writer may store two of them in one batch (the later wins), so the stored count can be lower, never higher.
      assert.ok(bar !== undefined && bar.revision >= 2 && bar.revision <= 4, `stored revision ${bar?.revision}`);
      assert.equal(history.length, bar.revision - 1);
      assert.deepEqual([bar?.flags, bar?.coverage], [['partial'], 0.8], 'a revision keeps the slot coverage');
      assert.equal(pipeline.counters.outcomes['late_revision'], 500);
    });
  });
}
