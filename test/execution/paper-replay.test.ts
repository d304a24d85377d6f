import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { SeededRandom } from '../../src/domain/random.ts';
import { compareTrades, type ParityTrade } from '../../src/execution/parity.ts';
import { runPaperReplay } from '../../src/execution/paper-replay.ts';
import { createLogger } from '../../src/log.ts';
import { computeFeatures } from '../../src/research/features.ts';
import { computeIndicators } from '../../src/research/indicators.ts';
import { initialModel } from '../../src/research/ppo/actor-critic.ts';
import { serializeModel } from '../../src/research/ppo/ppo-policy.ts';
import { toSeries } from '../../src/research/series.ts';
import type { SeriesBar } from '../../src/research/types.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { insertModel } from '../../src/store/models-repo.ts';
import { databaseTargets } from '../support/test-db.ts';
import { syntheticSeries, toBars } from '../research/synthetic-series.ts';

/** Quotes have two decimals; rounding every price keeps each bar's OHLC order. */
const cents = (x: number) => Math.round(x * 100) / 100;
const roundPrices = (b: SeriesBar): SeriesBar => ({ ...b, open: cents(b.open), high: cents(b.high), low: cents(b.low), close: cents(b.close) });

/** About eight sessions of seeded bars (gaps, short and one-bar sessions included); the first is warm-up. */
const SERIES = syntheticSeries(450, { seed: 11, shortSessionRate: 0.2, gapRate: 0.05 }).map(roundPrices);
const SESSIONS = [...new Set(SERIES.map((b) => b.session))];

/**
 * An untrained PPO model over the default features (normalized with the fixture's own means and
 * stds): its decisions depend on every feature of its window, which is what parity must reproduce.
 */
function untrainedModelWeights(): Uint8Array {
  const series = toSeries(toBars(SERIES), new MarketCalendar());
  const table = computeFeatures(series, computeIndicators(series));
  const finite = table.columns.map((c) => [...c].filter(Number.isFinite));
  const means = finite.map((v) => v.reduce((a, x) => a + x, 0) / Math.max(v.length, 1));
  const stds = finite.map((v, j) => Math.sqrt(v.reduce((a, x) => a + (x - means[j]!) ** 2, 0) / Math.max(v.length, 1)) || 1);
  const model = initialModel({ featureNames: table.names, window: 6 }, [16], new SeededRandom(5));
  return serializeModel(model, { normalization: { means, stds, clip: 5 }, costs: { spreadBps: 1, feeBps: 0.5 } });
}

for (const target of databaseTargets()) {
  describe(`paper replay on ${target.name}`, () => {
    let db: Db;
    beforeEach(async () => {
      db = await target.open();
      await upsertBars(db, toBars(SERIES));
    });
    afterEach(async () => {
      await db.close();
    });

    for (const policyId of ['sma-crossover', 'rsi-mean-reversion']) {
      it(`trades ${policyId} through the strategy runner and order service exactly as the L6 backtest does`, async () => {
        const result = await runPaperReplay({ db, calendar: new MarketCalendar(), logger: createLogger('silent'), symbol: 'USD/COP', policyId, from: SESSIONS[1]!, to: SESSIONS.at(-1)! });
        assert.ok(result.expected.length >= 5, `${result.expected.length} backtest trades`);
        assert.deepEqual(result.report, { total: result.expected.length, matched: result.expected.length, firstDifference: null });
        assert.deepEqual(result.actual, result.expected);
        const actors = new Set((await listAudit(db, { limit: 1000 })).filter((e) => e.action === 'order.placed').map((e) => e.actor));
        assert.deepEqual([...actors], ['strategy:replay']);
      });
    }

    it('trades a PPO model (its feature windows rebuilt bar by bar) exactly as the L6 backtest does', async () => {
      const weights = untrainedModelWeights();
      await insertModel(db, { id: 'ppo-untrained', kind: 'ppo', symbol: 'USD/COP', datasetHash: null, config: {}, metrics: {}, trainingCurve: [], weights });
      const result = await runPaperReplay({ db, calendar: new MarketCalendar(), logger: createLogger('silent'), symbol: 'USD/COP', policyId: 'ppo-untrained', from: SESSIONS[1]!, to: SESSIONS.at(-1)! });
      assert.deepEqual(result.costs, { spreadBps: 1, feeBps: 0.5 });
      assert.ok(result.expected.length >= 3, `${result.expected.length} backtest trades`);
      assert.deepEqual(result.report, { total: result.expected.length, matched: result.expected.length, firstDifference: null });
    });

    it('names the first difference when a trade differs', async () => {
      const result = await runPaperReplay({ db, calendar: new MarketCalendar(), logger: createLogger('silent'), symbol: 'USD/COP', policyId: 'sma-crossover', from: SESSIONS[1]!, to: SESSIONS.at(-1)! });
      const altered: ParityTrade[] = result.actual.map((t, i) => (i === 3 ? { ...t, exitPrice: t.exitPrice + 100n } : t));
      const report = compareTrades(result.expected, altered);
      assert.equal(report.matched, result.expected.length - 1);
      assert.deepEqual([report.firstDifference?.index, report.firstDifference?.fields], [3, ['exitPrice']]);
      const shorter = compareTrades(result.expected, result.actual.slice(0, -1));
      assert.deepEqual([shorter.total, shorter.matched, shorter.firstDifference?.index, shorter.firstDifference?.actual], [result.expected.length, result.expected.length - 1, result.expected.length - 1, null]);
    });
  });
}
