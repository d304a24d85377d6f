import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { BAR_MS, type Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

const calendar = new MarketCalendar();
const SESSION = calendar.sessionFor('2024-01-02');
if (SESSION === null) throw new Error('2024-01-02 is a trading day');
/** Grid indexes of the session's bars built while the feed covered only part of their slot. */
const PARTIAL = new Map([[0, 0.25], [13, 0.8]]);

interface CandleBody {
  time: string;
  bars: number;
  expected: number;
  complete: boolean;
}

function sessionBars(): Bar[] {
  return calendar.barGrid(SESSION!).map((time, i) => {
    const close = 3900 + i;
    const coverage = PARTIAL.get(i) ?? 1;
    return { symbol: 'USD/COP', time, open: close, high: close + 1, low: close - 1, close, volume: null, tickCount: 30, source: 'twelvedata_ws', revision: 1, flags: coverage < 1 ? ['partial'] : [], coverage };
  });
}

for (const target of databaseTargets()) {
  describe(`candles of partial bars on ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    before(async () => {
      db = await target.open();
      server = await startTestServer({ db, clock: new ManualClock(Date.parse('2024-01-03T12:00:00Z')) });
      await upsertBars(db, sessionBars());
    });
    after(async () => {
      await server?.close();
      await db?.close();
    });

    const candles = async (interval: string): Promise<CandleBody[]> => {
      const res = await server.app.inject({ method: 'GET', url: `/api/candlesticks/USDCOP?interval=${interval}&from=2024-01-02&to=2024-01-02` });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ candles: CandleBody[] }>().candles;
    };

    it('5min: a partial bar is served complete: false, every other bar complete', async () => {
      const five = await candles('5min');
      assert.equal(five.length, 60);
      const incomplete = five.flatMap((c, i) => (c.complete ? [] : [i]));
      assert.deepEqual(incomplete, [...PARTIAL.keys()]);
    });

    it('15min and 1h: a candle holding any partial bar is not complete, though no bar is missing', async () => {
      const quarter = await candles('15min');
      assert.deepEqual(quarter.flatMap((c, i) => (c.complete ? [] : [[i, c.bars, c.expected]])), [[0, 3, 3], [4, 3, 3]]);
      const hours = await candles('1h');
      assert.deepEqual(hours.map((c) => c.complete), [false, false, true, true, true], 'bars 0 and 13 are in the first two hours');
      assert.deepEqual(hours.map((c) => c.bars), [12, 12, 12, 12, 12]);
    });

    it('the bars route serves the partial flag; once a backfill replaced the bar, its candle is complete', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/api/market/historical?symbol=USDCOP&from=2024-01-02&to=2024-01-02' });
      assert.equal(res.statusCode, 200, res.body);
      const rows = res.json<Array<{ time: string; flags: string }>>();
      assert.deepEqual(rows.flatMap((r, i) => (r.flags.split('|').includes('partial') ? [i] : [])), [...PARTIAL.keys()]);

      const first = sessionBars()[0]!;
      await upsertBars(db, [{ ...first, source: 'twelvedata_rest', flags: ['backfilled'], coverage: 1, tickCount: null, time: SESSION.open }]);
      const [repaired, second] = await candles('5min');
      assert.deepEqual([repaired?.time, repaired?.complete], [new Date(SESSION.open).toISOString(), true]);
      assert.equal(Date.parse(second?.time ?? ''), SESSION.open + BAR_MS);
    });
  });
}
