import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { CANDLE_INTERVALS, type CandleInterval } from '../../src/domain/resample.ts';
import { loadCandles } from '../../src/server/candle-query.ts';
import { CandleWindows } from '../../src/server/candle-window.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';
import { seedSessions, sessionBars } from './seed-bars.ts';

const calendar = new MarketCalendar();
const SYMBOL = 'USD/COP';
const LATER = Date.parse('2024-02-01T00:00:00Z');

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
      for (const interval of CANDLE_INTERVALS as readonly CandleInterval[]) {
        for (const limit of [1, 7, 60, 300]) {
          for (const to of tos) {
            const memory = await windows.latest(SYMBOL, interval, to, limit);
            const store = await loadCandles(db, calendar, { symbol: SYMBOL, interval, from: null, to, limit });
            if (memory === null) continue;
            fromMemory++;
            assert.deepEqual({ candles: memory.candles, truncated: memory.truncated }, store, `${interval} limit ${limit} to ${new Date(to).toISOString()}`);
          }
        }
      }
      return fromMemory;
    }

    it('answers like the store, then again after revisions, a backfill into the past and a new session', async () => {
      const windows = new CandleWindows(db, calendar);
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
      const windows = new CandleWindows(db, calendar, 60);
      assert.equal(await windows.latest(SYMBOL, '5min', LATER, 61), null);
      const last = await windows.latest(SYMBOL, '5min', LATER, 60);
      assert.equal(last?.candles.length, 60);
      assert.equal(last?.truncated, true);
      assert.ok((await assertSameAsStore(windows)) > 0);
    });

    it('concurrent requests share version checks and all see the same answer', async () => {
      const windows = new CandleWindows(db, calendar);
      const answers = await Promise.all(Array.from({ length: 20 }, () => windows.latest(SYMBOL, '15min', LATER, 50)));
      const store = await loadCandles(db, calendar, { symbol: SYMBOL, interval: '15min', from: null, to: LATER, limit: 50 });
      for (const a of answers) assert.deepEqual({ candles: a?.candles, truncated: a?.truncated }, store);
    });
  });
}
