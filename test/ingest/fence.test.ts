/**
 * The lease fence of the DurableWriter: two writers of one symbol, B taking over after A's lease
 * expired. A's late writes (a live batch, and the spool it kept through an outage) are refused in
 * the database transaction, counted and reported; B's rows stay as B wrote them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../src/clock.ts';
import type { Bar } from '../../src/domain/bar.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { DurableWriter, type WriteFence } from '../../src/ingest/durable-writer.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { barsBetween } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { acquireLease } from '../../src/store/leases-repo.ts';
import { ticksBetween } from '../../src/store/ticks-repo.ts';
import { databaseTargets } from '../support/test-db.ts';

const T0 = Date.parse('2025-03-04T14:00:00Z');
const SYMBOL = 'USD/COP';
const LEASE = 'ingest:USD/COP';
const logger = pino({ level: 'silent' });

function tick(i: number, price = 4000 + i): Tick {
  return { symbol: SYMBOL, time: T0 + i * 1000, price, bid: null, ask: null, receivedAt: T0 + i * 1000 + 20, source: 'simulator' };
}

function bar(close: number): Bar {
  return { symbol: SYMBOL, time: T0, open: 4000, high: 4100, low: 3900, close, volume: null, tickCount: 30, source: 'simulator', revision: 1, flags: [] };
}

/** A writer's fence over a lease epoch the test controls (what the ingest service does with its leases). */
function fenceOf(holder: string, epoch: () => number | null, fencedOut: string[]): WriteFence {
  return { holder, epochOf: () => epoch(), onFencedOut: (symbol) => fencedOut.push(symbol) };
}

function spoolPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'fence-')), 'spool.jsonl');
}

for (const target of databaseTargets()) {
  describe(`the lease fence of the ingest writer on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('refuses the late writes of a writer whose lease another took, and leaves the new writer\'s rows untouched', async () => {
      const metrics = createMetrics({ defaultMetrics: false });
      const aEpoch = await acquireLease(db, { name: LEASE, holder: 'a', now: T0, ttlMs: 30_000 });
      assert.equal(aEpoch, 1);
      const aRefused: string[] = [];
      const a = new DurableWriter({ db, clock: systemClock, logger, metrics, spoolPath: spoolPath(), fence: fenceOf('a', () => aEpoch, aRefused) });
      for (let i = 0; i < 10; i++) a.addTick(tick(i));
      await a.flush();
      assert.equal(a.stats().ticksWritten, 10, 'a writes while it holds the lease');

      // a stalls past its lease; b takes over and writes the same bar slot and later ticks.
      const bEpoch = await acquireLease(db, { name: LEASE, holder: 'b', now: T0 + 31_000, ttlMs: 30_000 });
      assert.equal(bEpoch, 2);
      const b = new DurableWriter({ db, clock: systemClock, logger, spoolPath: spoolPath(), fence: fenceOf('b', () => bEpoch, []) });
      for (let i = 10; i < 20; i++) b.addTick(tick(i));
      b.addBar(bar(4050), systemClock.now());
      await b.flush();
      await b.close();

      // a wakes up and writes what it had: a different bar for the slot, a tick b also wrote, and
      // one b had not stored yet. Ticks are observations (insert or ignore): they are not fenced.
      a.addTick(tick(15));
      a.addTick(tick(20));
      a.addBar(bar(3111), systemClock.now());
      await a.flush();
      await a.close();

      const stats = a.stats();
      assert.equal(stats.fencedOut, 1, 'the bar refused');
      assert.equal(stats.ticksWritten, 12, 'the ticks are written (insert or ignore)');
      assert.equal(stats.databaseDown, false, 'a refusal is not an outage');
      assert.deepEqual(aRefused, [SYMBOL], 'the ingest service is told, to stop');
      assert.match(await metrics.registry.getSingleMetricAsString('tasa_writes_fenced_total'), /tasa_writes_fenced_total\{symbol="USD\/COP"\} 1/);
      const bars = await barsBetween(db, SYMBOL, T0, T0 + 1);
      assert.deepEqual(
        bars.map((x) => [x.close, x.revision]),
        [[4050, 1]],
        'b\'s bar, first revision',
      );
      const ticks = await ticksBetween(db, SYMBOL, T0, T0 + 60_000);
      assert.deepEqual(
        ticks.map((t) => t.price),
        Array.from({ length: 21 }, (_, i) => 4000 + i),
        'every tick once: b\'s, and the one only a had received',
      );
    });

    it('refuses a spool kept through an outage when another holder took the lease meanwhile, and empties it', async () => {
      const name = 'ingest:USD/COP';
      const path = spoolPath();
      // a's spool from an outage under epoch 2... but the lease is now at epoch 3 (c took it).
      const cEpoch = await acquireLease(db, { name, holder: 'c', now: T0 + 120_000, ttlMs: 30_000 });
      assert.equal(cEpoch, 3);
      const lines = [...[tick(40), tick(41)].map((t) => JSON.stringify({ t, e: 2 })), JSON.stringify({ b: { bar: { ...bar(3222), time: T0 + 300_000 }, closedAt: 0 }, e: 2 })];
      writeFileSync(path, lines.join('\n') + '\n');
      const refused: string[] = [];
      const late = new DurableWriter({ db, clock: systemClock, logger, spoolPath: path, fence: fenceOf('b', () => 2, refused) });
      await late.flush();
      await late.close();
      assert.equal(late.stats().fencedOut, 1, 'the bar is refused');
      assert.deepEqual(refused, [SYMBOL]);
      assert.equal(existsSync(path), false, 'refused entries are settled: the spool is gone');
      assert.equal((await ticksBetween(db, SYMBOL, T0 + 40_000, T0 + 42_000)).length, 2, 'the ticks are kept');
      assert.deepEqual(await barsBetween(db, SYMBOL, T0 + 300_000, T0 + 300_001), [], 'the stale bar is not written');
    });

    it('writes a spool whose epoch is still current after the outage (nobody took the lease)', async () => {
      const name = 'ingest:USD/COP';
      const path = spoolPath();
      const epoch = await acquireLease(db, { name, holder: 'c', now: T0 + 130_000, ttlMs: 30_000 });
      assert.equal(epoch, 3);
      writeFileSync(path, [tick(50), tick(51)].map((t) => JSON.stringify({ t, e: 3 })).join('\n') + '\n');
      const writer = new DurableWriter({ db, clock: systemClock, logger, spoolPath: path, fence: fenceOf('c', () => 3, []) });
      await writer.close();
      assert.equal(writer.stats().fencedOut, 0);
      assert.equal((await ticksBetween(db, SYMBOL, T0 + 50_000, T0 + 52_000)).length, 2);
      assert.equal(existsSync(path), false);
    });
  });
}
