/**
 * Costs from the research config into the L4 dataset: the half-spread estimated from stored
 * quotes (checked against medians computed by hand), the fallback when quotes are too few, and
 * a changed cost changing the dataset's sha256.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { instrumentCalendar, MarketCalendar } from '../../src/domain/calendar.ts';
import type { Tick, TickSource } from '../../src/domain/tick.ts';
import { openLocalArchive } from '../../src/pipeline/archive/local-archive.ts';
import { researchSetup, mergedDatasetConfig } from '../../src/pipeline/research-setup.ts';
import { parseLayerList, runPipeline, type PipelineResult } from '../../src/pipeline/run-pipeline.ts';
import { computeFeatures } from '../../src/research/features.ts';
import { computeIndicators } from '../../src/research/indicators.ts';
import { resolveResearchConfig, type ResearchConfigOverrides } from '../../src/research/research-config.ts';
import { buildRlDataset } from '../../src/research/rl-dataset.ts';
import { chooseSpread, tradingCostsOf } from '../../src/research/spread-estimate.ts';
import { getBacktest } from '../../src/store/backtests-repo.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { insertTicks } from '../../src/store/ticks-repo.ts';
import { syntheticSeries, toBars } from '../research/synthetic-series.ts';
import { databaseTargets } from '../support/test-db.ts';

const SYMBOL = 'USD/COP';
const USD_COP = instrumentCalendar(SYMBOL);

function quote(iso: string, bid: number | null, ask: number | null, source: TickSource = 'twelvedata_ws', symbol = SYMBOL): Tick {
  const time = Date.parse(iso);
  return { symbol, time, price: 4000, bid, ask, receivedAt: time + 100, source };
}

/**
 * Half-spreads (ask - bid) / (ask + bid) x 1e4 around a mid of 4000:
 * Bogota 08:xx (13:xx UTC): 2.5, 5, 1.25 bps -> median 2.5; Bogota 09:xx: 7.5, 10 -> median 8.75;
 * all five: 1.25, 2.5, 5, 7.5, 10 -> median 5. The rest must be left out: a simulated quote, one
 * without an ask, one with ask < bid, another symbol's.
 */
const QUOTES: Tick[] = [
  quote('2024-03-05T13:01:00Z', 3999, 4001),
  quote('2024-03-05T13:20:00Z', 3998, 4002),
  quote('2024-03-06T13:59:59Z', 3999.5, 4000.5),
  quote('2024-03-05T14:10:00Z', 3997, 4003),
  quote('2024-03-06T14:30:00Z', 3996, 4004),
  quote('2024-03-05T13:30:00Z', 3900, 4100, 'simulator'),
  quote('2024-03-05T13:40:00Z', 3999, null),
  quote('2024-03-05T13:50:00Z', 4001, 3999),
  quote('2024-03-05T13:55:00Z', 3000, 5000, 'twelvedata_ws', 'EUR/USD'),
];

const costs = (overrides: ResearchConfigOverrides['costs']) => resolveResearchConfig({}, { costs: overrides }).config.costs;

for (const target of databaseTargets()) {
  describe(`research costs on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
      assert.equal(await insertTicks(db, QUOTES), QUOTES.length);
    });
    after(async () => {
      await db?.close();
    });

    it('estimates the half-spread from the stored quotes: the median over all, and per Bogota hour', async () => {
      const spread = await chooseSpread(db, SYMBOL, costs({ spreadBps: 'from-ticks', minSpreadTicks: 5 }), USD_COP);
      assert.equal(spread.source, 'ticks');
      assert.equal(spread.spreadBps, 5);
      assert.equal(spread.ticks, 5);
      assert.deepEqual(spread.byHour, [
        { hour: 8, ticks: 3, medianBps: 2.5 },
        { hour: 9, ticks: 2, medianBps: 8.75 },
      ]);
      assert.equal(spread.note, 'half-spread 5 bps (median of 5 stored quotes of USD/COP)');
    });

    it('falls back to the configured spread, and says so, when the quotes are too few', async () => {
      const spread = await chooseSpread(db, SYMBOL, costs({ spreadBps: 'from-ticks', minSpreadTicks: 6, fallbackSpreadBps: 3 }), USD_COP);
      assert.equal(spread.source, 'fallback');
      assert.equal(spread.spreadBps, 3);
      assert.match(spread.note, /^half-spread 3 bps \(configured fallback: 5 stored quotes of USD\/COP, fewer than the 6 "from-ticks" needs\)$/);
      const none = await chooseSpread(db, 'GBP/USD', costs({ spreadBps: 'from-ticks' }), USD_COP);
      assert.deepEqual([none.source, none.spreadBps, none.ticks], ['fallback', 2, 0]);
      const configured = await chooseSpread(db, SYMBOL, costs({ spreadBps: 4 }), USD_COP);
      assert.deepEqual([configured.source, configured.spreadBps], ['configured', 4]);
    });

    it('charges each Bogota hour its own median where the hour has enough quotes, the overall median elsewhere', async () => {
      const config = costs({ spreadBps: 'from-ticks', minSpreadTicks: 3, feeBps: 0.5, slippageBps: 0.25 });
      const spread = await chooseSpread(db, SYMBOL, config, USD_COP);
      const charged = tradingCostsOf(config, spread);
      const expected = Array.from({ length: 24 }, (_, hour) => (hour === 8 ? 2.5 : 5));
      assert.deepEqual(charged, { spreadBps: 5, feeBps: 0.5, slippageBps: 0.25, spreadBpsByHour: expected }, 'hour 8 has 3 quotes, hour 9 only 2');
      assert.equal(spread.note, 'half-spread 5 bps (median of 5 stored quotes of USD/COP), charged per Bogota hour where the hour has 3 quotes: 08h 2.5 bps (other hours 5 bps)');
      const configured = await chooseSpread(db, SYMBOL, costs({ spreadBps: 4 }), USD_COP);
      assert.equal(tradingCostsOf(config, configured).spreadBpsByHour, undefined, 'a configured spread stays one figure');
    });

    it("groups a market's quotes by its own hours: USD/BRL's by Sao Paulo hour (UTC-3), not Bogota's", async () => {
      // 10:10, 10:20 and 11:10 Sao Paulo (08:10, 08:20, 09:10 Bogota); half-spreads 2, 4 and 6 bps around a mid of 5.
      const brl = (iso: string, bid: number, ask: number): Tick => ({ ...quote(iso, bid, ask, 'twelvedata_ws', 'USD/BRL'), price: 5 });
      await insertTicks(db, [brl('2024-03-05T13:10:00Z', 4.999, 5.001), brl('2024-03-05T13:20:00Z', 4.998, 5.002), brl('2024-03-05T14:10:00Z', 4.997, 5.003)]);
      const config = costs({ spreadBps: 'from-ticks', minSpreadTicks: 2 });
      const spread = await chooseSpread(db, 'USD/BRL', config, instrumentCalendar('USD/BRL'));
      assert.deepEqual(spread.byHour, [
        { hour: 10, ticks: 2, medianBps: 3 },
        { hour: 11, ticks: 1, medianBps: 6 },
      ]);
      assert.equal(spread.note, 'half-spread 4 bps (median of 3 stored quotes of USD/BRL), charged per Sao Paulo hour where the hour has 2 quotes: 10h 3 bps (other hours 4 bps)');
      assert.deepEqual(tradingCostsOf(config, spread).spreadBpsByHour, Array.from({ length: 24 }, (_, hour) => (hour === 10 ? 3 : 4)));
    });

    it('puts the costs into the L4 dataset: a different cost is a different dataset sha256', async () => {
      const series = syntheticSeries(1500, { seed: 3 });
      const features = computeFeatures(series, computeIndicators(series));
      const hashOf = async (overrides: ResearchConfigOverrides) => {
        const setup = await researchSetup(db, SYMBOL, resolveResearchConfig({}, overrides));
        return buildRlDataset(SYMBOL, series, features, mergedDatasetConfig(setup, undefined));
      };
      const base = await hashOf({});
      assert.deepEqual(base.costs, { spreadBps: 2, feeBps: 0.5, slippageBps: 0 });
      const fromTicks = await hashOf({ costs: { spreadBps: 'from-ticks', minSpreadTicks: 5 } });
      assert.equal(fromTicks.costs.spreadBps, 5);
      const hashes = new Set([
        base.hash,
        fromTicks.hash,
        (await hashOf({ costs: { feeBps: 1 } })).hash,
        (await hashOf({ costs: { slippageBps: 0.25 } })).hash,
        (await hashOf({ purgeSessions: 1 })).hash,
        (await hashOf({ split: { train: 0.6, validation: 0.2, test: 0.2 } })).hash,
      ]);
      assert.equal(hashes.size, 6, 'each change of cost, purge or split gives its own dataset');
      assert.equal((await hashOf({ costs: { spreadBps: 5 } })).hash, fromTicks.hash, 'the same 5 bps, configured or estimated, is the same dataset');
      const perHour = await hashOf({ costs: { spreadBps: 'from-ticks', minSpreadTicks: 2 } });
      assert.deepEqual(perHour.costs.spreadBpsByHour?.slice(8, 10), [2.5, 8.75]);
      assert.ok(!hashes.has(perHour.hash), 'a spread per hour is another dataset');
    });

    it('the pipeline charges the estimated spread, reports where it came from, and rebuilds L4 and L6 when a cost changes', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tasa-research-costs-'));
      const series = syntheticSeries(2400, { seed: 3 });
      await upsertBars(db, toBars(series));
      const archive = openLocalArchive(dir);
      const run = (layers: string, overrides: ResearchConfigOverrides) =>
        runPipeline({
          db,
          archive,
          clock: new ManualClock(Date.UTC(2024, 5, 1)),
          calendar: new MarketCalendar(),
          codeVersion: { version: '0.1.0', commit: 'feedface00000000000000000000000000000000' },
          symbol: SYMBOL,
          layers: parseLayerList(layers),
          config: { research: resolveResearchConfig({ costs: { spreadBps: 'from-ticks', minSpreadTicks: 5 } }, overrides), backtest: { baselines: ['flat'] } },
        });
      const layer = (result: PipelineResult, id: string) => result.layers.find((l) => l.layer === id)!;
      try {
        const first = await run('L1-L4,L6', {});
        const expected = 'half-spread 5 bps (median of 5 stored quotes of USD/COP)';
        assert.deepEqual((layer(first, 'L4').summary['spread'] as { note: string }).note, expected);
        const l6Costs = layer(first, 'L6').summary['costs'] as { spreadBps: number; feeBps: number; spread: { source: string; note: string } };
        assert.deepEqual([l6Costs.spreadBps, l6Costs.feeBps, l6Costs.spread.source, l6Costs.spread.note], [5, 0.5, 'ticks', expected]);
        const stored = await getBacktest(db, first.backtestIds[0]!);
        const lineage = stored?.config['research'] as { hash: string; config: { costs: { spreadBps: unknown } } };
        assert.equal(lineage.hash, resolveResearchConfig({ costs: { spreadBps: 'from-ticks', minSpreadTicks: 5 } }).hash, 'the backtest records the research config it was judged by');
        assert.equal(lineage.config.costs.spreadBps, 'from-ticks');
        assert.equal(stored?.config['spread'], expected);
        const alone = await run('L6', {});
        assert.equal((layer(alone, 'L6').summary['costs'] as { spread: { note: string } }).spread.note, expected, 'L6 alone reads the spread of the L4 run it builds on');
        const dearer = await run('L1-L4,L6', { costs: { feeBps: 1 } });
        assert.deepEqual(
          dearer.layers.map((l) => `${l.layer}:${l.status}`),
          ['L1:skipped', 'L2:skipped', 'L3:skipped', 'L4:completed', 'L6:completed'],
        );
        assert.notEqual(layer(dearer, 'L4').summary['rlDatasetHash'], layer(first, 'L4').summary['rlDatasetHash']);
      } finally {
        await archive.close?.();
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}
