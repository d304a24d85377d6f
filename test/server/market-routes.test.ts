import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import type { LatestPrice } from '../../src/contracts/bus-messages.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';
import { OPEN_TIME, startTestServer, type TestServer } from '../support/test-server.ts';
import { seedSessions } from './seed-bars.ts';

const calendar = new MarketCalendar();

function ohlcOf(bars: readonly Bar[]): { open: number; high: number; low: number; close: number } {
  return {
    open: bars[0]!.open,
    high: Math.max(...bars.map((b) => b.high)),
    low: Math.min(...bars.map((b) => b.low)),
    close: bars.at(-1)!.close,
  };
}

interface ErrorBody {
  error: { code: string; message: string };
}

for (const target of databaseTargets()) {
  describe(`market routes on ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    let stored: Bar[];
    before(async () => {
      db = await target.open();
      server = await startTestServer({ db });
      // 2023-12-29: a full session; 2024-01-02 (today, open since 08:00, now 10:00): slots 0-23 minus two.
      stored = await seedSessions(db, calendar, [
        ['2023-12-29', {}],
        ['2024-01-02', { skip: [5, 6, ...Array.from({ length: 36 }, (_, i) => 24 + i)], flat: [3], repaired: [10] }],
      ]);
    });
    after(async () => {
      await server?.close();
      await db?.close();
    });

    const get = (url: string) => server.app.inject({ method: 'GET', url });

    it('GET /market/latest: 404 until a price is cached, then the cached tick with its age; any symbol spelling', async () => {
      const none = await get('/market/latest?symbol=USDCOP');
      assert.equal(none.statusCode, 404);
      assert.match(none.json<ErrorBody>().error.message, /No price for USD\/COP yet/);

      const latest: LatestPrice = {
        symbol: 'USD/COP',
        price: 3921.5,
        bid: 3921.25,
        ask: 3921.75,
        spread: 0.5,
        timestamp: new Date(OPEN_TIME - 3000).toISOString(),
        receivedAt: new Date(OPEN_TIME - 2800).toISOString(),
        source: 'twelvedata_ws',
      };
      await server.deps.bus.setLatest('latest:USD/COP', latest, 60_000);
      for (const symbol of ['USD%2FCOP', 'USDCOP', 'usd-cop']) {
        const res = await get(`/market/latest?symbol=${symbol}`);
        assert.equal(res.statusCode, 200, symbol);
        assert.deepEqual(res.json(), { ...latest, ageSeconds: 3 });
      }
    });

    it('GET /market/latest: 404 for a symbol this server does not serve (without one: the default instrument, test/server/original-aliases.test.ts)', async () => {
      const unknown = await get('/market/latest?symbol=EURUSD');
      assert.equal(unknown.statusCode, 404);
      assert.match(unknown.json<ErrorBody>().error.message, /Unknown symbol "EURUSD"; this server serves USD\/COP/);
    });

    it('GET /market/status: open now, closes at 13:00 Bogota, next open tomorrow', async () => {
      const res = await get('/market/status');
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), {
        symbol: 'USD/COP',
        time: '2024-01-02T15:00:00.000Z',
        localTime: '2024-01-02 10:00:00 -05:00',
        timeZone: 'America/Bogota',
        open: true,
        sessionHours: { open: '08:00', close: '13:00', opensDayBefore: false, timeZone: 'America/Bogota' },
        today: { date: '2024-01-02', tradingDay: true, weekend: false, holiday: null, usHoliday: null, nextDaySettlement: false },
        currentSession: { date: '2024-01-02', open: '2024-01-02T13:00:00.000Z', close: '2024-01-02T18:00:00.000Z', nextDaySettlement: false, usHoliday: null },
        nextSession: { date: '2024-01-03', open: '2024-01-03T13:00:00.000Z', close: '2024-01-03T18:00:00.000Z', nextDaySettlement: false, usHoliday: null },
        nextOpen: '2024-01-03T13:00:00.000Z',
        nextClose: '2024-01-02T18:00:00.000Z',
        secondsToNextChange: 3 * 3600,
      });
    });

    it('GET /market/session: today so far by default (OHLC, present vs expected, flat share, repairs)', async () => {
      const res = await get('/market/session?symbol=USDCOP');
      assert.equal(res.statusCode, 200);
      const today = stored.filter((b) => b.time >= Date.UTC(2024, 0, 2));
      assert.equal(today.length, 22);
      assert.deepEqual(res.json(), {
        symbol: 'USD/COP',
        date: '2024-01-02',
        open: '2024-01-02T13:00:00.000Z',
        close: '2024-01-02T18:00:00.000Z',
        inProgress: true,
        nextDaySettlement: false,
        usHoliday: null,
        ohlc: ohlcOf(today),
        bars: { present: 22, expected: 60, expectedSoFar: 24, missing: 38, coverage: 22 / 60, flatShare: 1 / 22, repaired: 1 },
        status: 'partial',
        lastBarAt: new Date(today.at(-1)!.time).toISOString(),
      });
    });

    it('GET /market/session?date=: a past complete session', async () => {
      const res = await get('/market/session?symbol=USD%2FCOP&date=2023-12-29');
      assert.equal(res.statusCode, 200);
      const body = res.json<{ inProgress: boolean; ohlc: unknown; bars: { present: number; coverage: number }; status: string }>();
      assert.equal(body.inProgress, false);
      assert.deepEqual(body.ohlc, ohlcOf(stored.filter((b) => b.time < Date.UTC(2024, 0, 1))));
      assert.equal(body.bars.present, 60);
      assert.equal(body.bars.coverage, 1);
      assert.equal(body.status, 'complete');
    });

    it('GET /market/session: 404 on a holiday (named), a weekend, a session not open yet; 400 on a bad date', async () => {
      const holiday = await get('/market/session?symbol=USDCOP&date=2024-01-01');
      assert.equal(holiday.statusCode, 404);
      const name = calendar.dayInfo('2024-01-01').holiday;
      assert.ok(name);
      assert.equal(holiday.json<ErrorBody>().error.message, `2024-01-01 is not a trading day: a holiday of SET-FX spot (T+0) (${name}).`);
      const saturday = await get('/market/session?symbol=USDCOP&date=2023-12-30');
      assert.equal(saturday.statusCode, 404);
      assert.match(saturday.json<ErrorBody>().error.message, /2023-12-30 is not a trading day: a Saturday/);
      const tomorrow = await get('/market/session?symbol=USDCOP&date=2024-01-03');
      assert.equal(tomorrow.statusCode, 404);
      assert.match(tomorrow.json<ErrorBody>().error.message, /has not opened yet/);
      for (const date of ['2024-02-30', '02-01-2024', '1900-01-02']) {
        const bad = await get(`/market/session?symbol=USDCOP&date=${date}`);
        assert.equal(bad.statusCode, 400, date);
        assert.equal(bad.json<ErrorBody>().error.code, 'bad_argument');
      }
      assert.equal((await get('/market/session?symbol=XAUUSD')).statusCode, 404);
    });

    it('GET /market/status and /market/session when closed: weekend, Colombian holiday, US holiday', async () => {
      await server.clock.advanceTo(Date.parse('2024-01-06T17:00:00Z'));
      let body = (await get('/market/status')).json<Record<string, unknown>>();
      assert.equal(body['open'], false);
      assert.equal(body['currentSession'], null);
      assert.deepEqual(body['today'], { date: '2024-01-06', tradingDay: false, weekend: true, holiday: null, usHoliday: null, nextDaySettlement: false });
      // Monday 8 January is a holiday (Reyes Magos): the next session is Tuesday's.
      assert.equal(body['nextOpen'], '2024-01-09T13:00:00.000Z');
      assert.equal(body['nextClose'], '2024-01-09T18:00:00.000Z');
      // The latest session (Friday) has no stored bar: reported missing, no made-up OHLC.
      const friday = (await get('/market/session?symbol=USDCOP')).json<Record<string, unknown>>();
      assert.equal(friday['date'], '2024-01-05');
      assert.equal(friday['ohlc'], null);
      assert.equal(friday['status'], 'missing');

      await server.clock.advanceTo(Date.parse('2024-01-08T15:00:00Z'));
      body = (await get('/market/status')).json<Record<string, unknown>>();
      assert.equal(body['open'], false);
      assert.deepEqual(body['today'], { date: '2024-01-08', tradingDay: false, weekend: false, holiday: calendar.dayInfo('2024-01-08').holiday, usHoliday: null, nextDaySettlement: false });

      await server.clock.advanceTo(Date.parse('2024-01-15T14:00:00Z'));
      body = (await get('/market/status')).json<Record<string, unknown>>();
      assert.equal(body['open'], true);
      assert.deepEqual(body['today'], { date: '2024-01-15', tradingDay: true, weekend: false, holiday: null, usHoliday: 'Martin Luther King Jr. Day', nextDaySettlement: true });
    });
  });
}
