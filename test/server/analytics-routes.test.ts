import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BAR_MS } from '../../src/domain/bar.ts';
import { bogotaDate } from '../../src/domain/time.ts';
import type { BacktestResult } from '../../src/research/backtest.ts';
import { createApiToken } from '../../src/store/api-tokens-repo.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import { insertBacktest } from '../../src/store/backtests-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { insertModel, type ModelInput } from '../../src/store/models-repo.ts';
import { startRun } from '../../src/store/pipeline-runs-repo.ts';
import { insertPrediction } from '../../src/store/predictions-repo.ts';
import { backtestFixture, type BacktestFixture } from '../support/backtest-fixture.ts';
import { databaseTargets } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

interface Json {
  [key: string]: unknown;
}

const T0 = Date.UTC(2025, 0, 6, 13);
const ANALYTICS = ['rl-metrics', 'performance-kpis', 'production-gates', 'session-pnl', 'risk-metrics', 'trade-distribution'];
/** Gates every run passes, so that a "passed" backtest is stored. */
const LENIENT = { minSortino: -1e9, maxDrawdown: 1, minStressedReturn: -1, minTrades: 0, minSharpeOverFlat: -1e9, minExcessReturn: -1, confidence: 0 };

function model(id: string, createdAt: number, kind: ModelInput['kind'] = 'ppo'): ModelInput {
  return {
    id,
    kind,
    symbol: 'USD/COP',
    datasetHash: 'abc',
    config: { steps: 2048 },
    metrics: { validation: { meanReward: 0.001 } },
    trainingCurve: [
      { iteration: 1, meanEpisodeReward: null, policyLoss: 0.2 },
      { iteration: 2, meanEpisodeReward: 0.01, policyLoss: 0.1 },
    ],
    weights: kind === 'ppo' ? new Uint8Array([1, 2, 3]) : null,
    createdAt,
  };
}

/** Session closes of the full-resolution run: the independent reference for the session figures. */
function sessionCloses(result: BacktestResult): Array<{ pnl: number; ret: number }> {
  const out: Array<{ pnl: number; ret: number }> = [];
  let previous = result.initialEquity;
  for (let i = 0; i < result.times.length; i++) {
    const last = i === result.times.length - 1 || bogotaDate(result.times[i + 1]!) !== bogotaDate(result.times[i]!);
    if (!last) continue;
    out.push({ pnl: result.equity[i]! - previous, ret: result.equity[i]! / previous - 1 });
    previous = result.equity[i]!;
  }
  return out;
}

function near(actual: unknown, expected: number, what: string, tolerance = 1e-9): void {
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${what}: ${String(actual)} != ${expected}`);
}

for (const target of databaseTargets()) {
  describe(`research and analytics routes, ${target.name}`, () => {
    let db: Db;
    let server: TestServer;
    let admin: string;
    let reader: string;
    const get = async (url: string) => {
      const res = await server.app.inject({ method: 'GET', url });
      return { status: res.statusCode, body: String(res.headers['content-type'] ?? '').startsWith('application/json') ? res.json<Json>() : {}, raw: res.body, headers: res.headers };
    };
    const promote = async (id: string, token: string | undefined, query = '') => {
      const res = await server.app.inject({ method: 'POST', url: `/api/models/${id}/promote${query}`, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
      return { status: res.statusCode, body: res.json<Json>() };
    };
    const message = (body: Json) => String((body['error'] as Json | undefined)?.['message']);

    before(async () => {
      db = await target.open();
      server = await startTestServer({ db });
      admin = (await createApiToken(db, { name: 'ops', role: 'admin' })).token;
      reader = await server.token('reader');
    });
    after(async () => {
      await server?.close();
      await db?.close();
    });

    it('answers 404 with how to get data when nothing is stored yet', async () => {
      for (const name of ANALYTICS) {
        const res = await get(`/api/analytics/${name}`);
        assert.equal(res.status, 404, name);
        assert.match(message(res.body), name === 'rl-metrics' ? /No model yet for USD\/COP/ : /No backtest yet for USD\/COP/, name);
        assert.match(message(res.body), /tasa pipeline run/, name);
      }
      // A list: empty, not an error, while no model predicts (the dashboard says why).
      const prediction = await get('/api/predictions/latest');
      assert.deepEqual([prediction.status, prediction.body], [200, { symbol: 'USD/COP', items: [] }]);
      assert.deepEqual((await get('/api/backtests')).body, { items: [], nextBeforeId: null });
      assert.deepEqual((await get('/api/models')).body, { items: [] });
      assert.equal((await get('/api/backtests/1')).status, 404);
      assert.equal((await get('/api/backtests/1/report')).status, 404);
      assert.equal((await get('/api/models/nope')).status, 404);
    });

    // Seeded once, used by the tests below: a failing run of ppo-1, a passing run of ppo-2, two baselines.
    let failing: BacktestFixture;
    let passing: BacktestFixture;
    const ids: Record<string, number> = {};

    it('lists the models without weights and shows one with its training curve', async () => {
      await insertModel(db, model('ppo-1', T0));
      await insertModel(db, model('ppo-2', T0 + 1000));
      await insertModel(db, model('sma-crossover', T0 + 2000, 'baseline'));
      const list = await get('/api/models?kind=ppo');
      assert.equal(list.status, 200);
      const items = list.body['items'] as Json[];
      assert.deepEqual(
        items.map((m) => m['id']),
        ['ppo-2', 'ppo-1'],
      );
      assert.equal(items[0]!['weightsBytes'], 3);
      assert.equal(items[0]!['trainingIterations'], 2);
      assert.ok(!('weights' in items[0]!) && !('trainingCurve' in items[0]!));
      assert.equal(items[0]!['createdAt'], new Date(T0 + 1000).toISOString());
      const one = await get('/api/models/ppo-1');
      assert.equal(one.status, 200);
      assert.equal((one.body['trainingCurve'] as Json[]).length, 2);
      assert.equal((await get('/api/models?symbol=EURUSD')).status, 404);
    });

    it('serves stored backtests: list with paging, detail with curve and trades, the HTML report', async () => {
      failing = backtestFixture({ policyId: 'ppo-1', seed: 1 });
      passing = backtestFixture({ policyId: 'ppo-2', seed: 2, thresholds: LENIENT });
      assert.equal(failing.input.passed, false);
      assert.equal(passing.input.passed, true);
      ids['ppo-1'] = await insertBacktest(db, failing.input);
      ids['ppo-2'] = await insertBacktest(db, passing.input);
      for (const [policyId, rule] of [
        ['always-long', 'long'],
        ['flat', 'flat'],
      ] as const) {
        ids[policyId] = await insertBacktest(db, backtestFixture({ policyId, rule, withReport: false }).input);
      }

      const page1 = await get('/api/backtests?limit=3');
      assert.equal(page1.status, 200);
      const items = page1.body['items'] as Json[];
      assert.deepEqual(
        items.map((b) => b['id']),
        [ids['flat'], ids['always-long'], ids['ppo-2']],
      );
      assert.equal(page1.body['nextBeforeId'], ids['ppo-2']);
      assert.ok(!('equity' in items[0]!));
      const page2 = await get(`/api/backtests?limit=3&beforeId=${ids['ppo-2']}`);
      assert.deepEqual(page2.body, { items: [(page2.body['items'] as Json[])[0]], nextBeforeId: null });
      assert.equal((page2.body['items'] as Json[])[0]!['id'], ids['ppo-1']);
      assert.equal(((await get('/api/backtests?policy=ppo-1')).body['items'] as Json[]).length, 1);

      const detail = await get(`/api/backtests/${ids['ppo-1']}`);
      assert.equal(detail.status, 200);
      const equity = detail.body['equity'] as Json;
      const points = equity['points'] as Json[];
      assert.equal(equity['bars'], failing.result.equity.length);
      assert.equal(points.length, failing.result.equity.length, 'a 1,200-bar run keeps every bar');
      assert.equal(points.at(-1)!['equity'], failing.result.equity.at(-1));
      assert.equal(points[0]!['time'], new Date(failing.result.times[0]!).toISOString());
      const trades = detail.body['trades'] as Json;
      assert.equal(trades['total'], failing.result.trades.length);
      assert.equal((trades['items'] as Json[]).length, failing.result.trades.length);
      assert.deepEqual(detail.body['metrics'], failing.input.metrics);
      assert.equal((detail.body['gates'] as Json)['passed'], false);
      assert.equal(detail.body['hasReport'], true);

      const report = await get(`/api/backtests/${ids['ppo-1']}/report`);
      assert.equal(report.status, 200);
      assert.match(String(report.headers['content-type']), /^text\/html/);
      assert.match(String(report.headers['content-security-policy']), /default-src 'none'/);
      assert.equal(report.raw, failing.input.reportHtml);
      const none = await get(`/api/backtests/${ids['flat']}/report`);
      assert.equal(none.status, 404);
      assert.match(message(none.body), /without an HTML report/);
      assert.equal((await get('/api/backtests/abc')).status, 400);
    });

    it('rl-metrics: newest candidate by default, any model by id', async () => {
      const res = await get('/api/analytics/rl-metrics');
      assert.equal(res.status, 200);
      assert.equal((res.body['model'] as Json)['id'], 'ppo-2');
      assert.deepEqual(res.body['trainingCurve'], model('ppo-2', 0).trainingCurve);
      assert.deepEqual(res.body['validation'], { validation: { meanReward: 0.001 } });
      assert.equal(((await get('/api/analytics/rl-metrics?model=ppo-1')).body['model'] as Json)['id'], 'ppo-1');
      assert.equal((await get('/api/analytics/rl-metrics?model=nope')).status, 404);
    });

    it('performance-kpis and production-gates: the newest model\'s backtest with the baselines over the same dates', async () => {
      const kpis = await get('/api/analytics/performance-kpis');
      assert.equal(kpis.status, 200);
      assert.equal((kpis.body['backtest'] as Json)['id'], ids['ppo-2']);
      assert.deepEqual(kpis.body['metrics'], passing.input.metrics);
      assert.equal(kpis.body['passed'], true);
      const baselines = kpis.body['baselines'] as Json[];
      assert.deepEqual(baselines.map((b) => (b['backtest'] as Json)['policyId']).sort(), ['always-long', 'flat']);
      const flat = baselines.find((b) => (b['backtest'] as Json)['policyId'] === 'flat')!;
      assert.equal((flat['metrics'] as Json)['totalReturn'], 0);
      assert.equal((flat['metrics'] as Json)['tradeCount'], 0);

      const gates = await get(`/api/analytics/production-gates?backtest=${ids['ppo-1']}`);
      assert.equal(gates.status, 200);
      assert.equal(gates.body['passed'], false);
      const report = gates.body['gates'] as Json;
      assert.deepEqual(
        (report['gates'] as Json[]).map((g) => g['gate']),
        ['sortino', 'max-drawdown', 'cost-stress', 'min-trades', 'sharpe-vs-flat', 'excess-vs-best-baseline', 'probabilistic-sharpe', 'deflated-sharpe'],
      );
      assert.match(String(report['verdict']), /edge/);
      assert.deepEqual(report, failing.input.gates);
      assert.equal((await get('/api/analytics/production-gates?backtest=999999')).status, 404);
    });

    it('session-pnl and risk-metrics match the full-resolution run (hand-computed)', async () => {
      const closes = sessionCloses(failing.result);
      const pnl = await get(`/api/analytics/session-pnl?backtest=${ids['ppo-1']}`);
      assert.equal(pnl.status, 200);
      assert.equal(pnl.body['sessionsPerPeriod'], 1);
      const periods = pnl.body['periods'] as Json[];
      assert.equal(periods.length, closes.length);
      closes.forEach((c, i) => near(periods[i]!['pnl'], c.pnl, `pnl ${i}`));
      const total = periods.reduce((a, p) => a + (p['pnl'] as number), 0);
      near(total, failing.result.equity.at(-1)! - 1, 'PnL adds up to the total');
      assert.equal(periods[0]!['date'], failing.input.fromDate);

      const risk = await get(`/api/analytics/risk-metrics?backtest=${ids['ppo-1']}`);
      assert.equal(risk.status, 200);
      const returns = closes.map((c) => c.ret);
      const n = returns.length;
      const mean = returns.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(returns.reduce((a, r) => a + (r - mean) ** 2, 0) / (n - 1));
      const sessionsPerYear = failing.input.metrics.barsPerYear / 60;
      near(risk.body['periods'], n, 'periods');
      near(risk.body['volatility'], sd, 'volatility');
      near(risk.body['annualizedVolatility'], sd * Math.sqrt(sessionsPerYear), 'annualized volatility');
      assert.equal(risk.body['maxDrawdown'], failing.input.metrics.maxDrawdown);
      const sortedPnl = closes.map((c) => c.pnl).sort((a, b) => a - b);
      const k = Math.ceil(n / 20);
      near((risk.body['pnl'] as Json)['var95'], -sortedPnl[k - 1]!, 'VaR 95');
      near((risk.body['pnl'] as Json)['cvar95'], -sortedPnl.slice(0, k).reduce((a, b) => a + b, 0) / k, 'CVaR 95');
      near((risk.body['worstPeriod'] as Json)['pnl'], sortedPnl[0]!, 'worst session');
    });

    it('trade-distribution counts every stored trade', async () => {
      const res = await get(`/api/analytics/trade-distribution?backtest=${ids['ppo-1']}&bins=7`);
      assert.equal(res.status, 200);
      const trades = failing.result.trades;
      assert.equal(res.body['tradesTotal'], trades.length);
      assert.equal(res.body['tradesAnalyzed'], trades.length);
      const bins = res.body['returnHistogram'] as Json[];
      assert.equal(bins.length, 7);
      assert.equal(bins.reduce((a, b) => a + (b['count'] as number), 0), trades.length);
      near(bins[0]!['from'], Math.min(...trades.map((t) => t.return)), 'histogram starts at the worst trade');
      const holding = res.body['holding'] as Json[];
      assert.equal(holding.reduce((a, b) => a + (b['count'] as number), 0), trades.length);
      assert.equal(holding[0]!['count'], trades.filter((t) => t.barsHeld <= 1).length);
      const outcomes = res.body['outcomes'] as Json;
      assert.equal(outcomes['wins'], trades.filter((t) => t.pnl > 0).length);
      assert.equal(outcomes['losses'], trades.filter((t) => t.pnl < 0).length);
      assert.equal(outcomes['long'], trades.filter((t) => t.side === 1).length);
      near(outcomes['totalPnl'], trades.reduce((a, t) => a + t.pnl, 0), 'total pnl');
      assert.equal((await get(`/api/analytics/trade-distribution?backtest=${ids['ppo-1']}&bins=0`)).status, 400);
    });

    it('promotion needs an admin and a passing gated backtest (or force), and is audited', async () => {
      assert.equal((await promote('ppo-2', undefined)).status, 401);
      assert.equal((await promote('ppo-2', reader)).status, 403);
      assert.equal((await promote('nope', admin)).status, 404);
      const refused = await promote('ppo-1', admin);
      assert.equal(refused.status, 409);
      assert.match(message(refused.body), /failed the production gates/);

      const forced = await promote('ppo-1', admin, '?force=true');
      assert.equal(forced.status, 200);
      assert.equal((forced.body['model'] as Json)['status'], 'production');
      const promoted = await promote('ppo-2', admin);
      assert.equal(promoted.status, 200);
      assert.equal(promoted.body['previousId'], 'ppo-1');
      assert.equal(promoted.body['changed'], true);
      assert.equal((await promote('ppo-2', admin)).body['changed'], false);

      const audit = await listAudit(db, { actionPrefix: 'model.promote', limit: 10 });
      assert.deepEqual(
        audit.map((a) => `${a.action} ${a.entity}`),
        ['model.promote model:ppo-1', 'model.promote.force model:ppo-1', 'model.promote model:ppo-2'],
      );
      const noBacktest = await promote('sma-crossover', admin);
      assert.equal(noBacktest.status, 409);
      assert.match(message(noBacktest.body), /has no backtest/);

      // The production model now drives the defaults.
      assert.equal(((await get('/api/analytics/rl-metrics')).body['model'] as Json)['status'], 'production');
      assert.equal(((await get('/api/analytics/session-pnl')).body['backtest'] as Json)['id'], ids['ppo-2']);
    });

    it('serves the latest predictions', async () => {
      const bar = Date.UTC(2025, 0, 6, 14);
      await insertPrediction(db, { symbol: 'USD/COP', barTime: bar, modelId: 'ppo-2', position: 1, probabilities: [0.1, 0.2, 0.7], latencyMs: 4, createdAt: bar + BAR_MS });
      await insertPrediction(db, { symbol: 'USD/COP', barTime: bar + BAR_MS, modelId: 'ppo-2', position: -1, probabilities: [0.6, 0.3, 0.1], latencyMs: 5, createdAt: bar + 2 * BAR_MS });
      const res = await get('/api/predictions/latest?symbol=USDCOP');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        symbol: 'USD/COP',
        items: [
          {
            symbol: 'USD/COP',
            barTime: new Date(bar + BAR_MS).toISOString(),
            modelId: 'ppo-2',
            position: -1,
            probabilities: { short: 0.6, flat: 0.3, long: 0.1 },
            latencyMs: 5,
            createdAt: new Date(bar + 2 * BAR_MS).toISOString(),
          },
        ],
      });
      assert.equal(((await get('/api/predictions/latest?limit=5')).body['items'] as Json[]).length, 2);
      assert.equal((await get('/api/predictions/latest?symbol=EURUSD')).status, 404);
    });

    it("shows each model's test metrics (newest pipeline backtest) and its newest backtest's gate result", async () => {
      const modelsById = async () => new Map(((await get('/api/models')).body['items'] as Json[]).map((m) => [m['id'], m]));
      const failedGates = failing.input.gates!.gates.filter((g) => !g.passed).map((g) => g.gate);
      const listedFirst = await modelsById();
      assert.deepEqual(listedFirst.get('ppo-1')?.['gateResult'], { backtestId: ids['ppo-1'], passed: false, failedGates, verdict: failing.input.gates!.verdict });
      assert.deepEqual(listedFirst.get('ppo-2')?.['gateResult'], { backtestId: ids['ppo-2'], passed: true, failedGates: [], verdict: passing.input.gates!.verdict });
      assert.equal(listedFirst.get('ppo-1')?.['test'], null, 'an ad-hoc backtest is not the test split');
      assert.deepEqual(listedFirst.get('sma-crossover')?.['gateResult'], null, 'no backtest');

      // ppo-3: an L6 (test-split) run, then a newer ad-hoc run that passes lenient gates.
      await insertModel(db, model('ppo-3', T0 - 1000));
      const runId = await startRun(db, { layer: 'L6', symbol: 'USD/COP', params: {} });
      const test = backtestFixture({ policyId: 'ppo-3', seed: 3 });
      const testId = await insertBacktest(db, { ...test.input, pipelineRunId: runId });
      const adHoc = backtestFixture({ policyId: 'ppo-3', seed: 4, thresholds: LENIENT });
      const adHocId = await insertBacktest(db, adHoc.input);
      const m = test.input.metrics;
      const expected = {
        test: { backtestId: testId, fromDate: test.input.fromDate, toDate: test.input.toDate, totalReturn: m.totalReturn, sharpe: m.sharpe, tradeCount: m.tradeCount },
        gateResult: { backtestId: adHocId, passed: true, failedGates: [], verdict: adHoc.input.gates!.verdict },
      };
      const listed = (await modelsById()).get('ppo-3');
      assert.deepEqual({ test: listed?.['test'], gateResult: listed?.['gateResult'] }, expected);
      const one = (await get('/api/models/ppo-3')).body;
      assert.deepEqual({ test: one['test'], gateResult: one['gateResult'] }, expected);
    });

    it('documents every route in OpenAPI under the research tag', async () => {
      const spec = (await get('/openapi.json')).body;
      const paths = spec['paths'] as Record<string, Record<string, Json>>;
      for (const path of [
        ...ANALYTICS.map((a) => `/api/analytics/${a}`),
        '/api/backtests',
        '/api/backtests/{id}',
        '/api/backtests/{id}/report',
        '/api/models',
        '/api/models/{id}',
        '/api/predictions/latest',
      ]) {
        assert.deepEqual(paths[path]?.['get']?.['tags'], ['research'], path);
      }
      const promoteOp = paths['/api/models/{id}/promote']?.['post'];
      assert.ok(promoteOp);
      assert.ok(Object.keys(promoteOp['responses'] as Json).includes('403'));
    });
  });
}
