import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ManualClock } from '../../src/clock.ts';
import type { Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { CANDLE_INTERVALS } from '../../src/domain/resample.ts';
import { loadCandles } from '../../src/server/candle-query.ts';
import { CandleWindows } from '../../src/server/candle-window.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import type { PgliteDb } from '../../src/store/pglite-driver.ts';
import { databaseTargets } from '../support/test-db.ts';
import { seedSessions, sessionBars } from './seed-bars.ts';

const calendar = new MarketCalendar();
const SYMBOL = 'USD/COP';
const LATER = Date.parse('2024-02-01T00:00:00Z');
/** Longer than any test: a change seen was pushed by the store, not found by the periodic version check. */
const NO_RECHECK = { recheckMs: 3_600_000 };
const run = promisify(execFile);

/** Another process writes `bars` through the embedded store's socket server (as `tasa import` does). */
async function upsertThroughSocket(port: number, bars: readonly Bar[]): Promise<void> {
  const url = (path: string): string => new URL(`../../src/store/${path}`, import.meta.url).href;
  const script = `
    import { openPostgres } from ${JSON.stringify(url('postgres-driver.ts'))};
    import { upsertBars } from ${JSON.stringify(url('bars-repo.ts'))};
    const db = await openPostgres('postgres://postgres@localhost/postgres', { port: ${port} });
    await upsertBars(db, JSON.parse(process.env.BARS));
    await db.close();`;
  await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, BARS: JSON.stringify(bars) }, timeout: 60_000 });
}

for (const target of databaseTargets()) {
  describe(`candles from memory on ${target.name}`, () => {
    let db: Db;
    let stored: Bar[];
    before(async () => {
      db = await target.open();
      stored = await seedSessions(db, calendar, [['2024-01-02'], ['2024-01-03', { skip: [3, 14, 30, 31] }], ['2024-01-04'], ['2024-01-05']]);
    });
    after(async () => {
      await db?.close();
    });

    /** Every interval, a few limits and `to` bounds (mid-bucket, on a boundary, after the data): memory equals the store. */
    async function assertSameAsStore(windows: CandleWindows): Promise<number> {
      let fromMemory = 0;
      const tos = [LATER, Date.parse('2024-01-04T15:07:00Z'), Date.parse('2024-01-03T14:00:00Z'), Date.parse('2024-01-02T12:00:00Z')];
      for (const interval of CANDLE_INTERVALS) {
        for (const limit of [1, 7, 60, 300]) {
          for (const to of tos) {
            const memory = await windows.latest(SYMBOL, interval, to, limit);
            const store = await loadCandles(db, calendar, { symbol: SYMBOL, interval, from: null, to, limit, now: LATER });
            if (memory === null) continue;
            fromMemory++;
            assert.deepEqual({ candles: memory.candles, truncated: memory.truncated }, store, `${interval} limit ${limit} to ${new Date(to).toISOString()}`);
          }
        }
      }
      return fromMemory;
    }

    it('answers like the store, then again after revisions, a backfill into the past and a new session', async () => {
      const windows = new CandleWindows(db, calendar, NO_RECHECK);
      assert.ok((await assertSameAsStore(windows)) > 0);
      const before = await windows.latest(SYMBOL, '1h', LATER, 300);
      // A revision (reconciled values), a backfill into a gap in the past, and a new session.
      const day = stored.filter((b) => new Date(b.time).toISOString().startsWith('2024-01-04'));
      const revised = { ...day[5]!, close: day[5]!.close + 0.5, high: day[5]!.high + 0.5, source: 'twelvedata_rest' as const, flags: ['reconciled' as const] };
      const gap = sessionBars(calendar, '2024-01-03')[14]!;
      await upsertBars(db, [revised, gap, ...sessionBars(calendar, '2024-01-09', { base: 4100 })]);
      const afterWrite = await windows.latest(SYMBOL, '1h', LATER, 300);
      assert.notEqual(afterWrite?.key, before?.key, 'the write is seen by the next request');
      assert.ok((await assertSameAsStore(windows)) > 0);
    });

    it('a window shorter than the request falls back to the store (null), and counts older bars as truncation', async () => {
      const windows = new CandleWindows(db, calendar, { ...NO_RECHECK, windowBars: 60 });
      assert.equal(await windows.latest(SYMBOL, '5min', LATER, 61), null);
      const last = await windows.latest(SYMBOL, '5min', LATER, 60);
      assert.equal(last?.candles.length, 60);
      assert.equal(last?.truncated, true);
      assert.ok((await assertSameAsStore(windows)) > 0);
    });

    it('concurrent requests share version checks and all see the same answer', async () => {
      const windows = new CandleWindows(db, calendar, NO_RECHECK);
      const answers = await Promise.all(Array.from({ length: 20 }, () => windows.latest(SYMBOL, '15min', LATER, 50)));
      const store = await loadCandles(db, calendar, { symbol: SYMBOL, interval: '15min', from: null, to: LATER, limit: 50, now: LATER });
      for (const a of answers) assert.deepEqual({ candles: a?.candles, truncated: a?.truncated }, store);
    });

    it('a write that sent no notification (a writer of an older version) is seen once the recheck interval has passed', async () => {
      const clock = new ManualClock(LATER);
      const windows = new CandleWindows(db, calendar, { recheckMs: 1_000, clock });
      const before = await windows.latest(SYMBOL, '5min', LATER, 300);
      const last = before?.candles.at(-1);
      await db.query(`UPDATE bars SET close = close + 1, revision = revision + 1 WHERE symbol = $1 AND time = $2::timestamptz`, [SYMBOL, new Date(last?.time ?? 0)]);
      await db.query(`UPDATE app_state SET value = to_jsonb('written without notifying'::text) WHERE key = $1`, [`bars_version:${SYMBOL}`]);
      assert.equal((await windows.latest(SYMBOL, '5min', LATER, 300))?.key, before?.key, 'trusted until the recheck is due');
      await clock.advance(1_000);
      const afterRecheck = await windows.latest(SYMBOL, '5min', LATER, 300);
      assert.equal(afterRecheck?.candles.at(-1)?.close, (last?.close ?? 0) + 1);
    });

    it('sees a write made by another process through the embedded owner\'s socket in the next request', { skip: target.name !== 'pglite' }, async () => {
      const server = await (db as PgliteDb).serve({ port: 0 });
      try {
        const windows = new CandleWindows(db, calendar, NO_RECHECK);
        const before = await windows.latest(SYMBOL, '5min', LATER, 300);
        const session = sessionBars(calendar, '2024-01-10', { base: 4200 });
        await upsertThroughSocket('port' in server.endpoint ? server.endpoint.port : 0, session);
        const afterWrite = await windows.latest(SYMBOL, '5min', LATER, 300);
        assert.notEqual(afterWrite?.key, before?.key);
        assert.equal(afterWrite?.candles.at(-1)?.time, session.at(-1)?.time);
        assert.ok((await assertSameAsStore(windows)) > 0);
      } finally {
        await server.close();
      }
    });
  });
}
