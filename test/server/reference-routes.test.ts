import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Bar } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { seedSessions, type SeedOptions } from './seed-bars.ts';

const calendar = new MarketCalendar();
const CSV_HEADER = 'time,open,high,low,close,volume,source,revision,flags';

interface ErrorBody {
  error: { code: string; message: string };
}

/** A stored bar as the API writes it, built here independently of the code under test. */
function expectedRow(b: Bar): Record<string, unknown> {
  return { time: new Date(b.time).toISOString(), open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume, source: b.source, revision: b.revision, flags: [...b.flags].sort().join('|') };
}

function parseCsv(text: string): { header: string; rows: Array<Record<string, unknown>> } {
  const [header = '', ...lines] = text.trimEnd().split('\n');
  const keys = header.split(',');
  const numeric = new Set(['open', 'high', 'low', 'close', 'volume', 'revision']);
  const rows = lines.map((line) => Object.fromEntries(line.split(',').map((cell, i) => [keys[i]!, numeric.has(keys[i]!) ? Number(cell) : cell])));
  return { header, rows };
}

for (const target of databaseTargets()) {
  describe(`reference routes on ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    let stored: Bar[];
    const autumn = calendar.sessionsBetween('2023-08-01', '2023-12-29').map((s, i): [string, SeedOptions] => [
      s.date,
      { skip: i % 7 === 0 ? [i % 60] : [], flat: i % 5 === 0 ? [3] : [], repaired: i % 9 === 0 ? [4] : [], base: 3900 + i },
    ]);
    before(async () => {
      db = await target.open();
      server = await startTestServer({ db, listen: true });
      // About a hundred sessions (> one 5000-bar page of the stream), a few bars missing, some flagged.
      stored = await seedSessions(db, calendar, [...autumn, ['2024-01-02', { skip: [0, 1, 2, 30], flat: [5], base: 3950 }]]);
      assert.ok(stored.length > 5000);
    });
    after(async () => {
      await server?.close();
      await db?.close();
    });

    const get = (url: string) => server.app.inject({ method: 'GET', url });

    it('GET /api/market/historical as JSON: streamed, and parsed back it equals the stored bars', async () => {
      const res = await fetch(`${server.url}/api/market/historical?symbol=USD%2FCOP&from=2023-08-01&to=2023-12-29`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(res.headers.get('transfer-encoding'), 'chunked');
      assert.equal(res.headers.get('content-length'), null);
      const rows = (await res.json()) as unknown[];
      const expected = stored.filter((b) => b.time < Date.UTC(2024, 0, 1)).map(expectedRow);
      assert.equal(rows.length, expected.length);
      assert.deepEqual(rows, expected);
    });

    it('GET /api/market/historical as CSV: an attachment whose lines equal the stored bars', async () => {
      const res = await get('/api/market/historical?symbol=USDCOP&from=2023-12-01&to=2024-01-02&format=csv');
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'text/csv; charset=utf-8');
      assert.equal(res.headers['content-disposition'], 'attachment; filename="USDCOP_2023-12-01_2024-01-02.csv"');
      const { header, rows } = parseCsv(res.body);
      assert.equal(header, CSV_HEADER);
      assert.deepEqual(
        rows,
        stored.filter((b) => b.time >= Date.UTC(2023, 11, 1)).map(expectedRow),
      );
    });

    it('GET /api/market/historical: an empty range is [] or a header; bad input is 400, an unknown symbol 404', async () => {
      assert.equal((await get('/api/market/historical?symbol=USDCOP&from=2023-07-03')).body.trim(), '[]');
      assert.equal((await get('/api/market/historical?symbol=USDCOP&from=2023-07-03&format=csv')).body, `${CSV_HEADER}\n`);
      for (const query of ['from=2023-02-30', 'from=2023-08-02&to=2023-08-01', 'from=2023-08-01&format=xml', 'to=2023-08-01']) {
        const res = await get(`/api/market/historical?symbol=USDCOP&${query}`);
        assert.equal(res.statusCode, 400, query);
        assert.equal(res.json<ErrorBody>().error.code, 'bad_argument', query);
      }
      assert.equal((await get('/api/market/historical?symbol=EURCOP&from=2023-08-01')).statusCode, 404);
    });

    it('GET /api/sessions: one row per trading day, as `tasa sessions` shows it', async () => {
      const res = await get('/api/sessions?symbol=USDCOP&from=2023-12-28&to=2024-01-03');
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), {
        symbol: 'USD/COP',
        from: '2023-12-28',
        to: '2024-01-03',
        sessions: [
          ...autumn.filter(([date]) => date >= '2023-12-28').map(([date, o]) => {
            const present = 60 - (o.skip?.length ?? 0);
            const flat = o.flat?.filter((i) => !o.skip?.includes(i)).length ?? 0;
            const repaired = o.repaired?.filter((i) => !o.skip?.includes(i)).length ?? 0;
            return { date, expected: 60, present, missing: 60 - present, flat_share: Number((flat / present).toFixed(4)), repaired, status: present === 60 ? 'complete' : 'partial' };
          }),
          { date: '2024-01-02', expected: 60, present: 56, missing: 4, flat_share: Number((1 / 56).toFixed(4)), repaired: 0, status: 'partial' },
          { date: '2024-01-03', expected: 60, present: 0, missing: 60, flat_share: null, repaired: 0, status: 'missing' },
        ],
      });
    });

    it('GET /api/gaps: missing bars merged into intervals, as `tasa gaps` shows them', async () => {
      const res = await get('/api/gaps?symbol=USD%2FCOP&from=2024-01-02&to=2024-01-03');
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), {
        symbol: 'USD/COP',
        from: '2024-01-02',
        to: '2024-01-03',
        missingBars: 64,
        gaps: [
          { date: '2024-01-02', from: '2024-01-02T13:00:00.000Z', to: '2024-01-02T13:15:00.000Z', bars: 3 },
          { date: '2024-01-02', from: '2024-01-02T15:30:00.000Z', to: '2024-01-02T15:35:00.000Z', bars: 1 },
          { date: '2024-01-03', from: '2024-01-03T13:00:00.000Z', to: '2024-01-03T18:00:00.000Z', bars: 60 },
        ],
      });
    });

    it('GET /api/calendar: every day with holiday names and session times; one day by default', async () => {
      const res = await get('/api/calendar?from=2024-01-05&to=2024-01-08');
      assert.equal(res.statusCode, 200);
      const reyes = calendar.dayInfo('2024-01-08').holiday;
      assert.ok(reyes);
      assert.equal(res.json<{ symbol: string }>().symbol, 'USD/COP');
      assert.deepEqual(res.json<{ days: unknown[] }>().days, [
        { date: '2024-01-05', weekday: 'Fri', trading_day: true, holiday: null, next_day_settlement: false, us_holiday: null, session_open: '2024-01-05T13:00:00.000Z', session_close: '2024-01-05T18:00:00.000Z', bars: 60 },
        { date: '2024-01-06', weekday: 'Sat', trading_day: false, holiday: null, next_day_settlement: false, us_holiday: null, session_open: null, session_close: null, bars: null },
        { date: '2024-01-07', weekday: 'Sun', trading_day: false, holiday: null, next_day_settlement: false, us_holiday: null, session_open: null, session_close: null, bars: null },
        { date: '2024-01-08', weekday: 'Mon', trading_day: false, holiday: reyes, next_day_settlement: false, us_holiday: null, session_open: null, session_close: null, bars: null },
      ]);
      // Any configured instrument's calendar, served or not: USD/BRL closes for Carnival; EUR/USD's Monday opens Sunday 17:00 New York.
      const brl = await get('/api/calendar?symbol=USDBRL&from=2024-02-12&to=2024-02-14');
      assert.deepEqual(
        brl.json<{ zone: string; days: Array<{ date: string; trading_day: boolean; bars: number | null }> }>().days.map((d) => [d.date, d.trading_day, d.bars]),
        [['2024-02-12', false, null], ['2024-02-13', false, null], ['2024-02-14', true, 96]],
      );
      assert.equal(brl.json<{ zone: string }>().zone, 'America/Sao_Paulo');
      const eur = await get('/api/calendar?symbol=EUR/USD&from=2024-01-08');
      assert.deepEqual(eur.json<{ days: unknown[] }>().days.map((d) => [(d as { session_open: string }).session_open, (d as { bars: number }).bars]), [['2024-01-07T22:00:00.000Z', 288]]);
      assert.equal((await get('/api/calendar?symbol=USD/XYZ&from=2024-01-08')).statusCode, 404);
      const mlk = await get('/api/calendar?from=2024-01-15');
      assert.deepEqual(
        mlk.json<{ days: Array<{ date: string; next_day_settlement: boolean; us_holiday: string }> }>().days.map((d) => [d.date, d.next_day_settlement, d.us_holiday]),
        [['2024-01-15', true, 'Martin Luther King Jr. Day']],
      );
      for (const query of ['from=2024-1-5', 'from=2024-01-08&to=2024-01-05', 'from=2200-01-01', '']) {
        assert.equal((await get(`/api/calendar?${query}`)).statusCode, 400, query);
      }
    });
  });
}
