import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { WalkForwardRunDetail, WalkForwardRunPage } from '../../src/contracts/api/walk-forward.ts';
import type { WalkForwardReport } from '../../src/research/walk-forward-evaluation.ts';
import type { Db } from '../../src/store/db.ts';
import { finishWalkForwardRun, insertWalkForwardRun } from '../../src/store/walk-forward-repo.ts';
import { databaseTargets } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { insertCompletedWalkForwardRun, walkForwardReportFixture } from '../support/walk-forward-fixture.ts';

const T0 = Date.UTC(2025, 0, 6, 13);
const BASE = '/api/research/walk-forward';

function valid(schema: TSchema, body: unknown): void {
  assert.deepEqual([...Value.Errors(schema, body)].slice(0, 5).map((e) => `${e.instancePath} ${e.message}`), []);
}

for (const target of databaseTargets()) {
  describe(`walk-forward routes, ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    let report: WalkForwardReport;
    let completed: number;
    let running: number;
    let failed: number;
    const get = (url: string) => server.app.inject({ method: 'GET', url });

    before(async () => {
      db = await target.open();
      server = await startTestServer({ db });
      report = walkForwardReportFixture();
      completed = await insertCompletedWalkForwardRun(db, report, T0);
      failed = await insertWalkForwardRun(db, { symbol: 'USD/COP', config: {}, fingerprint: 'fp-failed', datasetHash: null, researchHash: null, plans: [{}], createdAt: T0 + 1000, actor: 'test' });
      await finishWalkForwardRun(db, failed, { error: 'Fold 0 failed: no bars.' }, T0 + 2000, 'test');
      running = await insertWalkForwardRun(db, { symbol: 'USD/COP', config: {}, fingerprint: 'fp-running', datasetHash: null, researchHash: null, plans: [{}, {}], createdAt: T0 + 3000, actor: 'test' });
    });
    after(async () => {
      await server?.close();
      await db?.close();
    });

    it('lists runs newest first, paged with beforeId', async () => {
      const first = await get(`${BASE}?limit=2`);
      assert.equal(first.statusCode, 200);
      const page = first.json<WalkForwardRunPage>();
      valid(WalkForwardRunPage, page);
      assert.deepEqual(page.items.map((r) => r.id), [running, failed]);
      assert.equal(page.nextBeforeId, failed);
      assert.deepEqual(page.items.map((r) => [r.status, r.verdict, r.error, r.hasReport]), [
        ['running', null, null, false],
        ['failed', null, 'Fold 0 failed: no bars.', false],
      ]);
      const second = (await get(`${BASE}?limit=2&beforeId=${page.nextBeforeId}`)).json<WalkForwardRunPage>();
      valid(WalkForwardRunPage, second);
      assert.deepEqual(second.items.map((r) => [r.id, r.status, r.verdict, r.hasReport, r.folds]), [[completed, 'completed', report.verdict, true, 2]]);
      assert.equal(second.nextBeforeId, null);
      assert.equal(second.items[0]!.createdAt, new Date(T0).toISOString());
      const onlyCompleted = (await get(`${BASE}?status=completed&symbol=USDCOP`)).json<WalkForwardRunPage>();
      assert.deepEqual(onlyCompleted.items.map((r) => r.id), [completed]);
    });

    it("answers a run's policies and per-fold rows as stored", async () => {
      const res = await get(`${BASE}/${completed}`);
      assert.equal(res.statusCode, 200);
      const body = res.json<WalkForwardRunDetail>();
      valid(WalkForwardRunDetail, body);
      assert.ok(body.report !== null);
      assert.deepEqual([body.report.mode, body.report.confidence, body.report.trials], [report.mode, report.confidence, report.trials]);
      assert.deepEqual(body.report.policies.map((p) => [p.policyId, p.kind]), [['buy-and-hold', 'baseline'], ['ppo-1', 'ppo']]);
      for (const [i, p] of body.report.policies.entries()) {
        const s = report.policies[i]!;
        assert.deepEqual(
          [p.meanSharpe, p.medianSharpe, p.sharpeStdev, p.positiveFolds, p.beatBestBaselineFolds, p.passedFolds, p.stitchedReturn, p.psr, p.dsr, p.verdict],
          [s.meanSharpe, s.medianSharpe, s.sharpeStdev, s.positiveFolds, s.beatBestBaselineFolds, s.passedFolds, s.stitchedReturn, s.pooledPsr, s.pooledDsr, s.verdict],
        );
        const stored = report.folds.map((f) => f.policies.find((x) => x.policyId === p.policyId)!);
        assert.deepEqual(
          p.perFold.map((r) => [r.fold, r.testFrom, r.testTo, r.totalReturn, r.sharpe, r.trades, r.passed]),
          stored.map((r, fold) => [fold, report.folds[fold]!.fold.test.from, report.folds[fold]!.fold.test.to, r.totalReturn, r.sharpe, r.trades, r.passed]),
        );
      }
      const ppo = body.report.policies[1]!;
      assert.deepEqual([ppo.positiveFolds, ppo.beatBestBaselineFolds, ppo.passedFolds], [1, 2, 1]);
    });

    it('has no report figures for a running or failed run', async () => {
      for (const id of [running, failed]) {
        const body = (await get(`${BASE}/${id}`)).json<WalkForwardRunDetail>();
        valid(WalkForwardRunDetail, body);
        assert.equal(body.report, null);
      }
    });

    it('serves the stored HTML report, 404 when the run has none', async () => {
      const res = await get(`${BASE}/${completed}/report`);
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(String(res.headers['content-security-policy']), /default-src 'none'/);
      assert.match(res.body, /<!doctype html>/);
      assert.ok(res.body.includes('ppo-1'));
      const missing = await get(`${BASE}/${running}/report`);
      assert.equal(missing.statusCode, 404);
      assert.match(missing.json<{ error: { message: string } }>().error.message, /running/);
    });

    it('answers 404 for an unknown run and 400 for a bad id or query', async () => {
      for (const url of [`${BASE}/999999`, `${BASE}/999999/report`]) {
        const res = await get(url);
        assert.equal(res.statusCode, 404, url);
        assert.match(res.json<{ error: { message: string } }>().error.message, /tasa pipeline run/);
      }
      for (const url of [`${BASE}/abc`, `${BASE}/0`, `${BASE}/1.5/report`, `${BASE}/99999999999999999999`, `${BASE}?beforeId=-1`, `${BASE}?limit=0`, `${BASE}?status=done`]) {
        assert.equal((await get(url)).statusCode, 400, url);
      }
      assert.equal((await get(`${BASE}?symbol=EURUSD`)).statusCode, 404);
    });
  });
}
