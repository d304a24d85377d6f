/**
 * The writer's durable spool: bounded (a full spool refuses loudly and counts), drained in
 * chunks, resumable after a crash mid-drain without loss or duplicates, and measured (size, age).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ManualClock, systemClock } from '../../src/clock.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { DurableWriter } from '../../src/ingest/durable-writer.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import type { Db } from '../../src/store/db.ts';
import { ticksBetween } from '../../src/store/ticks-repo.ts';
import { databaseTargets } from '../support/test-db.ts';

const T0 = Date.parse('2025-03-05T14:00:00Z');
const logger = pino({ level: 'silent' });

function tick(i: number): Tick {
  return { symbol: 'USD/COP', time: T0 + i * 100, price: 4000 + (i % 500) / 10, bid: null, ask: null, receivedAt: T0 + i * 100 + 5, source: 'simulator' };
}

function spoolPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'spool-')), 'spool.jsonl');
}

for (const target of databaseTargets()) {
  describe(`the ingest spool on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('spools while the database is down, with its size and age measured, and refuses (counted) past its bound', async () => {
      const down = await target.open();
      await down.close(); // every query now fails: the database is "down"
      const metrics = createMetrics({ defaultMetrics: false });
      const clock = new ManualClock(T0 + 60_000);
      const path = spoolPath();
      const writer = new DurableWriter({ db: down, clock, logger, metrics, spoolPath: path, spoolMaxBytes: 20_000, retryMaxMs: 60_000 });
      for (let i = 0; i < 50; i++) writer.addTick(tick(i));
      await writer.flush();
      let stats = writer.stats();
      assert.equal(stats.databaseDown, true);
      assert.equal(stats.spool.entries, 50);
      assert.equal(stats.spool.bytes, readFileSync(path).length, 'bytes on disk');
      assert.equal(stats.spool.oldestAgeMs, 60_000 - 5, 'age of the oldest tick waiting, on the clock');
      assert.match(await metrics.registry.getSingleMetricAsString('tasa_spool_entries'), /tasa_spool_entries 50/);

      for (let i = 50; i < 300; i++) writer.addTick(tick(i));
      await writer.flush();
      stats = writer.stats();
      assert.equal(stats.spool.entries, 50, 'the batch past the bound is not written');
      assert.equal(stats.spool.rejected, 250, 'but counted');
      assert.match(await metrics.registry.getSingleMetricAsString('tasa_spool_rejected_total'), /tasa_spool_rejected_total 250/);
      await writer.close();
      assert.ok(existsSync(path), 'what was spooled stays for the next start');
    });

    it('after a crash mid-append, the torn last line is skipped and the entries after it are kept', async () => {
      const path = spoolPath();
      const whole = JSON.stringify({ t: tick(20_000), e: null });
      writeFileSync(path, `${whole}\n${JSON.stringify({ t: tick(20_001), e: null }).slice(0, 40)}`);
      const down = await target.open();
      await down.close();
      const before = new DurableWriter({ db: down, clock: systemClock, logger, spoolPath: path, retryMaxMs: 60_000 });
      before.addTick(tick(20_002));
      await before.close();
      const writer = new DurableWriter({ db, clock: systemClock, logger, spoolPath: path });
      await writer.close();
      const stored = await ticksBetween(db, 'USD/COP', tick(20_000).time, tick(20_003).time);
      assert.deepEqual(
        stored.map((t) => t.time),
        [tick(20_000).time, tick(20_002).time],
        'the accepted entries on both sides of the torn line',
      );
      assert.equal(existsSync(path), false);
    });

    it('drains a large spool in chunks, in order, and resumes after a crash mid-drain without duplicates', async () => {
      const path = spoolPath();
      const lines = Array.from({ length: 12_000 }, (_, i) => JSON.stringify({ t: tick(i), e: null }));
      writeFileSync(path, lines.join('\n') + '\n');
      // A crash after the first chunk (5000 lines) was written and its offset saved, and the
      // second chunk written but its offset not yet saved: both must be neither lost nor doubled.
      const firstChunk = Buffer.byteLength(lines.slice(0, 5000).join('\n') + '\n');
      writeFileSync(`${path}.offset`, String(firstChunk));
      const pre = new DurableWriter({ db, clock: systemClock, logger, spoolPath: spoolPath() });
      for (let i = 0; i < 10_000; i++) pre.addTick(tick(i));
      await pre.close();

      const writer = new DurableWriter({ db, clock: systemClock, logger, spoolPath: path });
      await writer.flush();
      assert.equal(writer.stats().spool.entries, 0);
      await writer.close();
      assert.equal(writer.stats().ticksWritten, 7000, 'only what follows the saved offset is read again');
      assert.equal(existsSync(path), false, 'spool removed once everything is written');
      assert.equal(existsSync(`${path}.offset`), false);
      const stored = await ticksBetween(db, 'USD/COP', T0, T0 + 12_000 * 100);
      assert.equal(stored.length, 12_000, 'every tick once');
      assert.deepEqual(
        stored.map((t) => t.time),
        Array.from({ length: 12_000 }, (_, i) => T0 + i * 100),
      );
    });
  });
}
