/** GET /api/candlesticks/{symbol}/indicators at every interval, and GET /api/history/{symbol}/span. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import type { CandlesResponse } from '../../src/contracts/api/candles.ts';
import type { CandleIndicatorsResponse, HistorySpanResponse } from '../../src/contracts/api/desk.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { CANDLESTICK_INTERVALS } from '../../src/contracts/candle-intervals.ts';
import { CANDLE_INTERVALS } from '../../src/domain/resample.ts';
import { computeIndicators } from '../../src/research/indicators.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { seedSessions, sessionBars } from './seed-bars.ts';

const calendar = new MarketCalendar();
const DATES = ['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-09', '2024-01-10', '2024-01-11', '2024-01-12', '2024-01-15', '2024-01-16', '2024-01-17', '2024-01-18'];

for (const target of databaseTargets()) {
  describe(`desk routes on ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    before(async () => {
      db = await target.open();
      server = await startTestServer({ db, clock: new ManualClock(Date.parse('2024-01-22T14:00:00Z')) });
      await seedSessions(db, calendar, DATES.map((d, i) => [d, { base: 4000 + i * 7 }] as const));
      // The simulator's bars on the last day: a change of provenance.
      await upsertBars(db, sessionBars(calendar, '2024-01-19', { base: 4200 }).map((b) => ({ ...b, source: 'simulator' as const })));
    });
    after(async () => {
      await server?.close();
      await db?.close();
    });

    const get = async <T>(url: string): Promise<[number, T]> => {
      const res = await server.app.inject({ method: 'GET', url });
      return [res.statusCode, res.json<T>()];
    };

    it('computes indicators over the same 1h candles as the candle route, warmed up on the earlier candles', async () => {
      const query = 'interval=1h&from=2024-01-09&to=2024-01-18&limit=20';
      const [, candles] = await get<CandlesResponse>(`/api/candlesticks/USDCOP?${query}`);
      const [status, body] = await get<CandleIndicatorsResponse>(`/api/candlesticks/USDCOP/indicators?${query}&indicators=ema20,rsi14`);
      assert.equal(status, 200, JSON.stringify(body));
      assert.deepEqual(body.times, candles.candles.map((c) => c.time));
      // Independently: every real 1h candle from the first, indicators over all of them, the same 20 read out
      // (the route warms up on 100 earlier candles, not all: equal to well under the centavo shown).
      const [, all] = await get<CandlesResponse>('/api/candlesticks/USDCOP?interval=1h&from=2024-01-02&to=2024-01-18&limit=500');
      const rows = computeIndicators(all.candles.map((c) => ({ time: Date.parse(c.time), open: c.open, high: c.high, low: c.low, close: c.close })));
      const offset = all.candles.findIndex((c) => c.time === body.times[0]);
      assert.ok(offset >= 20, 'there are earlier candles to warm up on');
      const expected = rows.slice(offset, offset + 20).map((r) => r.ema20);
      body.values['ema20']!.forEach((v, i) => assert.ok(v !== null && Math.abs(v - expected[i]!) < 0.005, `ema20 at ${body.times[i]}: ${v} vs ${expected[i]}`));
      assert.ok(body.values['rsi14']!.every((v) => v !== null && v >= 0 && v <= 100));
    });

    it('restarts indicators where the provenance changes, and works at 1day', async () => {
      const [, body] = await get<CandleIndicatorsResponse>('/api/candlesticks/USDCOP/indicators?interval=15min&from=2024-01-18&to=2024-01-19&indicators=ema20');
      const firstSimulated = body.times.findIndex((t) => t >= '2024-01-19');
      assert.ok(firstSimulated > 0);
      assert.equal(body.values['ema20']![firstSimulated], null, 'the simulated part starts cold');
      const [status, daily] = await get<CandleIndicatorsResponse>('/api/candlesticks/USDCOP/indicators?interval=1day&indicators=sma10');
      assert.equal(status, 200);
      assert.equal(daily.times.length, DATES.length + 1);
    });

    it('refuses unknown indicators and intervals with the allowed values', async () => {
      const [status, body] = await get<{ error: { message: string } }>('/api/candlesticks/USDCOP/indicators?interval=1h&indicators=ema20,foo');
      assert.equal(status, 400);
      assert.match(body.error.message, /Unknown indicator foo; available: ema20/);
      const [missing] = await get('/api/candlesticks/USDCOP/indicators?interval=1h');
      assert.equal(missing, 400);
      const [, badInterval] = await get<{ error: { message: string } }>('/api/candlesticks/USDCOP/indicators?interval=2min&indicators=ema20');
      assert.equal(badInterval.error.message, `Invalid querystring/interval: must be one of ${CANDLESTICK_INTERVALS.join(', ')}.`);
    });

    it('gives the same indicator values on both routes at every interval, paged or latest', async () => {
      const names = 'ema20,ema50,rsi14,macd,bbUpper';
      for (const interval of CANDLE_INTERVALS) {
        for (const range of ['from=2024-01-09&limit=40', 'limit=30', 'from=2024-01-18&to=2024-01-19&limit=500']) {
          const query = `interval=${interval}&${range}`;
          const [, byCandle] = await get<CandlesResponse>(`/api/candlesticks/USDCOP?${query}&indicators=${names}`);
          const [status, byName] = await get<CandleIndicatorsResponse>(`/api/candlesticks/USDCOP/indicators?${query}&indicators=${names}`);
          assert.equal(status, 200, JSON.stringify(byName));
          assert.deepEqual(byName.times, byCandle.candles.map((c) => c.time), query);
          for (const name of names.split(',')) {
            assert.deepEqual(byName.values[name], byCandle.candles.map((c) => c.indicators?.[name] ?? null), `${name} at ${query}`);
          }
          if (interval === '5min' && range === 'limit=30') assert.ok(byName.values['ema20']!.some((v) => v !== null), 'values exist to compare');
        }
      }
    });

    it('gives the span of the stored history, real and simulated apart', async () => {
      const [status, span] = await get<HistorySpanResponse>('/api/history/USD%2FCOP/span');
      assert.equal(status, 200);
      assert.equal(span.real.bars, DATES.length * 60);
      assert.equal(span.simulated.bars, 60);
      assert.equal(span.real.first, '2024-01-02T13:00:00.000Z');
      assert.equal(span.real.last, '2024-01-18T17:55:00.000Z');
      assert.equal(span.all.last, '2024-01-19T17:55:00.000Z');
      const [unknown] = await get('/api/history/EURUSD/span');
      assert.equal(unknown, 404);
    });
  });
}
