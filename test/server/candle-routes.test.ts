import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import type { CandleBody, CandlesResponse } from '../../src/contracts/api/candles.ts';
import type { Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import type { LatestPrice } from '../../src/contracts/bus-messages.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import { seedSessions, sessionBars } from './seed-bars.ts';

const calendar = new MarketCalendar();
const HOUR = 3_600_000;

interface ErrorBody {
  error: { code: string; message: string };
}

function ohlcOf(bars: ReadonlyArray<Pick<Bar, 'open' | 'high' | 'low' | 'close'>>): Pick<CandleBody, 'open' | 'high' | 'low' | 'close'> {
  return { open: bars[0]!.open, high: Math.max(...bars.map((b) => b.high)), low: Math.min(...bars.map((b) => b.low)), close: bars.at(-1)!.close };
}

const iso = (t: number): string => new Date(t).toISOString();
const dayBars = (bars: readonly Bar[], date: string): Bar[] => bars.filter((b) => iso(b.time).startsWith(date));

for (const target of databaseTargets()) {
  describe(`candle and stats routes on ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    let stored: Bar[];
    before(async () => {
      db = await target.open();
      // Friday 2024-01-05 09:00 Bogota: open, nothing stored today yet.
      server = await startTestServer({ db, clock: new ManualClock(Date.parse('2024-01-05T14:00:00Z')) });
      stored = await seedSessions(db, calendar, [
        ['2024-01-02', {}],
        ['2024-01-03', { skip: [14, 30, 31, 59] }],
        ['2024-01-04', {}],
      ]);
    });
    after(async () => {
      await server?.close();
      await db?.close();
    });

    const candles = async (query: string, symbol = 'USDCOP'): Promise<CandlesResponse> => {
      const res = await server.app.inject({ method: 'GET', url: `/api/candlesticks/${symbol}?${query}` });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<CandlesResponse>();
    };
    const status = async (url: string): Promise<[number, ErrorBody]> => {
      const res = await server.app.inject({ method: 'GET', url });
      return [res.statusCode, res.json<ErrorBody>()];
    };

    it('1h: five candles of twelve bars per session, aligned to 08:00 Bogota, OHLC of their bars', async () => {
      const body = await candles('interval=1h&from=2024-01-02&to=2024-01-02');
      const day = dayBars(stored, '2024-01-02');
      assert.equal(body.count, 5);
      assert.equal(body.truncated, false);
      body.candles.forEach((c, k) => {
        assert.deepEqual(c, { time: iso(Date.UTC(2024, 0, 2, 13 + k)), ...ohlcOf(day.slice(12 * k, 12 * k + 12)), bars: 12, expected: 12, complete: true, simulated: false, sources: ['import'] });
      });
    });

    it('flags buckets with missing bars incomplete and counts the bars they hold', async () => {
      const body = await candles('interval=1h&from=2024-01-03&to=2024-01-03');
      assert.deepEqual(
        body.candles.map((c) => [c.bars, c.complete]),
        [
          [12, true],
          [11, false],
          [10, false],
          [12, true],
          [11, false],
        ],
      );
      const day = dayBars(stored, '2024-01-03');
      assert.deepEqual(ohlcOf(day.filter((b) => b.time >= Date.UTC(2024, 0, 3, 14) && b.time < Date.UTC(2024, 0, 3, 15))), {
        open: body.candles[1]!.open,
        high: body.candles[1]!.high,
        low: body.candles[1]!.low,
        close: body.candles[1]!.close,
      });
    });

    it('never spans sessions: the last hour of a day is followed by the next day at 08:00; 1day is the session', async () => {
      const hours = await candles('interval=1h&from=2024-01-02&to=2024-01-04');
      assert.equal(hours.count, 15);
      for (const c of hours.candles) {
        const session = calendar.sessionAt(Date.parse(c.time));
        assert.ok(session && Date.parse(c.time) + HOUR <= session.close, c.time);
      }
      assert.deepEqual(
        hours.candles.slice(4, 6).map((c) => c.time),
        ['2024-01-02T17:00:00.000Z', '2024-01-03T13:00:00.000Z'],
      );
      const days = await candles('interval=1day&from=2024-01-02&to=2024-01-04');
      assert.deepEqual(
        days.candles.map((c) => [c.time, c.bars, c.expected, c.complete]),
        [
          ['2024-01-02T13:00:00.000Z', 60, 60, true],
          ['2024-01-03T13:00:00.000Z', 56, 60, false],
          ['2024-01-04T13:00:00.000Z', 60, 60, true],
        ],
      );
      assert.deepEqual(ohlcOf(dayBars(stored, '2024-01-03')), { open: days.candles[1]!.open, high: days.candles[1]!.high, low: days.candles[1]!.low, close: days.candles[1]!.close });
      const halves = await candles('interval=30min&from=2024-01-04&to=2024-01-04');
      assert.equal(halves.count, 10);
      assert.deepEqual({ ...ohlcOf(dayBars(stored, '2024-01-04').slice(6, 12)), bars: 6 }, { open: halves.candles[1]!.open, high: halves.candles[1]!.high, low: halves.candles[1]!.low, close: halves.candles[1]!.close, bars: halves.candles[1]!.bars });
      assert.equal((await candles('interval=15min&from=2024-01-04&to=2024-01-04')).count, 20);
    });

    it('without from: the latest `limit` candles, whole, and says when earlier ones exist', async () => {
      const last10 = await candles('interval=5min&limit=10', 'USD%2FCOP');
      assert.deepEqual(
        last10.candles.map((c) => c.time),
        stored.slice(-10).map((b) => iso(b.time)),
      );
      assert.equal(last10.truncated, true);
      const hours = await candles('interval=1h&limit=7');
      assert.deepEqual(
        hours.candles.map((c) => [c.time, c.bars]),
        [
          ['2024-01-03T16:00:00.000Z', 12],
          ['2024-01-03T17:00:00.000Z', 11],
          ['2024-01-04T13:00:00.000Z', 12],
          ['2024-01-04T14:00:00.000Z', 12],
          ['2024-01-04T15:00:00.000Z', 12],
          ['2024-01-04T16:00:00.000Z', 12],
          ['2024-01-04T17:00:00.000Z', 12],
        ],
      );
      assert.equal(hours.truncated, true);
      const days = await candles('interval=1day');
      assert.equal(days.count, 3);
      assert.equal(days.truncated, false);
      const upTo = await candles('interval=1h&to=2024-01-03&limit=2');
      assert.deepEqual(
        upTo.candles.map((c) => c.time),
        ['2024-01-03T16:00:00.000Z', '2024-01-03T17:00:00.000Z'],
      );
    });

    it('with from: the first `limit` candles whose bucket opens in [from, to)', async () => {
      const first3 = await candles('interval=5min&from=2024-01-03&limit=3');
      assert.deepEqual(
        first3.candles.map((c) => c.time),
        ['2024-01-03T13:00:00.000Z', '2024-01-03T13:05:00.000Z', '2024-01-03T13:10:00.000Z'],
      );
      assert.equal(first3.truncated, true);
      const mid = await candles('interval=1h&from=2024-01-02T13:30:00Z&to=2024-01-02T15:00:00Z');
      assert.deepEqual(
        mid.candles.map((c) => [c.time, c.bars, c.complete]),
        [['2024-01-02T14:00:00.000Z', 12, true]],
      );
    });

    it('answers 400 for a bad interval, time, range or limit, and 404 for an unknown symbol', async () => {
      for (const query of ['interval=2h', 'from=yesterday', 'from=2024-01-03T10:00:00', 'from=2024-01-04&to=2024-01-03', 'limit=0', 'limit=5001', 'from=1900-01-01']) {
        const [code, body] = await status(`/api/candlesticks/USDCOP?${query}`);
        assert.equal(code, 400, query);
        assert.equal(body.error.code, 'bad_argument', query);
      }
      const [, badInterval] = await status('/api/candlesticks/USDCOP?interval=2min');
      assert.equal(badInterval.error.message, 'Invalid querystring/interval: must be one of 1min, 5min, 15min, 30min, 1h, 4h, 1day, 1w.', 'the allowed values are listed');
      const [code, body] = await status('/api/candlesticks/EURUSD');
      assert.equal(code, 404);
      assert.match(body.error.message, /Unknown symbol "EURUSD"/);
    });

    it('indicators: known names only, at every interval; warmed up from earlier stored bars', async () => {
      const [nameCode, nameBody] = await status('/api/candlesticks/USDCOP?interval=5min&indicators=ema20,foo');
      assert.equal(nameCode, 400);
      assert.match(nameBody.error.message, /Unknown indicator foo; available: ema20/);
      const hour = await candles('interval=1h&from=2024-01-02&indicators=sma10');
      const hourMean = hour.candles.slice(0, 10).reduce((a, c) => a + c.close, 0) / 10;
      assert.ok(Math.abs(hour.candles[9]!.indicators!['sma10']! - hourMean) < 1e-9, 'the tenth hourly candle averages ten hourly closes');

      const body = await candles('interval=5min&from=2024-01-03&to=2024-01-03&indicators=sma10,rsi14');
      const closes = stored.map((b) => b.close);
      const offset = stored.findIndex((b) => iso(b.time) === body.candles[0]!.time);
      body.candles.forEach((c, k) => {
        const i = offset + k;
        const mean = closes.slice(i - 9, i + 1).reduce((a, b) => a + b, 0) / 10;
        assert.ok(Math.abs(c.indicators!['sma10']! - mean) < 1e-9, c.time);
        const rsi = c.indicators!['rsi14'];
        assert.ok(rsi !== null && rsi !== undefined && rsi >= 0 && rsi <= 100, c.time);
      });
      // From the first stored bar there is nothing to warm up on: null (never 0) until ten bars exist.
      const cold = await candles('interval=5min&from=2024-01-02&limit=12&indicators=sma10');
      assert.deepEqual(
        cold.candles.map((c) => c.indicators!['sma10'] === null),
        [true, true, true, true, true, true, true, true, true, false, false, false],
      );
    });

    it('GET /api/stats: last stored close vs the previous session close, session range, realized volatility', async () => {
      // Thursday 10:00 Bogota: 24 bars of the session so far; Wednesday's last slot is missing.
      const at = Date.parse('2024-01-04T15:00:00Z');
      const midSession = await startTestServer({ db, clock: new ManualClock(at) });
      try {
        const soFar = stored.filter((b) => b.time >= Date.UTC(2024, 0, 4, 13) && b.time < at);
        assert.equal(soFar.length, 24);
        const previousClose = dayBars(stored, '2024-01-03').at(-1)!.close;
        const last = soFar.at(-1)!;
        const returns = soFar.slice(1).map((b, i) => Math.log(b.close / soFar[i]!.close));
        const days = calendar.sessionsBetween('2024-01-01', '2024-12-31').length;
        const volatility = Math.sqrt(returns.reduce((a, r) => a + r * r, 0) / returns.length) * Math.sqrt(60 * days);
        let res = await midSession.app.inject({ method: 'GET', url: '/api/stats/USDCOP' });
        assert.equal(res.statusCode, 200);
        let body = res.json<Record<string, unknown>>();
        assert.equal(body['last'], last.close);
        assert.equal(body['source'], 'stored_bar');
        assert.equal(body['lastAt'], iso(last.time));
        assert.equal(body['previousSession'], '2024-01-03');
        assert.equal(body['previousClose'], previousClose);
        assert.ok(Math.abs((body['change'] as number) - (last.close - previousClose)) < 1e-9);
        assert.ok(Math.abs((body['changePct'] as number) - ((last.close - previousClose) / previousClose) * 100) < 1e-9);
        const { high, low } = ohlcOf(soFar);
        assert.deepEqual(body['session'], { date: '2024-01-04', inProgress: true, open: soFar[0]!.open, high, low, bars: 24 });
        const vol = body['realizedVolatility'] as { value: number; returns: number; tradingDaysPerYear: number; barsPerSession: number };
        assert.equal(vol.returns, 23);
        assert.equal(vol.tradingDaysPerYear, days);
        assert.equal(vol.barsPerSession, 60);
        assert.ok(Math.abs(vol.value - volatility) < 1e-12);

        const latest: LatestPrice = { symbol: 'USD/COP', price: 4100.25, bid: null, ask: null, spread: null, timestamp: iso(at - 1000), receivedAt: iso(at - 900), source: 'simulator' };
        await midSession.deps.bus.setLatest('latest:USD/COP', latest, 60_000);
        res = await midSession.app.inject({ method: 'GET', url: '/api/stats/USD%2FCOP' });
        body = res.json<Record<string, unknown>>();
        assert.equal(body['last'], 4100.25);
        assert.equal(body['source'], 'latest_price');
        assert.equal(body['lastAt'], iso(at - 1000));
      } finally {
        await midSession.close();
      }
    });

    it('GET /api/stats: every figure null when nothing is stored or cached; 404 for an unknown symbol', async () => {
      const early = await startTestServer({ db, clock: new ManualClock(Date.parse('2023-06-01T15:00:00Z')) });
      try {
        const res = await early.app.inject({ method: 'GET', url: '/api/stats/USDCOP' });
        assert.equal(res.statusCode, 200);
        const body = res.json<Record<string, unknown>>();
        for (const key of ['last', 'source', 'lastAt', 'previousClose', 'change', 'changePct']) assert.equal(body[key], null, key);
        assert.deepEqual(body['session'], { date: '2023-06-01', inProgress: true, open: null, high: null, low: null, bars: 0 });
        assert.equal((body['realizedVolatility'] as { value: unknown }).value, null);
        assert.equal((await early.app.inject({ method: 'GET', url: '/api/stats/GBPUSD' })).statusCode, 404);
      } finally {
        await early.close();
      }
    });
  });

  describe(`real history followed by simulated bars on ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    let real: Bar[];
    let simulated: Bar[];
    /** Simulated prices sit 500 above the real ones, so a candle blending both would show it. */
    const simulate = (b: Bar): Bar => ({ ...b, open: b.open + 500, high: b.high + 500, low: b.low + 500, close: b.close + 500, source: 'simulator', flags: ['backfilled'] });
    const candles = async (query: string): Promise<CandlesResponse> => {
      const res = await server.app.inject({ method: 'GET', url: `/api/candlesticks/USDCOP?${query}` });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<CandlesResponse>();
    };
    before(async () => {
      db = await target.open();
      server = await startTestServer({ db, clock: new ManualClock(Date.parse('2024-01-05T14:00:00Z')) });
      // 01-02 real (imported); 01-03 real up to 09:35 Bogota (slots 0-19), then the simulator's; 01-04 simulated.
      const jan3 = sessionBars(calendar, '2024-01-03');
      real = [...sessionBars(calendar, '2024-01-02'), ...jan3.slice(0, 20)];
      simulated = [...jan3.slice(20), ...sessionBars(calendar, '2024-01-04')].map(simulate);
      await upsertBars(db, [...real, ...simulated]);
    });
    after(async () => {
      await server?.close();
      await db?.close();
    });

    it('never resamples simulated and real bars into one candle: the hour where the source changes is split', async () => {
      const body = await candles('interval=1h&from=2024-01-03&to=2024-01-03');
      assert.deepEqual(
        body.candles.map((c) => [c.time, c.simulated, c.sources, c.bars, c.complete]),
        [
          ['2024-01-03T13:00:00.000Z', false, ['import'], 12, true],
          ['2024-01-03T14:00:00.000Z', false, ['import'], 8, false],
          ['2024-01-03T14:40:00.000Z', true, ['simulator'], 4, false],
          ['2024-01-03T15:00:00.000Z', true, ['simulator'], 12, true],
          ['2024-01-03T16:00:00.000Z', true, ['simulator'], 12, true],
          ['2024-01-03T17:00:00.000Z', true, ['simulator'], 12, true],
        ],
      );
      const realPart = real.filter((b) => iso(b.time) >= '2024-01-03T14:00' && iso(b.time) < '2024-01-03T15:00');
      const simulatedPart = simulated.filter((b) => iso(b.time) >= '2024-01-03T14:00' && iso(b.time) < '2024-01-03T15:00');
      assert.deepEqual(ohlcOf([body.candles[1]!]), ohlcOf(realPart), 'the real part holds only real prices');
      assert.deepEqual(ohlcOf([body.candles[2]!]), ohlcOf(simulatedPart), 'the simulated part holds only simulated prices');
      const days = await candles('interval=1day&from=2024-01-02&to=2024-01-04');
      assert.deepEqual(
        days.candles.map((c) => [c.time, c.simulated, c.bars]),
        [
          ['2024-01-02T13:00:00.000Z', false, 60],
          ['2024-01-03T13:00:00.000Z', false, 20],
          ['2024-01-03T14:40:00.000Z', true, 40],
          ['2024-01-04T13:00:00.000Z', true, 60],
        ],
      );
    });

    it('states where the provenance changes: one segment per run of real or simulated candles', async () => {
      const body = await candles('interval=5min&from=2024-01-02&to=2024-01-04&limit=5000');
      assert.equal(body.count, 180);
      assert.deepEqual(body.segments, [
        { from: '2024-01-02T13:00:00.000Z', to: '2024-01-03T14:35:00.000Z', simulated: false, candles: 80 },
        { from: '2024-01-03T14:40:00.000Z', to: '2024-01-04T17:55:00.000Z', simulated: true, candles: 100 },
      ]);
      assert.ok(body.candles.every((c) => c.simulated === (c.sources[0] === 'simulator') && c.sources.length === 1));
      const latest = await candles('interval=15min&limit=8');
      assert.deepEqual(latest.segments.map((g) => g.simulated), [true], 'the latest candles are all simulated');
    });

    it('restarts indicators at the change: the simulated segment warms up on simulated bars only', async () => {
      const body = await candles('interval=5min&from=2024-01-03T14:00:00Z&limit=24&indicators=sma10');
      assert.deepEqual(
        body.candles.map((c) => c.indicators!['sma10'] === null),
        [...Array<boolean>(8).fill(false), ...Array<boolean>(9).fill(true), ...Array<boolean>(7).fill(false)],
      );
      const tenth = body.candles[8 + 9]!;
      const mean = simulated.slice(0, 10).reduce((a, b) => a + b.close, 0) / 10;
      assert.ok(Math.abs(tenth.indicators!['sma10']! - mean) < 1e-9, 'the first simulated sma10 averages simulated closes only');
      // From 10:30 Bogota: nine earlier simulated bars (from 09:40) are the warm-up, never the real ones before them.
      const warmed = await candles('interval=5min&from=2024-01-03T15:30:00Z&limit=1&indicators=sma10');
      const warmedMean = simulated.slice(1, 11).reduce((a, b) => a + b.close, 0) / 10;
      assert.ok(Math.abs(warmed.candles[0]!.indicators!['sma10']! - warmedMean) < 1e-9, 'a simulated first candle warms up on earlier simulated bars');
      const cold = await candles('interval=5min&from=2024-01-03T15:00:00Z&limit=1&indicators=sma10');
      assert.equal(cold.candles[0]!.indicators!['sma10'], null, 'four simulated bars are not enough, and real ones do not count');
    });

    it('GET /api/stats: figures of one provenance, that of the latest price, and how many bars were left out', async () => {
      // 01-03 10:00 Bogota: 20 real and 4 simulated bars so far; the latest stored bar is simulated.
      const at = Date.parse('2024-01-03T15:00:00Z');
      const mid = await startTestServer({ db, clock: new ManualClock(at) });
      try {
        let body = (await mid.app.inject({ method: 'GET', url: '/api/stats/USDCOP' })).json<Record<string, unknown>>();
        const ownBars = simulated.filter((b) => b.time < at);
        assert.equal(ownBars.length, 4);
        assert.deepEqual(body['provenance'], { simulated: true, excludedBars: 20 + 60 });
        assert.equal(body['last'], ownBars.at(-1)!.close);
        assert.equal(body['previousClose'], null, "the previous session is real: no simulated close to compare with");
        assert.equal(body['change'], null);
        const own = ohlcOf(ownBars);
        assert.deepEqual(body['session'], { date: '2024-01-03', inProgress: true, open: own.open, high: own.high, low: own.low, bars: 4 });
        assert.equal((body['realizedVolatility'] as { returns: number }).returns, 3);

        // A live TwelveData price: the figures are the real bars'.
        const latest: LatestPrice = { symbol: 'USD/COP', price: 4010.5, bid: null, ask: null, spread: null, timestamp: iso(at - 1000), receivedAt: iso(at - 900), source: 'twelvedata_ws' };
        await mid.deps.bus.setLatest('latest:USD/COP', latest, 60_000);
        body = (await mid.app.inject({ method: 'GET', url: '/api/stats/USDCOP' })).json<Record<string, unknown>>();
        const realToday = real.filter((b) => iso(b.time).startsWith('2024-01-03'));
        assert.deepEqual(body['provenance'], { simulated: false, excludedBars: 4 });
        assert.equal(body['previousClose'], dayBars(real, '2024-01-02').at(-1)!.close);
        assert.equal((body['session'] as { bars: number; high: number }).bars, 20);
        assert.equal((body['session'] as { high: number }).high, ohlcOf(realToday).high);
        assert.equal((body['realizedVolatility'] as { returns: number }).returns, 19);
      } finally {
        await mid.close();
      }
    });
  });
}
