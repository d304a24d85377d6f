import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BAR_MS, type Bar } from '../../src/domain/bar.ts';
import { importBarFile } from '../../src/pipeline/import-bars.ts';
import { createApiToken } from '../../src/store/api-tokens-repo.ts';
import { appendAudit, listAudit } from '../../src/store/audit-repo.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { finishRun, startRun } from '../../src/store/pipeline-runs-repo.ts';
import { insertRawBars } from '../../src/store/raw-bars-repo.ts';
import { refreshSessions } from '../../src/store/refresh-sessions.ts';
import { databaseTargets } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

const SYMBOL = 'USD/COP';
const JAN2_OPEN = Date.UTC(2024, 0, 2, 13, 0);
const REST_SHA = 'f'.repeat(64);

interface Json {
  [key: string]: unknown;
}

/** 55 bars of the 2024-01-02 session, one unparseable row, and the 2024-01-03 session written as Bogota wall time labelled UTC. */
function importFile(dir: string): string {
  const line = (t: number, i: number) => `${new Date(t).toISOString().replace('T', ' ').replace('.000Z', '+00:00')},USD/COP,${4000 + i},${4002 + i},${3999 + i},${4001 + i},0,twelvedata,x,y`;
  const rows = ['time,symbol,open,high,low,close,volume,source,created_at,updated_at'];
  for (let i = 0; i < 55; i++) rows.push(line(JAN2_OPEN + i * BAR_MS, i));
  // Stored in L0 as received but unparsed (a price is not a number).
  rows.push('2024-01-02 17:40:00+00:00,USD/COP,abc,4002,3999,4001,0,twelvedata,x,y');
  const jan3Wall = Date.UTC(2024, 0, 3, 8, 0);
  for (let i = 0; i < 60; i++) rows.push(line(jan3Wall + i * BAR_MS, i));
  const path = join(dir, 'usdcop-jan.csv');
  writeFileSync(path, rows.join('\n') + '\n');
  return path;
}

function restBar(time: number): Bar {
  return { symbol: SYMBOL, time, open: 4100, high: 4101, low: 4099, close: 4100.5, volume: null, tickCount: null, source: 'twelvedata_rest', revision: 1, flags: ['backfilled'] };
}

/** What a REST backfill of the last 5 slots of 2024-01-02 leaves behind: L0 rows, L1 bars, an audit entry, a run. */
async function seedBackfill(db: Db, server: TestServer): Promise<{ runId: number }> {
  const times = [55, 56, 57, 58, 59].map((i) => JAN2_OPEN + i * BAR_MS);
  const origin = { name: `twelvedata_rest:time_series:USD/COP:${new Date(times[0] ?? 0).toISOString()}..${new Date(JAN2_OPEN + 60 * BAR_MS).toISOString()}`, sha256: REST_SHA };
  await insertRawBars(
    db,
    SYMBOL,
    origin,
    times.map((time, i) => ({ lineNo: i + 1, raw: `{"t":${time}}`, parsed: { time, open: 4100, high: 4101, low: 4099, close: 4100.5, volume: null, sourceLabel: null, lineNo: i + 1 }, sourceLabel: null })),
  );
  await upsertBars(db, times.map(restBar));
  await refreshSessions(db, server.deps.calendar.of(SYMBOL), SYMBOL, '2024-01-02', '2024-01-02');
  await appendAudit(db, [
    { actor: 'backfill', action: 'backfill.fill', entity: 'bars:USD/COP:2024-01-02', details: { filled: 5 } },
    { actor: 'backfill', action: 'backfill.fill', entity: 'bars:USD/COP:2024-02-01', details: { filled: 1 } },
  ]);
  const runId = await startRun(db, { layer: 'backfill', symbol: SYMBOL, params: { from: '2024-01-02', to: '2024-01-02' } });
  await finishRun(db, runId, { status: 'completed', rowsIn: 5, rowsOut: 5, summary: {} });
  const outside = await startRun(db, { layer: 'backfill', symbol: SYMBOL, params: { from: '2024-02-01', to: '2024-02-02' } });
  await finishRun(db, outside, { status: 'completed', rowsIn: 1, rowsOut: 1, summary: {} });
  return { runId };
}

for (const target of databaseTargets()) {
  describe(`compliance routes, ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    let reader: { token: string; id: string };
    let admin: string;
    const dir = mkdtempSync(join(tmpdir(), 'tasa-compliance-'));
    const request = async (method: 'GET' | 'POST', url: string, o: { token?: string; body?: object } = {}) => {
      const res = await server.app.inject({ method, url, headers: o.token === undefined ? {} : { 'x-api-key': o.token }, ...(o.body === undefined ? {} : { payload: o.body }) });
      return { status: res.statusCode, body: res.json<Json>() };
    };
    const errorOf = (body: Json) => body['error'] as Json;

    before(async () => {
      db = await target.open();
      server = await startTestServer({ db });
      const created = await createApiToken(db, { name: 'auditor', role: 'reader' });
      reader = { token: created.token, id: created.info.id };
      admin = await server.token('admin');
    });
    after(async () => {
      await server.close();
      await db.close();
    });

    it('lists the audit trail newest first, filtered and paged by keyset', async () => {
      const t = Date.UTC(2024, 0, 2, 12, 0);
      await appendAudit(db, [
        { actor: 'cli', action: 'import', entity: 'file:a.csv', details: { n: 1 }, at: t },
        { actor: 'standardizer', action: 'repair.bogota_wall_clock_as_utc', entity: 'bars:USD/COP:2023-06-01', details: { n: 2 }, at: t + 60_000 },
        { actor: 't_0123456789ab', action: 'token.create', entity: 'token:t_aaaaaaaaaaaa', details: { n: 3 }, at: t + 120_000 },
      ]);
      const all = await request('GET', '/api/compliance/audit-trail');
      assert.equal(all.status, 200);
      const entries = all.body['entries'] as Json[];
      assert.deepEqual(
        entries.map((e) => e['action']),
        ['token.create', 'repair.bogota_wall_clock_as_utc', 'import'],
      );
      assert.equal(entries[0]?.['at'], new Date(t + 120_000).toISOString());
      assert.deepEqual(entries[0]?.['details'], { n: 3 });
      assert.equal(all.body['nextBeforeId'], null);

      const page1 = await request('GET', '/api/compliance/audit-trail?limit=2');
      assert.equal((page1.body['entries'] as Json[]).length, 2);
      const next = page1.body['nextBeforeId'];
      assert.equal(next, (page1.body['entries'] as Json[])[1]?.['id']);
      const page2 = await request('GET', `/api/compliance/audit-trail?limit=2&beforeId=${String(next)}`);
      assert.deepEqual((page2.body['entries'] as Json[]).map((e) => e['action']), ['import']);

      const byAction = await request('GET', '/api/compliance/audit-trail?action=import');
      assert.deepEqual((byAction.body['entries'] as Json[]).map((e) => e['entity']), ['file:a.csv']);
      const byEntity = await request('GET', `/api/compliance/audit-trail?entity=${encodeURIComponent('bars:USD/COP:2023-06-01')}`);
      assert.deepEqual((byEntity.body['entries'] as Json[]).map((e) => e['action']), ['repair.bogota_wall_clock_as_utc']);
      const byTime = await request('GET', `/api/compliance/audit-trail?from=${new Date(t + 30_000).toISOString()}&to=${encodeURIComponent('2024-01-02T07:01:30-05:00')}`);
      assert.deepEqual((byTime.body['entries'] as Json[]).map((e) => e['action']), ['repair.bogota_wall_clock_as_utc']);
      // A Bogota date: `to` includes the whole day.
      const byDate = await request('GET', '/api/compliance/audit-trail?from=2024-01-02&to=2024-01-02');
      assert.equal((byDate.body['entries'] as Json[]).length, 3);
      assert.equal((await request('GET', '/api/compliance/audit-trail?from=2024-01-03')).body['entries'] instanceof Array, true);
    });

    it('rejects bad audit-trail queries', async () => {
      for (const [url, input] of [
        ['/api/compliance/audit-trail?from=yesterday', 'from'],
        ['/api/compliance/audit-trail?to=2024-01-02T10:00:00', 'to'],
        ['/api/compliance/audit-trail?limit=501', 'querystring/limit'],
        ['/api/compliance/audit-trail?beforeId=0', 'querystring/beforeId'],
      ] as const) {
        const res = await request('GET', url);
        assert.equal(res.status, 400, url);
        assert.equal(errorOf(res.body)['input'], input, url);
      }
    });

    it('states the market rules, holiday source and retention in force', async () => {
      const { status, body } = await request('GET', '/api/compliance/regulations');
      assert.equal(status, 200);
      assert.equal(body['symbol'], 'USD/COP');
      assert.deepEqual(body['session'], {
        open: '08:00',
        close: '13:00',
        opensDayBefore: false,
        tradingDays: "Monday, Tuesday, Wednesday, Thursday, Friday, except the market's holidays",
        barMinutes: 5,
        barsPerSession: 60,
        barLabel: 'a bar is labelled by its open time and covers [open, open + 5 min)',
        nextDaySettlement: 'the market trades and settles the next business day',
      });
      assert.deepEqual(body['timeZone'], { market: 'America/Bogota', utcOffset: '-05:00', daylightSaving: false, storage: 'UTC: timestamptz in the database, ISO 8601 with Z on the wire' });
      const calendar = body['holidayCalendar'] as Json;
      assert.equal(calendar['overridesFile'], null);
      assert.match(String(calendar['fingerprint']), /^[0-9a-f]{16}$/);
      assert.equal(calendar['storedFingerprint'], calendar['fingerprint']);
      assert.equal(calendar['tableInSync'], true);
      const holidays = body['holidays'] as Json;
      assert.equal(holidays['year'], 2024);
      const colombia = holidays['closed'] as Json[];
      assert.ok(colombia.some((h) => h['date'] === '2024-01-08' && h['origin'] === 'date-holidays'), 'Reyes Magos, moved to Monday');
      assert.ok((holidays['settlement'] as Json[]).some((h) => h['date'] === '2024-07-04'));
      const retention = new Map((body['retention'] as Json[]).map((r) => [r['data'], r]));
      assert.match(String(retention.get('raw_bars (L0)')?.['mutability']), /append-only/);
      assert.match(String(retention.get('audit_log')?.['mutability']), /append-only/);
      assert.match(String(retention.get('ticks')?.['kept']), /partitions/);

      const y2025 = await request('GET', '/api/compliance/regulations?year=2025');
      assert.equal((y2025.body['holidays'] as Json)['year'], 2025);
      assert.ok(((y2025.body['holidays'] as Json)['closed'] as Json[]).every((h) => String(h['date']).startsWith('2025-')));
      assert.equal((await request('GET', '/api/compliance/regulations?year=1900')).status, 400);
      assert.equal((await request('GET', '/api/compliance/regulations?symbol=USDBRL')).status, 404, 'a symbol this server does not serve');
    });

    it('reports lineage and quality of a period: sources, repairs, backfills, gaps, files, sessions', async () => {
      const summary = await importBarFile(db, server.deps.calendar.of(SYMBOL), importFile(dir), { symbol: SYMBOL });
      assert.equal(summary.repairs.length, 1, 'the 2024-01-03 session is repaired');
      const { runId } = await seedBackfill(db, server);

      const { status, body } = await request('POST', '/api/compliance/report', { token: reader.token, body: { from: '2024-01-02', to: '2024-01-04', symbol: 'USDCOP' } });
      assert.equal(status, 200, JSON.stringify(body));
      assert.deepEqual([body['from'], body['to'], body['generatedFor']], ['2024-01-02', '2024-01-04', reader.id]);
      const [report] = body['symbols'] as Json[];
      assert.ok(report);
      assert.equal(report['symbol'], SYMBOL);
      assert.deepEqual(report['sessions'], { total: 3, complete: 2, partial: 0, missing: 1, notRecorded: 1 });
      assert.deepEqual(report['sources'], { import: 115, twelvedata_rest: 5 });
      assert.deepEqual(report['flags'], { repaired: 60, backfilled: 5 });
      assert.deepEqual(report['gaps'], [{ date: '2024-01-04', from: '2024-01-04T13:00:00.000Z', to: '2024-01-04T18:00:00.000Z', bars: 60 }]);
      const bars = report['bars'] as Json;
      assert.deepEqual([bars['expected'], bars['present'], bars['missing'], bars['coverage']], [180, 120, 60, 120 / 180]);

      const repairs = report['repairs'] as Json;
      assert.deepEqual([repairs['bars'], repairs['count']], [60, 1]);
      const [repair] = repairs['entries'] as Json[];
      assert.deepEqual([repair?.['action'], repair?.['entity'], repair?.['actor']], ['repair.bogota_wall_clock_as_utc', 'bars:USD/COP:2024-01-03', 'standardizer']);

      const backfills = report['backfills'] as Json;
      assert.deepEqual([backfills['bars'], backfills['count']], [5, 1]);
      assert.deepEqual((backfills['entries'] as Json[]).map((e) => e['entity']), ['bars:USD/COP:2024-01-02']);
      assert.deepEqual((backfills['runs'] as Json[]).map((r) => [r['id'], r['step'], r['rowsOut']]), [[runId, 'backfill', 5]]);
      assert.deepEqual(report['auditActions'], { 'backfill.fill': 1, 'repair.bogota_wall_clock_as_utc': 1 });

      const origins = report['origins'] as Json[];
      assert.deepEqual(
        origins.map((o) => [o['kind'], o['origin'], o['sha256'], o['rowsInPeriod'], o['rowsTotal']]),
        [
          ['file', 'usdcop-jan.csv', summary.sha256, 115, 116],
          ['rest', `twelvedata_rest:time_series:USD/COP:2024-01-02T17:35:00.000Z..2024-01-02T18:00:00.000Z`, REST_SHA, 5, 5],
        ],
      );
      assert.equal(origins[0]?.['firstBar'], '2024-01-02T13:00:00.000Z');
      // L0 keeps rows as received: the mislabelled session's last row still says 12:55Z.
      assert.equal(origins[0]?.['lastBar'], '2024-01-03T12:55:00.000Z');

      const [audit] = await listAudit(db, { action: 'compliance.report', limit: 5 });
      assert.deepEqual([audit?.actor, audit?.entity, audit?.details], [reader.id, 'report:2024-01-02..2024-01-04', { symbols: [SYMBOL] }]);
    });

    it('reports every served symbol when none is given, for an admin token too', async () => {
      const { status, body } = await request('POST', '/api/compliance/report', { token: admin, body: { from: '2024-01-02', to: '2024-01-02' } });
      assert.equal(status, 200);
      assert.deepEqual((body['symbols'] as Json[]).map((s) => s['symbol']), [SYMBOL]);
    });

    it('needs a token for the report and validates its body', async () => {
      const anonymous = await request('POST', '/api/compliance/report', { body: { from: '2024-01-02', to: '2024-01-04' } });
      assert.equal(anonymous.status, 401);
      assert.equal(errorOf(anonymous.body)['code'], 'unauthorized');
      const revoked = await request('POST', '/api/compliance/report', { token: 'tasa_not-a-real-token', body: { from: '2024-01-02', to: '2024-01-04' } });
      assert.equal(revoked.status, 401);
      const cases: Array<[object, number, RegExp]> = [
        [{ to: '2024-01-04' }, 400, /from/],
        [{ from: '2024-01-05', to: '2024-01-04' }, 400, /to 2024-01-04 is before from 2024-01-05/],
        [{ from: '2024-02-30', to: '2024-03-04' }, 400, /from/],
        [{ from: '2024-01-02', to: '2024-01-04', symbol: 'EURUSD' }, 404, /EURUSD/],
        [{ from: '2000-01-01', to: '2024-01-04' }, 400, /at most 3700 are allowed/],
        [{ from: '1990-01-01', to: '1990-01-04' }, 400, /years the market calendar covers/],
      ];
      for (const [body, status, message] of cases) {
        const res = await request('POST', '/api/compliance/report', { token: reader.token, body });
        assert.equal(res.status, status, JSON.stringify(body));
        assert.match(String(errorOf(res.body)['message']), message, JSON.stringify(body));
      }
    });

    it('documents the routes and the report\'s token in OpenAPI', async () => {
      const paths = (await request('GET', '/openapi.json')).body['paths'] as Record<string, Json>;
      assert.ok(paths['/api/compliance/audit-trail']?.['get']);
      assert.ok(paths['/api/compliance/regulations']?.['get']);
      const report = paths['/api/compliance/report']?.['post'] as Json;
      assert.deepEqual(report['security'], [{ apiKey: [] }, { bearer: [] }]);
      assert.ok((report['responses'] as Json)['401']);
      assert.ok((report['responses'] as Json)['403']);
    });
  });
}
