import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../src/clock.ts';
import type { Bar } from '../../src/domain/bar.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { DurableWriter } from '../../src/ingest/durable-writer.ts';
import { barsBetween } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPostgres } from '../../src/store/postgres-driver.ts';
import { ticksBetween } from '../../src/store/ticks-repo.ts';
import { databaseTargets, openScratchPostgres } from '../support/test-db.ts';

const T0 = Date.parse('2025-03-03T13:00:00Z');
const logger = pino({ level: 'silent' });

function tick(i: number): Tick {
  return { symbol: 'USD/COP', time: T0 + i * 1000, price: 4000 + i, bid: 3999 + i, ask: 4001 + i, receivedAt: T0 + i * 1000 + 50, source: 'simulator' };
}

function bar(i: number): Bar {
  return { symbol: 'USD/COP', time: T0 + i * 300_000, open: 4000, high: 4010, low: 3990, close: 4005, volume: null, tickCount: 10, source: 'simulator', revision: 1, flags: [] };
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const target of databaseTargets()) {
  describe(`DurableWriter on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('writes ticks in batches and final bars at once, and measures bar latency', async () => {
      const writer = new DurableWriter({ db, clock: systemClock, logger, spoolPath: join(mkdtempSync(join(tmpdir(), 'spool-')), 'spool.jsonl'), tickFlushMs: 20 });
      for (let i = 0; i < 500; i++) writer.addTick(tick(i));
      writer.addBar(bar(0), systemClock.now());
      await waitFor(async () => (await ticksBetween(db, 'USD/COP', T0, T0 + 600_000)).length === 500, 'ticks written');
      assert.equal((await barsBetween(db, 'USD/COP', T0, T0 + 300_000)).length, 1);
      await writer.close();
      const stats = writer.stats();
      assert.equal(stats.ticksWritten, 500);
      assert.equal(stats.barsWritten, 1);
      assert.equal(stats.barLatenciesMs.length, 1);
    });
  });
}

describe('DurableWriter when PostgreSQL goes away', { skip: process.env['TEST_DATABASE_URL'] ? false : 'needs TEST_DATABASE_URL' }, () => {
  it('spools while the database refuses connections and writes everything, in order, when it returns', async () => {
    const url = process.env['TEST_DATABASE_URL'] ?? '';
    const scratch = await openScratchPostgres(url);
    const admin = await openPostgres(url);
    const name = new URL(scratch.url).pathname.slice(1);
    const spoolPath = join(mkdtempSync(join(tmpdir(), 'spool-')), 'spool.jsonl');
    try {
      await migrate(scratch.db);
      const writer = new DurableWriter({ db: scratch.db, clock: systemClock, logger, spoolPath, tickFlushMs: 20, retryMaxMs: 200, writeTimeoutMs: 3000 });
      writer.addTick(tick(0));
      await writer.flush();

      await admin.exec(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [name]);
      for (let i = 1; i <= 100; i++) writer.addTick(tick(i));
      writer.addBar(bar(1), systemClock.now());
      await writer.flush();
      assert.equal(writer.stats().databaseDown, true);
      assert.ok(existsSync(spoolPath), 'the refused batch is on disk');
      assert.ok(writer.stats().spooled >= 101);

      await admin.exec(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await waitFor(() => !writer.stats().databaseDown, 'recovery');
      await writer.close();
      assert.equal((await ticksBetween(scratch.db, 'USD/COP', T0, T0 + 600_000)).length, 101);
      assert.equal((await barsBetween(scratch.db, 'USD/COP', T0, T0 + 900_000)).length, 1);
      assert.equal(existsSync(spoolPath), false, 'spool emptied');
    } finally {
      await admin.exec(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => undefined);
      await admin.close();
      await scratch.db.close();
    }
  });
});
