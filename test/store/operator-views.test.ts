/**
 * The SQL views for people who query the database (migration 013, docs/sql-views.md) answer what
 * the API answers: each view's rows are compared, field by field, with the route it mirrors, on
 * both stores, over the same bars, sessions, lease and alerts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, systemClock } from '../../src/clock.ts';
import { BAR_MS } from '../../src/domain/bar.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { raiseAlert } from '../../src/store/alerts-repo.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { acquireLease, ingestLeaseName } from '../../src/store/leases-repo.ts';
import { refreshSessions } from '../../src/store/refresh-sessions.ts';
import { bar, barSeries, T0 } from '../support/store-fixtures.ts';
import { databaseTargets } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

const SYMBOL = 'USD/COP';
const DAY = 24 * 60 * 60_000;
const calendar = new MarketCalendar();
/** 2024-01-02 (a whole session, one bar partial) and 2024-01-03 (the first 20 bars, the last one flat). */
const FIRST_DATE = '2024-01-02';
const SECOND_DATE = '2024-01-03';
/** Mid-session on the second day: the clock of the server and of the lease. */
const NOW = T0 + DAY + 2 * 60 * 60_000;

async function get<T>(server: TestServer, url: string): Promise<T> {
  const res = await server.app.inject({ method: 'GET', url });
  assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
  return res.json<T>();
}

async function seed(db: Db): Promise<void> {
  const first = barSeries(T0, 60).map((b, i) => (i === 7 ? { ...b, flags: ['partial' as const], coverage: 0.5, tickCount: 10, source: 'simulator' as const } : b));
  const second = barSeries(T0 + DAY, 19);
  second.push(bar(T0 + DAY + 19 * BAR_MS, 4321.5, { high: 4321.5, low: 4321.5 }));
  await upsertBars(db, [...first, ...second]);
  await refreshSessions(db, calendar, SYMBOL, FIRST_DATE, SECOND_DATE);
  await acquireLease(db, { name: ingestLeaseName(SYMBOL), holder: 'ingest-a:1', now: systemClock.now(), ttlMs: 10 * 60_000 });
  for (const key of ['one', 'two']) {
    await raiseAlert(db, { kind: 'test', severity: 'warning', symbol: SYMBOL, message: key, details: {}, dedupeKey: `views-${key}` });
  }
}

const iso = (value: unknown): string => new Date(value as string | Date).toISOString();

for (const target of databaseTargets()) {
  describe(`operator views on ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    before(async () => {
      db = await target.open();
      server = await startTestServer({ db, clock: new ManualClock(NOW), trading: false });
      await seed(db);
    });
    after(async () => {
      await server?.close();
      await db?.close();
    });

    it('latest_market_data is the last 5-minute candle of /api/candlesticks', async () => {
      const [row, more] = await db.query<Record<string, unknown>>('SELECT * FROM latest_market_data WHERE symbol = $1', [SYMBOL]);
      assert.ok(row);
      assert.equal(more, undefined, 'one row per symbol');
      const { candles } = await get<{ candles: Array<{ time: string; open: number; high: number; low: number; close: number; complete: boolean; sources: string[] }> }>(
        server,
        '/api/candlesticks/USD%2FCOP?interval=5min&limit=1',
      );
      const candle = candles[0];
      assert.ok(candle);
      assert.equal(iso(row['time']), candle.time);
      assert.deepEqual([row['open'], row['high'], row['low'], row['close']], [candle.open, candle.high, candle.low, candle.close]);
      assert.equal(row['complete'], candle.complete);
      assert.deepEqual([row['source']], candle.sources);
      assert.equal(row['close'], 4321.5, 'the newest bar, not the first');
    });

    it('intraday_summary gives each session the OHLC, bar count and last bar of /market/session', async () => {
      const rows = await db.query<Record<string, unknown>>("SELECT *, date::text AS day FROM intraday_summary WHERE symbol = $1 ORDER BY date", [SYMBOL]);
      assert.deepEqual(rows.map((r) => r['day']), [FIRST_DATE, SECOND_DATE]);
      for (const row of rows) {
        const body = await get<{ ohlc: Record<string, number>; bars: { present: number }; lastBarAt: string }>(server, `/market/session?symbol=USD%2FCOP&date=${String(row['day'])}`);
        assert.deepEqual({ open: row['open'], high: row['high'], low: row['low'], close: row['close'] }, body.ohlc);
        assert.equal(row['bars'], body.bars.present);
        assert.equal(iso(row['last_bar_at']), body.lastBarAt);
      }
    });

    it('data_quality_monitor has the rows of /api/sessions', async () => {
      const rows = await db.query<Record<string, unknown>>("SELECT *, date::text AS day FROM data_quality_monitor WHERE symbol = $1 ORDER BY date", [SYMBOL]);
      const body = await get<{ sessions: Array<Record<string, unknown>> }>(server, `/api/sessions?symbol=USD%2FCOP&from=${FIRST_DATE}&to=${SECOND_DATE}`);
      assert.equal(rows.length, 2);
      assert.deepEqual(
        rows.map((r) => ({
          date: r['day'],
          expected: r['expected'],
          present: r['present'],
          missing: r['missing'],
          flat_share: r['flat_share'] === null ? null : Number((r['flat_share'] as number).toFixed(4)),
          repaired: r['repaired'],
          status: r['status'],
        })),
        body.sessions,
      );
      assert.deepEqual(rows.map((r) => r['coverage']), [1, 20 / 60]);
    });

    it('system_status has the ingest lease of /health and the open alerts of /status', async () => {
      const [row] = await db.query<Record<string, unknown>>('SELECT * FROM system_status WHERE symbol = $1', [SYMBOL]);
      assert.ok(row);
      const health = await get<{ checks: { ingest: { leases: Array<{ symbol: string; holder: string | null; epoch: number | null; expiresAt: string | null; live: boolean }> } } }>(server, '/health');
      const lease = health.checks.ingest.leases.find((l) => l.symbol === SYMBOL);
      assert.ok(lease);
      assert.deepEqual(
        { holder: row['ingest_holder'], epoch: Number(row['ingest_epoch']), expiresAt: iso(row['ingest_expires_at']) },
        { holder: lease.holder, epoch: lease.epoch, expiresAt: lease.expiresAt },
      );
      // The view judges liveness on the database's clock, the API on the process clock (here in
      // 2024): the lease runs ten minutes past the real now, so both call it live.
      assert.equal(row['ingest_live'], lease.live);
      assert.equal(lease.live, true);
      const status = await get<{ jobs: { openAlerts: number } }>(server, '/status');
      assert.equal(row['open_alerts'], status.jobs.openAlerts);
      assert.equal(row['open_alerts'], 2);
      assert.equal(iso(row['last_bar_at']), new Date(T0 + DAY + 19 * BAR_MS).toISOString());
    });
  });
}
