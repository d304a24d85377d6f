import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { instrumentCalendar } from '../../src/domain/calendar.ts';
import { TasaError } from '../../src/errors.ts';
import { downsampleEquity, storedEquity } from '../../src/research/equity-curve.ts';
import { backtestReport, getBacktest, insertBacktest, latestBacktestsOfPolicies, listBacktests } from '../../src/store/backtests-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { startRun } from '../../src/store/pipeline-runs-repo.ts';
import { backtestFixture } from '../support/backtest-fixture.ts';
import { databaseTargets } from '../support/test-db.ts';

const T0 = Date.UTC(2025, 0, 6, 13);
const USD_COP = instrumentCalendar('USD/COP');

for (const target of databaseTargets()) {
  describe(`backtests repository on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('stores a real run and reads it back: metrics, gates, downsampled curve, capped trades, report', async () => {
      const { input, result } = backtestFixture();
      const runId = await startRun(db, { layer: 'L6', symbol: 'USD/COP', params: {} });
      assert.ok(result.trades.length > 20, `${result.trades.length} trades`);
      const id = await insertBacktest(db, { ...input, pipelineRunId: runId, equity: storedEquity(result, USD_COP, 50), maxTrades: 20, createdAt: T0 });
      const stored = await getBacktest(db, id);
      assert.ok(stored);
      assert.equal(stored.policyId, 'ppo-test');
      assert.equal(stored.fromDate, input.fromDate);
      assert.equal(stored.toDate, input.toDate);
      assert.deepEqual(stored.metrics, input.metrics);
      assert.deepEqual(stored.gates, input.gates);
      assert.equal(stored.passed, input.gates?.passed);
      assert.deepEqual(stored.config, input.config);
      assert.equal(stored.pipelineRunId, runId);
      assert.equal(stored.datasetHash, 'd'.repeat(64));
      assert.equal(stored.createdAt, T0);
      assert.equal(stored.hasReport, true);

      const expected = downsampleEquity(result.times, result.equity, USD_COP, 50, result.initialEquity);
      assert.ok(stored.equity.points.length <= 50);
      assert.deepEqual(stored.equity.points, expected.points);
      assert.deepEqual(
        { initialEquity: stored.equity.initialEquity, bars: stored.equity.bars, sessions: stored.equity.sessions, sessionsPerPoint: stored.equity.sessionsPerPoint },
        { initialEquity: 1, bars: result.equity.length, sessions: expected.sessions, sessionsPerPoint: 1 },
      );
      assert.equal(stored.trades.total, result.trades.length);
      assert.deepEqual(stored.trades.items, result.trades.slice(-20));

      const html = await backtestReport(db, id);
      assert.equal(html, input.reportHtml);
      assert.match(html ?? '', /^<!doctype html>/i);
    });

    it('lists newest first without curve or trades, filters by policy and symbol, and pages by id', async () => {
      const ids: number[] = [];
      for (const [policyId, symbol] of [
        ['flat', 'USD/COP'],
        ['ppo-a', 'USD/COP'],
        ['ppo-a', 'EUR/COP'],
        ['ppo-a', 'USD/COP'],
      ] as const) {
        const { input } = backtestFixture({ policyId, rule: 'flat', bars: 200, withReport: false });
        ids.push(await insertBacktest(db, { ...input, symbol }));
      }
      const all = await listBacktests(db, {});
      assert.deepEqual(
        all.slice(0, 4).map((b) => b.id),
        [...ids].reverse(),
      );
      assert.ok(!('equity' in all[0]!) && !('trades' in all[0]!));
      assert.equal(all[0]!.hasReport, false);

      const ppoUsd = await listBacktests(db, { policyId: 'ppo-a', symbol: 'USD/COP' });
      assert.deepEqual(
        ppoUsd.map((b) => b.id),
        [ids[3], ids[1]],
      );
      const page = await listBacktests(db, { policyId: 'ppo-a', beforeId: ids[3]!, limit: 1 });
      assert.deepEqual(
        page.map((b) => b.id),
        [ids[2]],
      );
      assert.equal(await backtestReport(db, ids[0]!), null);
    });

    it('finds the newest run of each policy over the same symbol and dates', async () => {
      const base = backtestFixture({ policyId: 'always-long', rule: 'long', bars: 200, withReport: false }).input;
      const older = await insertBacktest(db, base);
      const newer = await insertBacktest(db, base);
      await insertBacktest(db, { ...base, toDate: '2030-01-01' });
      const found = await latestBacktestsOfPolicies(db, 'USD/COP', base.fromDate, base.toDate, ['always-long', 'flat', 'nobody']);
      const byPolicy = new Map(found.map((b) => [b.policyId, b.id]));
      assert.equal(byPolicy.get('always-long'), newer);
      assert.notEqual(byPolicy.get('always-long'), older);
      assert.ok(byPolicy.has('flat'));
      assert.ok(!byPolicy.has('nobody'));
      assert.deepEqual(await latestBacktestsOfPolicies(db, 'USD/COP', base.fromDate, base.toDate, []), []);
    });

    it('answers null for an unknown id and refuses reversed dates', async () => {
      assert.equal(await getBacktest(db, 999_999), null);
      assert.equal(await backtestReport(db, 999_999), null);
      const { input } = backtestFixture({ bars: 100, withReport: false });
      await assert.rejects(insertBacktest(db, { ...input, fromDate: '2024-02-01', toDate: '2024-01-01' }), (e: unknown) => e instanceof TasaError && e.code === 'bad_argument');
    });
  });
}
