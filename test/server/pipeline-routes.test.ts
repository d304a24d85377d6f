import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { BAR_MS, type Bar, type BarFlag } from '../../src/domain/bar.ts';
import { pipelineHealth } from '../../src/server/reports/pipeline-status.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { finishRun, startRun, type FinishRunInput } from '../../src/store/pipeline-runs-repo.ts';
import { refreshSessions } from '../../src/store/refresh-sessions.ts';
import { databaseTargets } from '../support/test-db.ts';
import { OPEN_TIME, startTestServer, type TestServer } from '../support/test-server.ts';

const SYMBOL = 'USD/COP';
const HOUR = 3_600_000;
/** 2024-01-02 (Tuesday) session: 13:00Z .. 18:00Z. The server clock is 15:00Z that day. */
const OPEN_0102 = Date.UTC(2024, 0, 2, 13, 0);

interface RunSeed {
  layer: string;
  startedAt: number;
  finishedAt: number;
  end: Omit<FinishRunInput, 'at'>;
}

async function seedRun(db: Db, r: RunSeed): Promise<number> {
  const id = await startRun(db, { layer: r.layer, symbol: SYMBOL, params: { seeded: r.layer }, at: r.startedAt });
  await finishRun(db, id, { ...r.end, at: r.finishedAt });
  return id;
}

const completed = (rowsIn: number, rowsOut: number, extra: Partial<FinishRunInput> = {}): Omit<FinishRunInput, 'at'> => ({ status: 'completed', rowsIn, rowsOut, summary: { ok: true }, ...extra });

function bar(time: number, flags: BarFlag[] = [], source: Bar['source'] = 'import'): Bar {
  const flat = flags.includes('flat');
  return { symbol: SYMBOL, time, open: 4000, high: flat ? 4000 : 4002, low: flat ? 4000 : 3999, close: flat ? 4000 : 4001, volume: 0, tickCount: null, source, revision: 1, flags };
}

interface Json {
  [key: string]: unknown;
}

for (const target of databaseTargets()) {
  describe(`pipeline routes, ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    const ids: Record<string, number> = {};
    const get = async (url: string, headers: Record<string, string> = {}) => {
      const res = await server.app.inject({ method: 'GET', url, headers });
      return { status: res.statusCode, body: res.json<Json>() };
    };

    before(async () => {
      db = await target.open();
      server = await startTestServer({ db });
    });
    after(async () => {
      await server.close();
      await db.close();
    });

    it('lists every layer L0..L6 with lastRun null before anything ran', async () => {
      const { status, body } = await get('/api/pipeline/status');
      assert.equal(status, 200);
      const layers = body['layers'] as Json[];
      assert.deepEqual(
        layers.map((l) => [l['layer'], l['lastRun'], l['lastSuccess']]),
        ['L0', 'L1', 'L2', 'L3', 'L4', 'L5', 'L6'].map((l) => [l, null, null]),
      );
      assert.deepEqual(layers[1]?.['steps'], ['L1', 'backfill', 'failsafe', 'sync']);
      assert.equal(body['generatedAt'], new Date(OPEN_TIME).toISOString());
    });

    it('shows each layer\'s newest run and newest success, mapping recorded steps to layers', async () => {
      const base = OPEN_TIME - 2 * HOUR;
      ids['L0'] = await seedRun(db, { layer: 'L0', startedAt: base, finishedAt: base + 1000, end: completed(100, 100) });
      ids['L1'] = await seedRun(db, { layer: 'L1', startedAt: base + 2000, finishedAt: base + 5000, end: completed(100, 57) });
      ids['backfill'] = await seedRun(db, { layer: 'backfill', startedAt: base + 6000, finishedAt: base + 7000, end: { status: 'failed', rowsIn: null, rowsOut: null, summary: {}, error: 'REST timed out' } });
      ids['L2'] = await seedRun(db, { layer: 'L2', startedAt: base + 8000, finishedAt: base + 9000, end: completed(57, 57) });
      // L3 started before L2 finished: built on older input, so stale.
      ids['L3'] = await seedRun(db, {
        layer: 'L3',
        startedAt: base + 8500,
        finishedAt: base + 9500,
        end: completed(57, 57, { manifest: { layer: 'L3', files: [{ key: 'L3/USDCOP/2024/2024-01.parquet', rows: 57 }] }, datasetHash: 'ab'.repeat(32) }),
      });
      const { body } = await get('/api/pipeline/status?symbol=USDCOP');
      const layers = new Map((body['layers'] as Json[]).map((l) => [l['layer'], l]));
      const l1 = layers.get('L1');
      assert.equal((l1?.['lastRun'] as Json)['id'], ids['backfill']);
      assert.equal((l1?.['lastRun'] as Json)['step'], 'backfill');
      assert.equal((l1?.['lastRun'] as Json)['status'], 'failed');
      assert.equal((l1?.['lastRun'] as Json)['error'], 'REST timed out');
      const success = l1?.['lastSuccess'] as Json;
      assert.deepEqual(
        [success['id'], success['layer'], success['rowsIn'], success['rowsOut'], success['durationMs'], success['startedAt'], success['finishedAt']],
        [ids['L1'], 'L1', 100, 57, 3000, new Date(base + 2000).toISOString(), new Date(base + 5000).toISOString()],
      );
      assert.equal((layers.get('L3')?.['lastRun'] as Json)['datasetHash'], 'ab'.repeat(32));
      assert.equal((layers.get('L3')?.['lastRun'] as Json)['hasManifest'], true);
      assert.equal(layers.get('L4')?.['lastRun'], null);
      assert.equal(body['symbol'], SYMBOL);
    });

    it('pages a layer\'s history newest first with beforeId', async () => {
      const first = await get('/api/pipeline/layer/L1?limit=1');
      assert.equal(first.status, 200);
      assert.deepEqual((first.body['runs'] as Json[]).map((r) => r['id']), [ids['backfill']]);
      assert.equal(first.body['nextBeforeId'], ids['backfill']);
      const second = await get(`/api/pipeline/layer/L1?limit=1&beforeId=${String(first.body['nextBeforeId'])}`);
      assert.deepEqual((second.body['runs'] as Json[]).map((r) => [r['id'], r['step']]), [[ids['L1'], 'L1']]);
      const all = await get('/api/pipeline/layer/L1?limit=10');
      assert.equal((all.body['runs'] as Json[]).length, 2);
      assert.equal(all.body['nextBeforeId'], null);
      assert.deepEqual((await get('/api/pipeline/layer/L5')).body['runs'], []);
    });

    it('rejects an unknown layer, a bad limit and an unknown symbol', async () => {
      const layer = await get('/api/pipeline/layer/L9');
      assert.equal(layer.status, 400);
      assert.equal((layer.body['error'] as Json)['code'], 'bad_argument');
      assert.match(String((layer.body['error'] as Json)['message']), /params\/layer/);
      assert.equal((await get('/api/pipeline/layer/L1?limit=0')).status, 400);
      assert.equal((await get('/api/pipeline/layer/L1?beforeId=abc')).status, 400);
      const unknown = await get('/api/pipeline/status?symbol=EUR%2FUSD');
      assert.equal(unknown.status, 404);
      assert.match(String((unknown.body['error'] as Json)['message']), /EUR\/USD/);
    });

    it('reports failed runs in the window and stale layers', async () => {
      const { status, body } = await get('/api/pipeline/health?days=1');
      assert.equal(status, 200);
      assert.equal(body['healthy'], false);
      assert.deepEqual((body['failedRuns'] as Json[]).map((r) => r['id']), [ids['backfill']]);
      const layers = new Map((body['layers'] as Json[]).map((l) => [l['layer'], l]));
      // The last session closed 2023-12-29 18:00Z (Jan 1 is a holiday); L1 succeeded after it.
      assert.deepEqual([layers.get('L1')?.['stale'], layers.get('L1')?.['expectedAfter']], [false, '2023-12-29T18:00:00.000Z']);
      assert.deepEqual([layers.get('L0')?.['stale'], layers.get('L0')?.['freshness']], [false, 'on_demand']);
      assert.equal(layers.get('L2')?.['stale'], false);
      assert.equal(layers.get('L3')?.['stale'], true);
      assert.match(String(layers.get('L3')?.['reason']), /L2 changed at/);
      // L4 never ran and its parent L3 has: stale; L5's parent never ran: not stale.
      assert.equal(layers.get('L4')?.['stale'], true);
      assert.equal(layers.get('L5')?.['stale'], false);
    });

    it('leaves failed runs older than the window out', async () => {
      const old = OPEN_TIME - 10 * 24 * HOUR;
      const oldId = await seedRun(db, { layer: 'sync', startedAt: old, finishedAt: old + 1000, end: { status: 'failed', rowsIn: null, rowsOut: null, summary: {}, error: 'old' } });
      assert.deepEqual(((await get('/api/pipeline/health?days=1')).body['failedRuns'] as Json[]).map((r) => r['id']), [ids['backfill']]);
      const wide = (await get('/api/pipeline/health?days=30&limit=1')).body;
      // Newest recorded first (by id): the old run was recorded last.
      assert.deepEqual([(wide['failedRuns'] as Json[]).map((r) => r['id']), wide['failedRunsTruncated']], [[oldId], true]);
      assert.deepEqual(((await get('/api/pipeline/health?days=30')).body['failedRuns'] as Json[]).map((r) => r['id']), [oldId, ids['backfill']]);
      assert.equal((await get('/api/pipeline/health?days=0')).status, 400);
      assert.equal((await get('/api/pipeline/health?days=366')).status, 400);
    });

    it('calls L1 stale once a session closed without an L1 run after it', async () => {
      const later = new ManualClock(OPEN_TIME + 3 * 24 * HOUR);
      const health = await pipelineHealth(db, { calendar: server.deps.calendar.of(SYMBOL), clock: later, days: 1, limit: 10 });
      const l1 = health.layers.find((l) => l.layer === 'L1');
      // Three days later the sessions of Jan 2-4 have closed without an L1 run.
      assert.equal(l1?.stale, true);
      assert.equal(l1?.reason, 'L1 has not completed a run since the session close at 2024-01-04T18:00:00.000Z.');
    });

    it('lists stored manifests, filtered by layer', async () => {
      const { status, body } = await get('/api/pipeline/manifests');
      assert.equal(status, 200);
      const manifests = body['manifests'] as Json[];
      assert.equal(manifests.length, 1);
      assert.equal((manifests[0]?.['run'] as Json)['id'], ids['L3']);
      assert.deepEqual((manifests[0]?.['manifest'] as Json)['files'], [{ key: 'L3/USDCOP/2024/2024-01.parquet', rows: 57 }]);
      assert.deepEqual((await get('/api/pipeline/manifests?layer=L2')).body['manifests'], []);
      assert.equal((await get('/api/pipeline/manifests?layer=X')).status, 400);
      assert.equal((await get('/api/pipeline/manifests?limit=101')).status, 400);
    });

    it('computes coverage, flat share, repairs and gaps by day and by hour of session', async () => {
      // 2024-01-02: 57 of 60 bars (slots 13, 14 and 59 missing); 3 flat, 2 repaired, 1 backfilled.
      const flags = new Map<number, BarFlag[]>([
        [0, ['flat']],
        [1, ['flat']],
        [30, ['flat', 'repaired']],
        [31, ['repaired']],
        [40, ['backfilled']],
      ]);
      const bars: Bar[] = [];
      for (let i = 0; i < 60; i++) {
        if (i === 13 || i === 14 || i === 59) continue;
        const f = flags.get(i) ?? [];
        bars.push(bar(OPEN_0102 + i * BAR_MS, f, f.includes('backfilled') ? 'twelvedata_rest' : 'import'));
      }
      // A bar off the session (before the open) is counted apart.
      bars.push(bar(OPEN_0102 - BAR_MS));
      await upsertBars(db, bars);
      await refreshSessions(db, server.deps.calendar.of(SYMBOL), SYMBOL, '2024-01-02', '2024-01-02');

      const { status, body } = await get('/api/pipeline/data-quality?symbol=USD%2FCOP&from=2024-01-02&to=2024-01-03');
      assert.equal(status, 200, JSON.stringify(body));
      assert.deepEqual(body['sessions'], { total: 2, complete: 0, partial: 1, missing: 1, notRecorded: 1 });
      assert.deepEqual(body['bars'], {
        expected: 120,
        present: 57,
        missing: 63,
        coverage: 57 / 120,
        flat: 3,
        flatShare: 3 / 57,
        repaired: 2,
        backfilled: 1,
        gaps: 3,
        outsideSessions: 1,
      });
      assert.deepEqual(body['flags'], { flat: 3, repaired: 2, backfilled: 1 });
      assert.deepEqual(body['sources'], { import: 57, twelvedata_rest: 1 });
      const [jan2, jan3] = body['byDay'] as Json[];
      assert.deepEqual(
        [jan2?.['date'], jan2?.['present'], jan2?.['missing'], jan2?.['status'], jan2?.['recordedStatus'], jan2?.['flatShare']],
        ['2024-01-02', 57, 3, 'partial', 'partial', 3 / 57],
      );
      assert.deepEqual(jan2?.['gaps'], [
        { from: '2024-01-02T14:05:00.000Z', to: '2024-01-02T14:15:00.000Z', bars: 2 },
        { from: '2024-01-02T17:55:00.000Z', to: '2024-01-02T18:00:00.000Z', bars: 1 },
      ]);
      assert.deepEqual([jan3?.['status'], jan3?.['recordedStatus'], jan3?.['coverage'], jan3?.['flatShare']], ['missing', null, 0, null]);
      assert.deepEqual(jan3?.['gaps'], [{ from: '2024-01-03T13:00:00.000Z', to: '2024-01-03T18:00:00.000Z', bars: 60 }]);
      const hours = body['byHourOfSession'] as Json[];
      assert.deepEqual(
        hours.map((h) => [h['hour'], h['expected'], h['present'], h['flat'], h['repaired'], h['backfilled']]),
        [
          ['08:00', 24, 12, 2, 0, 0],
          ['09:00', 24, 10, 0, 0, 0],
          ['10:00', 24, 12, 1, 2, 0],
          ['11:00', 24, 12, 0, 0, 1],
          ['12:00', 24, 11, 0, 0, 0],
        ],
      );
    });

    it('validates the data-quality query', async () => {
      const cases: Array<[string, number, RegExp]> = [
        ['/api/pipeline/data-quality?from=2024-01-02&to=2024-01-03', 400, /symbol/],
        ['/api/pipeline/data-quality?symbol=USDCOP&from=2024-13-01&to=2024-01-03', 400, /from/],
        ['/api/pipeline/data-quality?symbol=USDCOP&from=2024-01-05&to=2024-01-03', 400, /to 2024-01-03 is before from 2024-01-05/],
        ['/api/pipeline/data-quality?symbol=USDCOP&from=2000-01-01&to=2024-01-03', 400, /at most 3700/],
        ['/api/pipeline/data-quality?symbol=USDCOP&from=1900-01-01&to=1900-01-03', 400, /years the market calendar covers/],
        ['/api/pipeline/data-quality?symbol=XAUUSD&from=2024-01-02&to=2024-01-03', 404, /XAUUSD/],
      ];
      for (const [url, status, message] of cases) {
        const res = await get(url);
        assert.equal(res.status, status, url);
        assert.match(String((res.body['error'] as Json)['message']), message, url);
      }
    });

    it('needs a token for every pipeline read when TASA_AUTH=all', async () => {
      const closed = await startTestServer({ db, env: { TASA_AUTH: 'all' } });
      try {
        for (const url of ['/api/pipeline/status', '/api/pipeline/layer/L1', '/api/pipeline/health', '/api/pipeline/manifests', '/api/pipeline/data-quality?symbol=USDCOP&from=2024-01-02&to=2024-01-02']) {
          assert.equal((await closed.app.inject({ method: 'GET', url })).statusCode, 401, url);
        }
        const reader = await closed.token('reader');
        assert.equal((await closed.app.inject({ method: 'GET', url: '/api/pipeline/status', headers: { 'x-api-key': reader } })).statusCode, 200);
      } finally {
        await closed.close();
      }
    });

    it('is documented in the OpenAPI document', async () => {
      const doc = (await get('/openapi.json')).body;
      const paths = doc['paths'] as Record<string, Json>;
      for (const path of ['/api/pipeline/status', '/api/pipeline/layer/{layer}', '/api/pipeline/health', '/api/pipeline/data-quality', '/api/pipeline/manifests']) {
        const op = paths[path]?.['get'] as Json | undefined;
        assert.ok(op, path);
        assert.deepEqual(op['tags'], ['pipeline']);
        assert.ok((op['responses'] as Json)['200'], path);
        assert.ok((op['responses'] as Json)['400'], path);
      }
    });
  });
}
