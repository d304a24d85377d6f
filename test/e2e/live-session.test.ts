/**
 * End to end: the simulator and the ingest service on a fast simulated clock through a whole
 * session (08:00-13:00 Bogota) with dropped connections, a duplicate/out-of-order/malformed feed
 * and a stall, then the failsafe job. Every bar of the session must be stored once; live bars must
 * carry the OHLC of the ticks that were actually delivered (recomputed here from the stored ticks),
 * slots lost to the downtime must be filled from REST, and after the close every bar must equal
 * the simulator's own (REST) bar exactly: the few complete live bars whose open or close tie broke
 * otherwise than the simulator's are reconciled.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { randomBytes } from 'node:crypto';
import { createMemoryBus, createRedisBus, type Bus } from '../../src/bus/index.ts';
import { ScaledClock } from '../../src/clock.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import type { Bar } from '../../src/domain/bar.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { startSimulator, type RunningSimulator } from '../../src/feeds/simulator/index.ts';
import { TwelveDataStream } from '../../src/feeds/twelvedata/ws-client.ts';
import { IngestService } from '../../src/ingest/ingest-service.ts';
import { runFailsafe } from '../../src/jobs/failsafe.ts';
import { createRestSource } from '../../src/jobs/history-source.ts';
import { RECONCILE_ACTION } from '../../src/jobs/reconcile.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import { barRevisions, barsBetween } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { ticksBetween } from '../../src/store/ticks-repo.ts';
import { databaseTargets } from '../support/test-db.ts';

const calendar = new MarketCalendar();
const session = calendar.sessionFor('2026-03-03');
const SPEED = 600;
const MIN = 60_000;
const logger = pino({ level: 'silent' });

function at(bogotaHour: number, minute: number): number {
  assert.ok(session);
  return session.open + ((bogotaHour - 8) * 60 + minute) * MIN;
}

interface SlotTicks {
  high: number;
  low: number;
  count: number;
  /** Prices of the ticks with the earliest / latest exchange time in the slot. */
  openCandidates: number[];
  closeCandidates: number[];
  /** `${whole second}|${price}` of each tick, as the wire carries it. */
  keys: string[];
}

/**
 * Ticks grouped by 5-minute slot, computed here independently of the aggregator. TwelveData
 * stamps whole seconds, so several ticks can share the earliest (or latest) time; the aggregator
 * breaks such ties by arrival order, which the ticks table does not keep: any of them may open.
 */
function slots(ticks: readonly Tick[]): Map<number, SlotTicks> {
  const bySlot = new Map<number, Tick[]>();
  for (const t of ticks) {
    const slot = Math.floor(t.time / (5 * MIN)) * 5 * MIN;
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), t]);
  }
  const out = new Map<number, SlotTicks>();
  for (const [slot, list] of bySlot) {
    const first = Math.min(...list.map((t) => t.time));
    const last = Math.max(...list.map((t) => t.time));
    out.set(slot, {
      high: Math.max(...list.map((t) => t.price)),
      low: Math.min(...list.map((t) => t.price)),
      count: list.length,
      openCandidates: list.filter((t) => t.time === first).map((t) => t.price),
      closeCandidates: list.filter((t) => t.time === last).map((t) => t.price),
      keys: list.map((t) => `${Math.floor(t.time / 1000)}|${t.price}`),
    });
  }
  return out;
}

async function until(clock: ScaledClock, t: number): Promise<void> {
  while (clock.now() < t) await new Promise((r) => setTimeout(r, 20));
}

for (const target of databaseTargets()) {
  describe(`a whole live session on ${target.name}`, { timeout: 240_000 }, () => {
    let db: Db;
    let bus: Bus;
    let sim: RunningSimulator;
    let clock: ScaledClock;
    before(async () => {
      assert.ok(session);
      db = await target.open();
      clock = new ScaledClock(session.open - 20_000, SPEED);
      // The bus is Redis when a test server is given (CI), else in-process.
      const redisUrl = process.env['TEST_REDIS_URL'];
      bus = redisUrl ? await createRedisBus({ url: redisUrl, clock, keyPrefix: `tasa-e2e-${randomBytes(4).toString('hex')}:`, logger }) : createMemoryBus({ clock });
      // Every tick is sent, however long this busy process stalls at 600x: the bars are compared with REST's.
      sim = await startSimulator({ clock, seed: 11, ticksPerSecond: 1, logger, maxBacklogMs: Number.POSITIVE_INFINITY });
    });
    after(async () => {
      await sim?.close();
      await bus?.close();
      await db?.close();
    });

    it('stores every bar once with the OHLC of the delivered ticks, and the failsafe fills the downtime', async (t) => {
      assert.ok(session);
      const rest = createRestSource({ db, clock, keys: ['e2e-key'], baseUrl: sim.restUrl, simulated: true, plan: { perMinute: 1000, perDay: 100_000 }, logger });
      const ingest = new IngestService({
        db,
        bus,
        clock,
        calendar,
        logger,
        symbols: ['USD/COP'],
        holder: 'e2e',
        spoolPath: join(mkdtempSync(join(tmpdir(), 'e2e-')), 'spool.jsonl'),
        readiness: { waitForL0Ms: 0 },
        openFeed: (symbols) =>
          new TwelveDataStream({
            url: sim.wsUrl,
            keys: rest.pool,
            symbols,
            clock,
            logger,
            source: 'simulator',
            silenceTimeoutMs: 60_000,
            backoff: { initialMs: 1_000, maxMs: 20_000 },
            shouldReconnect: () => calendar.isMarketOpen(clock.now()),
          }),
      });
      ingest.start();

      await until(clock, at(9, 0));
      sim.faults.dropAll();
      sim.faults.setRates({ duplicateRate: 0.02, outOfOrderRate: 0.02, malformedRate: 0.01 });
      await until(clock, at(10, 0));
      sim.faults.dropAll();
      await until(clock, at(10, 30));
      sim.faults.stall(20 * MIN); // silent but open: the client must notice and reconnect
      await until(clock, at(12, 0));
      sim.faults.dropAll();
      await until(clock, session.close + 15_000);
      await ingest.stop();
      // The session has closed once its last bar is due (2 min grace): the failsafe reconciles it.
      await until(clock, session.close + 3 * MIN);

      const status = ingest.status();
      assert.ok(status.feed.connects >= 1);
      const before = await barsBetween(db, 'USD/COP', session.open, session.close);
      const missingBefore = 60 - before.length;
      // Each drop and the stall leave the bars of their slots partial (the feed covered part of them).
      const partialBefore = before.filter((b) => b.flags.includes('partial'));
      assert.ok(partialBefore.length >= 3, `the faults left partial bars (${partialBefore.length})`);
      assert.ok(partialBefore.every((b) => b.coverage !== undefined && b.coverage !== null && b.coverage < 1));
      assert.ok(before.filter((b) => !b.flags.includes('partial')).every((b) => b.coverage === 1), 'the other live bars were covered whole');

      const failsafe = await runFailsafe({ db, calendar, source: rest.source, symbol: 'USD/COP', clock, sessions: 1 });
      assert.ok(failsafe, 'failsafe ran');

      const bars = await barsBetween(db, 'USD/COP', session.open, session.close);
      assert.deepEqual(
        bars.map((b) => b.time),
        calendar.barGrid(session),
        'every slot of the session has exactly one bar',
      );
      const delivered = slots(await ticksBetween(db, 'USD/COP', session.open, session.close));
      const live = bars.filter((b) => !b.flags.includes('backfilled') && !b.flags.includes('reconciled'));
      const filled = bars.filter((b) => b.flags.includes('backfilled'));
      const reconciled = bars.filter((b) => b.flags.includes('reconciled'));
      assert.ok(bars.every((b) => b.source === 'simulator'), 'live and backfilled bars from the simulator are stored as simulated');
      assert.ok(live.length >= 30, `most bars come from the live feed (${live.length})`);
      assert.equal(live.length + filled.length + reconciled.length, 60);
      /** The live bar's values come from the delivered ticks (ties by arrival: any tied tick may open or close). */
      const assertBuiltFromDeliveredTicks = (bar: Bar, what: string) => {
        const expected = delivered.get(bar.time);
        assert.ok(expected, `ticks stored for ${new Date(bar.time).toISOString()}`);
        assert.deepEqual([bar.high, bar.low, bar.tickCount], [expected.high, expected.low, expected.count], what);
        assert.ok(expected.openCandidates.includes(bar.open), `${what}: open ${bar.open} is a first tick's price`);
        assert.ok(expected.closeCandidates.includes(bar.close), `${what}: close ${bar.close} is a last tick's price`);
      };
      for (const bar of live) assertBuiltFromDeliveredTicks(bar, 'live bar');
      assert.equal(filled.length, missingBefore + partialBefore.length, 'the failsafe filled exactly the slots the downtime lost and repaired the partial bars');
      assert.ok(partialBefore.every((p) => filled.some((b) => b.time === p.time)), 'every partial bar was replaced by the vendor bar');
      assert.ok(bars.every((b) => !b.flags.includes('partial')), 'no partial bar is left');
      assert.ok(filled.length > 0, 'the stall lost whole slots');
      const restBars = await rest.source.timeSeries({ symbol: 'USD/COP', start: session.open, end: session.close });
      const fromRest = new Map(restBars.bars.map((b) => [b.time, b]));
      for (const bar of bars) {
        const r = fromRest.get(bar.time);
        assert.deepEqual([bar.open, bar.high, bar.low, bar.close], [r?.open, r?.high, r?.low, r?.close], `${new Date(bar.time).toISOString()} (${bar.flags.join()}) is the simulator's REST bar`);
      }
      // A reconciled bar replaced a complete live bar built from every delivered tick of its slot.
      // Either an open or close tie between ticks sharing a second went the other way, or the slot
      // lost a tick the client could not see missing: one held back for reordering died with its
      // connection, or one printed late by this busy process found its connection already dropped.
      // The simulator's ground truth (every tick it printed for the slot) tells which.
      for (const bar of reconciled) {
        const replaced = (await barRevisions(db, 'USD/COP', bar.time)).at(-1);
        assert.ok(replaced && !replaced.flags.includes('partial') && replaced.coverage === 1, 'a complete live bar was reconciled');
        assertBuiltFromDeliveredTicks(replaced, 'reconciled live bar');
        const ticks = delivered.get(bar.time);
        const printed = sim.ticksInSlot('USD/COP', bar.time);
        const tie = ticks?.openCandidates.includes(bar.open) && ticks.closeCandidates.includes(bar.close);
        assert.ok(tie || (ticks?.count ?? 0) < printed.length, `${new Date(bar.time).toISOString()}: the vendor broke a tie of the same ticks, or the slot lost a tick`);
      }
      for (const [slot, ticks] of delivered) {
        const printed = new Set(sim.ticksInSlot('USD/COP', slot).map((p) => `${Math.floor(p.time / 1000)}|${p.price}`));
        assert.ok(ticks.keys.every((key) => printed.has(key)), `${new Date(slot).toISOString()}: every stored tick was printed by the simulator`);
      }
      const [entry, ...others] = await listAudit(db, { action: RECONCILE_ACTION, entity: 'bars:USD/COP:2026-03-03', limit: 10 });
      assert.equal(others.length, 0, 'the session was reconciled once');
      assert.deepEqual([entry?.details['compared'], entry?.details['replaced'], entry?.details['vendorMissing']], [60, reconciled.length, 0]);
      const spent = sim.stats().restRequests;
      const again = await runFailsafe({ db, calendar, source: rest.source, symbol: 'USD/COP', clock, sessions: 1 });
      assert.deepEqual([again.gapFill?.requests, sim.stats().restRequests - spent], [0, 0], 'a second failsafe run spends no request');
      t.diagnostic(`partial bars repaired: ${partialBefore.length}, slots filled: ${missingBefore}, complete live bars reconciled to the REST bar: ${reconciled.length} of ${live.length + reconciled.length}, ticks lost in flight: ${sim.faults.lostInFlight.length}`);
      assert.ok(sim.stats().faults.connectionsDropped >= 3);
    });
  });
}
