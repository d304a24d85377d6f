/**
 * The research pipeline end to end on a synthetic history (~40 sessions): L0-L6 through the layer
 * runner with a real database and a local archive, reruns, config changes, the registry, stored
 * backtests, the jobs' handler and live predictions on a memory bus.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createMemoryBus, type Bus, type BusEvent } from '../../src/bus/index.ts';
import { ManualClock } from '../../src/clock.ts';
import { BAR_MS } from '../../src/domain/bar.ts';
import { bogotaDate } from '../../src/domain/time.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { shippedInstrument } from '../../src/domain/symbol.ts';
import { TasaError } from '../../src/errors.ts';
import { startJobs } from '../../src/jobs/boss.ts';
import { pipelineJobHandler, runScheduled, schedulePipelineJobs, PIPELINE_SCHEDULES } from '../../src/jobs/pipeline-jobs.ts';
import { createLogger } from '../../src/log.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { backtestOverRange } from '../../src/pipeline/ad-hoc-backtest.ts';
import type { ArchiveStore } from '../../src/pipeline/archive/archive-store.ts';
import { openLocalArchive } from '../../src/pipeline/archive/local-archive.ts';
import { loadLayerTables } from '../../src/pipeline/layer-runner.ts';
import { barsFromTables } from '../../src/pipeline/layers/l1-standardized.ts';
import { bogotaDates, monthlyPartitions, sessionMonthStarts } from '../../src/pipeline/layers/monthly.ts';
import { tablesByMonth } from '../../src/pipeline/layout.ts';
import { doubleColumn, timestampColumn } from '../../src/pipeline/archive/parquet-table.ts';
import { loadManifest, verifyManifest } from '../../src/pipeline/manifest.ts';
import { parseLayerList, runPipeline, type PipelineConfig, type PipelineResult, type RunPipelineOptions } from '../../src/pipeline/run-pipeline.ts';
import { startLivePredictor } from '../../src/research/live-predictor.ts';
import type { PredictionMessage } from '../../src/contracts/bus-messages.ts';
import { modelInputs, normalizedRows, windowObserver } from '../../src/research/model-observer.ts';
import { loadPpoPolicy } from '../../src/research/ppo/ppo-policy.ts';
import { computeFeatures } from '../../src/research/features.ts';
import { computeIndicators } from '../../src/research/indicators.ts';
import { buildRlDataset, observationAt } from '../../src/research/rl-dataset.ts';
import { toSeries } from '../../src/research/series.ts';
import { listBacktests } from '../../src/store/backtests-repo.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { getModel, listModels, promoteModel } from '../../src/store/models-repo.ts';
import { listRuns } from '../../src/store/pipeline-runs-repo.ts';
import { latestPredictions } from '../../src/store/predictions-repo.ts';
import { insertRawBars } from '../../src/store/raw-bars-repo.ts';
import { syntheticSeries, toBars } from '../research/synthetic-series.ts';
import { databaseTargets, openScratchPostgres } from '../support/test-db.ts';

const SYMBOL = 'USD/COP';
const CODE = { version: '0.1.0', commit: 'feedface00000000000000000000000000000000' };
const START = Date.UTC(2024, 5, 1, 12, 0);
/** A tiny training: two rollouts of 128 steps, one epoch, a one-layer network. */
const TINY_PPO = { steps: 256, rolloutLength: 128, epochs: 1, minibatchSize: 64, hidden: [8], seed: 3 };
const CONFIG: PipelineConfig = { ppo: TINY_PPO };
const ALL = parseLayerList('L0-L6');

const isCode = (code: TasaError['code']) => (err: unknown) => err instanceof TasaError && err.code === code;

function hashes(result: PipelineResult): Record<string, string> {
  return Object.fromEntries(result.layers.map((l) => [l.layer, l.datasetHash]));
}

function statuses(result: PipelineResult): Record<string, string> {
  return Object.fromEntries(result.layers.map((l) => [l.layer, l.status]));
}

async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const target of databaseTargets()) {
  describe(`research pipeline (${target.name})`, () => {
    let db: Db;
    let dir: string;
    let archive: ArchiveStore;
    const clock = new ManualClock(START);
    const calendar = new MarketCalendar();
    const series = syntheticSeries(2400, { seed: 3 });
    const run = (over: Partial<RunPipelineOptions> = {}) =>
      runPipeline({ db, archive, clock, calendar, codeVersion: CODE, symbol: SYMBOL, layers: ALL, config: CONFIG, ...over });
    let first: PipelineResult;

    before(async () => {
      db = await target.open();
      dir = await mkdtemp(join(tmpdir(), 'tasa-pipeline-'));
      archive = openLocalArchive(dir);
      await upsertBars(db, toBars(series));
      const rows = series.map((b, i) => ({
        lineNo: i + 2,
        raw: `${new Date(b.time).toISOString()},${b.open},${b.high},${b.low},${b.close}`,
        parsed: { lineNo: i + 2, time: b.time, open: b.open, high: b.high, low: b.low, close: b.close, volume: null, sourceLabel: null },
        sourceLabel: null,
      }));
      await insertRawBars(db, SYMBOL, { name: 'synthetic.csv', sha256: 'a'.repeat(64) }, rows);
    });

    after(async () => {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    });

    test('L0-L6 complete: every manifest verifies, the model is registered and the backtests stored', async () => {
      const phases: string[] = [];
      first = await run({ onProgress: (p) => phases.push(`${p.layer}:${p.phase}`) });
      assert.deepEqual(first.layers.map((l) => l.layer), ALL);
      assert.ok(first.layers.every((l) => l.status === 'completed'), JSON.stringify(statuses(first)));
      assert.ok(phases.includes('L5:training') && phases.includes('L6:completed'));
      for (const l of first.layers) {
        const manifest = await loadManifest(archive, l.manifestKey);
        assert.equal(manifest.datasetHash, l.datasetHash);
        assert.deepEqual(await verifyManifest(archive, manifest), [], `${l.layer} manifest`);
        const [row] = await listRuns(db, { layer: l.layer, symbol: SYMBOL, limit: 1 });
        assert.equal(row?.status, 'completed');
        assert.equal(row?.datasetHash, l.datasetHash);
      }
    });

    test('each layer names the one below as its parent, and L1 holds exactly the stored bars', async () => {
      for (let i = 1; i < first.layers.length; i++) {
        const l = first.layers[i]!;
        const manifest = await loadManifest(archive, l.manifestKey);
        const below = first.layers[i - 1]!;
        const parentLayer = l.layer === 'L6' ? 'L4' : below.layer;
        const parentOutcome = first.layers.find((o) => o.layer === parentLayer)!;
        assert.ok(manifest.parentRuns.some((p) => p.layer === parentLayer && p.datasetHash === parentOutcome.datasetHash), `${l.layer} -> ${parentLayer}`);
      }
      const l1 = first.layers.find((l) => l.layer === 'L1')!;
      const bars = barsFromTables(SYMBOL, await loadLayerTables(archive, await loadManifest(archive, l1.manifestKey)));
      assert.equal(bars.length, series.length);
      assert.deepEqual(bars.map((b) => [b.time, b.open, b.high, b.low, b.close]), series.map((b) => [b.time, b.open, b.high, b.low, b.close]));
    });

    test('L5 registers a candidate trained on the L4 dataset; L6 stores one backtest per policy', async () => {
      const l4 = first.layers.find((l) => l.layer === 'L4')!;
      const l6 = first.layers.find((l) => l.layer === 'L6')!;
      assert.ok(first.modelId?.startsWith('ppo-usdcop-'));
      const model = await getModel(db, first.modelId!);
      assert.equal(model?.status, 'candidate');
      assert.equal(model?.datasetHash, l4.summary['rlDatasetHash']);
      assert.ok((model?.trainingCurve.length ?? 0) === 2 && (model?.weights?.length ?? 0) > 0);
      const stored = await listBacktests(db, { symbol: SYMBOL });
      assert.equal(stored.length, 6, 'the model and five baselines');
      assert.deepEqual(new Set(stored.map((b) => b.policyId)), new Set([first.modelId!, 'flat', 'buy-and-hold', 'always-long', 'sma-crossover', 'rsi-mean-reversion']));
      assert.ok(stored.every((b) => b.pipelineRunId === l6.runId && b.datasetHash === l4.summary['rlDatasetHash'] && b.hasReport && b.gates !== null));
      const split = (l4.summary['splits'] as Record<string, { from: string; to: string }>)['test']!;
      assert.ok(stored.every((b) => b.fromDate === split.from && b.toDate === split.to), 'backtests cover the test split');
      const flat = stored.find((b) => b.policyId === 'flat')!;
      assert.equal(flat.metrics.totalReturn, 0);
      assert.equal(flat.passed, false, 'no trades cannot pass the gates');
      const tested = stored.find((b) => b.policyId === first.modelId)!;
      assert.equal(tested.gates?.significance?.trials, 6, 'the deflated Sharpe ratio counts every policy evaluated');
      assert.match(tested.gates?.verdict ?? '', /edge/);
      const buyAndHold = stored.find((b) => b.policyId === 'buy-and-hold')!;
      assert.deepEqual([buyAndHold.metrics.tradeCount, buyAndHold.config['flatAtSessionEnd']], [1, false], 'one entry and one exit, held over nights');
      assert.deepEqual(tested.metrics.costSensitivity?.map((c) => c.factor), [0.5, 1, 2]);
    });

    test('a second run skips every layer and reproduces every dataset hash', async () => {
      const before = (await listBacktests(db, {})).length;
      const second = await run();
      assert.ok(second.layers.every((l) => l.status === 'skipped'), JSON.stringify(statuses(second)));
      assert.deepEqual(hashes(second), hashes(first));
      assert.equal(second.modelId, first.modelId);
      assert.deepEqual(second.backtestIds, []);
      assert.equal((await listBacktests(db, {})).length, before);
    });

    test('a forced rerun of L1-L5 recomputes and still reproduces the hashes (and the same model)', async () => {
      const forced = await run({ layers: parseLayerList('L1-L5'), force: true });
      assert.ok(forced.layers.every((l) => l.status === 'completed'));
      const expected = hashes(first);
      for (const l of forced.layers) assert.equal(l.datasetHash, expected[l.layer], l.layer);
      assert.equal(forced.modelId, first.modelId);
      assert.equal((await listModels(db, { symbol: SYMBOL })).length, 1);
    });

    test('L6 alone builds on the newest L4 run and backtests the production model', async () => {
      await promoteModel(db, first.modelId!, clock.now());
      const result = await run({ layers: ['L6'], config: { ...CONFIG, backtest: { baselines: ['flat'] } } });
      assert.deepEqual(statuses(result), { L6: 'completed' });
      const policies = (result.layers[0]!.summary['policies'] as Array<{ id: string }>).map((p) => p.id);
      assert.deepEqual(policies, [first.modelId, 'flat']);
      assert.equal(result.backtestIds.length, 2);
    });

    test('the backtest observer rebuilds exactly the dataset windows the model was trained on', async () => {
      const model = await getModel(db, first.modelId!);
      const policy = loadPpoPolicy(model!.id, model!.weights!);
      const inputs = modelInputs(model!.id, policy.model.observation, policy.metadata);
      const s = toSeries(toBars(series), calendar);
      const table = computeFeatures(s, computeIndicators(s), inputs.featureOptions);
      const dataset = buildRlDataset(SYMBOL, s, table);
      assert.equal(dataset.hash, model!.datasetHash);
      const episode = dataset.episodes.find((e) => e.split === 'test')!;
      const start = s.findIndex((b) => b.time === episode.times[0]);
      const n = episode.times.length;
      const observe = windowObserver(s.slice(start, start + n).map((b) => b.session), normalizedRows(table, start, start + n, inputs.normalization), table.names.length, inputs.window);
      for (let i = 0; i < n; i++) assert.deepEqual(observe(i), observationAt(dataset, episode, i, 0), `bar ${i}`);
    });

    test('live: a final bar in session gets the production model\'s decision, stored and published', async () => {
      const bus: Bus = createMemoryBus({ clock });
      const metrics = createMetrics({ defaultMetrics: false });
      const logger = createLogger('silent');
      const predictor = await startLivePredictor({ db, bus, clock, calendar, logger, metrics, symbols: [SYMBOL] });
      const published: BusEvent[] = [];
      const unsubscribe = await bus.subscribe(SYMBOL, (e) => published.push(e), { channels: ['predictions'] });
      try {
        assert.deepEqual(predictor.models(), { [SYMBOL]: first.modelId });
        const last = series[series.length - 1]!;
        let t = last.time + BAR_MS;
        if (calendar.sessionAt(t) === null) t = calendar.nextSession(t).open;
        const price = last.close;
        const barEvent = (time: number, final: boolean) => ({ time: new Date(time).toISOString(), open: price, high: price + 1, low: price - 1, close: price + 0.5, tickCount: 3, revision: 1, final, source: 'simulator' });
        await bus.publish('bars', SYMBOL, barEvent(t, false));
        await bus.publish('bars', SYMBOL, barEvent(t, true));
        await bus.publish('bars', SYMBOL, { time: new Date(t + BAR_MS).toISOString(), empty: true, final: true });
        await bus.publish('bars', SYMBOL, barEvent(t + 2 * BAR_MS, true));
        await waitFor('two predictions', () => (published.length >= 2 ? true : undefined));
        const stored = await latestPredictions(db, SYMBOL, 10);
        assert.deepEqual(stored.map((p) => p.barTime), [t + 2 * BAR_MS, t], 'one per final non-empty bar');
        for (const p of stored) {
          assert.equal(p.modelId, first.modelId);
          assert.ok([-1, 0, 1].includes(p.position));
          assert.ok(Math.abs(p.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5);
          assert.ok(p.latencyMs >= 0);
        }
        const message = published[0]!.data as PredictionMessage;
        assert.equal(message.modelId, first.modelId);
        assert.equal(message.barTime, new Date(t).toISOString());
        const histogram = await metrics.predictionLatency.get();
        assert.equal(histogram.values.find((v) => v.metricName === 'tasa_prediction_latency_seconds_count')?.value, 2);
      } finally {
        await unsubscribe();
        await predictor.stop();
        await bus.close();
      }
    });

    test('changed feature options change L3 onwards; L1 and L2 are reused; L6 leaves out the model that no longer fits', async () => {
      const changed = await run({ layers: parseLayerList('L1-L4,L6'), config: { ...CONFIG, features: { returnHorizons: [1, 3] } } });
      assert.deepEqual(statuses(changed), { L1: 'skipped', L2: 'skipped', L3: 'completed', L4: 'completed', L6: 'completed' });
      const h = hashes(changed);
      const before = hashes(first);
      assert.equal(h['L1'], before['L1']);
      assert.equal(h['L2'], before['L2']);
      for (const layer of ['L3', 'L4', 'L6']) assert.notEqual(h[layer], before[layer], layer);
      const l6 = changed.layers.find((l) => l.layer === 'L6')!;
      const skipped = l6.summary['skippedPolicies'] as Array<{ id: string; reason: string }>;
      assert.deepEqual(skipped.map((s) => s.id), [first.modelId]);
      assert.match(skipped[0]!.reason, /features/);
    });

    test('a changed range changes L1 and every layer built on it', async () => {
      const l1Before = first.layers.find((l) => l.layer === 'L1')!;
      const from = series[200]!.session;
      const changed = await run({ layers: parseLayerList('L1-L2'), from, to: series[series.length - 1]!.session });
      assert.deepEqual(statuses(changed), { L1: 'completed', L2: 'completed' });
      assert.notEqual(changed.layers[0]!.datasetHash, l1Before.datasetHash);
      assert.notEqual(changed.layers[1]!.datasetHash, hashes(first)['L2']);
      assert.equal(changed.range?.from, from);
    });

    test('the pipeline job handler runs the layers of the job data; schedules skip days without a session', async () => {
      const handler = pipelineJobHandler({ db, archive, clock, calendar, codeVersion: CODE, logger: createLogger('silent'), symbols: [SYMBOL], config: CONFIG });
      const output = (await handler({ queue: 'pipeline', jobId: 'j1', firedAt: clock.now(), data: { layers: ['L2'], symbols: ['USDCOP'], from: null, to: null, requestedBy: 'test' } })) as Record<string, Array<{ layer: string; status: string }>>;
      assert.deepEqual(output[SYMBOL]!.map((l) => [l.layer, l.status]), [['L2', 'skipped']]);
      await assert.rejects(handler({ queue: 'pipeline', jobId: 'j2', firedAt: clock.now(), data: { layers: ['L9'], symbols: [SYMBOL], from: null, to: null, requestedBy: 'test' } }), isCode('bad_input'));
      const sunday = new ManualClock(Date.UTC(2024, 5, 2, 18, 30));
      const skipped = await runScheduled(PIPELINE_SCHEDULES[0]!, { db, archive, clock: sunday, calendar, codeVersion: CODE, logger: createLogger('silent'), symbols: [SYMBOL] });
      assert.deepEqual(skipped, { skipped: 'non_trading_day', date: '2024-06-02' });
    });

    test('pg-boss: the two pipeline schedules are registered in Bogota time and a fired one runs its layers', async () => {
      const tuesday = new ManualClock(Date.UTC(2024, 5, 4, 18, 30));
      const logger = createLogger('silent');
      // On PostgreSQL pg-boss needs a connection string (its own pool): its queues go to a scratch
      // database, the handler works on the test database.
      const url = process.env['TEST_DATABASE_URL'];
      const queueStore = target.name === 'postgres' && url ? await openScratchPostgres(url) : null;
      const jobs = await startJobs({
        db: queueStore?.db ?? db,
        ...(queueStore ? { databaseUrl: queueStore.url } : {}),
        clock: tuesday,
        calendar,
        logger,
        handlers: { failsafe: () => Promise.resolve(null), sync: () => Promise.resolve(null) },
        pollingIntervalSeconds: 0.5,
      });
      try {
        const deps = { db, archive, clock: tuesday, calendar, codeVersion: CODE, logger, symbols: [SYMBOL], config: CONFIG };
        await schedulePipelineJobs(jobs.boss, deps, { pollingIntervalSeconds: 0.5 });
        const schedules = (await jobs.boss.getSchedules()) as unknown as Array<{ name: string; cron: string; timezone: string }>;
        for (const s of PIPELINE_SCHEDULES) assert.ok(schedules.some((x) => x.name === s.queue && x.cron === s.cron && x.timezone === 'America/Bogota'), s.queue);
        const id = await jobs.send('pipeline-incremental');
        assert.ok(id);
        const job = await waitFor('the incremental job', async () => {
          const j = await jobs.boss.getJobById('pipeline-incremental', id);
          return j?.state === 'completed' || j?.state === 'failed' ? j : undefined;
        }, 30_000);
        assert.equal(job.state, 'completed', JSON.stringify(job.output));
        const output = job.output as Record<string, Array<{ layer: string }>>;
        assert.deepEqual(output[SYMBOL]!.map((l) => l.layer), ['L1', 'L2']);
      } finally {
        await jobs.stop();
        await queueStore?.db.close();
      }
    });

    test('tasa backtest: a baseline over a range of sessions, stored with its report', async () => {
      const from = series[600]!.session;
      const to = series[1200]!.session;
      const adHoc = await backtestOverRange({ db, calendar, clock, symbol: SYMBOL, policyId: 'sma-crossover', from, to });
      assert.equal(adHoc.evaluation.from, from);
      assert.equal(adHoc.evaluation.to, to);
      assert.ok(adHoc.evaluation.metrics.tradeCount > 0);
      assert.match(adHoc.evaluation.reportHtml, /sma-crossover/);
      const [stored] = await listBacktests(db, { policyId: 'sma-crossover', limit: 1 });
      assert.equal(stored?.id, adHoc.backtestId);
      assert.equal(stored?.pipelineRunId, null);
      await assert.rejects(backtestOverRange({ db, calendar, clock, symbol: SYMBOL, policyId: 'no-such-model', from, to }), isCode('not_found'));
    });
  });
}

describe('pipeline layer selection', () => {
  test('parseLayerList reads ranges and lists, in layer order, each once', () => {
    assert.deepEqual(parseLayerList('L2-L6'), ['L2', 'L3', 'L4', 'L5', 'L6']);
    assert.deepEqual(parseLayerList('l6,L2-L4,L3'), ['L2', 'L3', 'L4', 'L6']);
    assert.throws(() => parseLayerList('L7'), isCode('bad_argument'));
    assert.throws(() => parseLayerList('L4-L2'), isCode('bad_argument'));
  });

  test('a gap among the data layers, or --from without L0/L1, is refused before anything runs', async () => {
    const unused = {} as Db;
    const base = { db: unused, archive: {} as ArchiveStore, clock: new ManualClock(START), calendar: new MarketCalendar(), codeVersion: CODE, symbol: SYMBOL };
    await assert.rejects(runPipeline({ ...base, layers: ['L1', 'L3'] }), isCode('bad_argument'));
    await assert.rejects(runPipeline({ ...base, layers: [] }), isCode('bad_argument'));
    await assert.rejects(runPipeline({ ...base, layers: ['L3'], from: '2024-01-02' }), isCode('bad_argument'));
    await assert.rejects(runPipeline({ ...base, layers: ['L5'], config: { ppo: { steps: 0 } } }), isCode('bad_argument'));
    await assert.rejects(runPipeline({ ...base, layers: ['L3'], config: { features: { rollingWindows: [0] } } }), isCode('bad_argument'));
    await assert.rejects(runPipeline({ ...base, layers: ['L4'], config: { dataset: { window: 0 } } }), isCode('bad_argument'));
  });
});

describe('monthly partitions of rows in time order', () => {
  test('give the same files and Bogota dates as the layout, month and day edges included', () => {
    const edges = ['2024-01-31T04:59:59.999Z', '2024-01-31T05:00:00Z', '2024-02-01T04:59:00Z', '2024-02-01T05:00:00Z', '2024-12-31T23:00:00Z', '2025-01-01T05:00:00Z'].map(Date.parse);
    const times = [...syntheticSeries(3000, { seed: 9, from: Date.parse('2024-01-25T00:00:00Z') }).map((b) => b.time), ...edges].sort((a, b) => a - b);
    const columns = [timestampColumn('time', times), doubleColumn('x', times.map((t) => t / 1000))];
    const calendar = new MarketCalendar();
    const fast = monthlyPartitions('L2', SYMBOL, columns, times, calendar);
    const reference = tablesByMonth('L2', SYMBOL, columns, times.map((t) => bogotaDate(t).slice(0, 7)));
    assert.deepEqual(fast.map((t) => t.key), reference.map((t) => t.key));
    assert.deepEqual(fast.map((t) => t.columns[0]!.values), reference.map((t) => t.columns[0]!.values));
    assert.deepEqual(bogotaDates(times), times.map((t) => bogotaDate(t)));
    assert.throws(() => monthlyPartitions('L2', SYMBOL, columns, [...times].reverse(), calendar), isCode('bad_input'));
  });

  test("go by the session date in the symbol's market: an EUR/USD bar after 17:00 New York on 31 March is April's", () => {
    const eurUsd = new MarketCalendar({}, shippedInstrument('EUR/USD'));
    // 16:55 New York (EDT) on 03-31: the session dated 03-31; 18:30 and the next morning: the session dated 04-01.
    const times = ['2026-03-31T20:55:00Z', '2026-03-31T22:30:00Z', '2026-04-01T10:00:00Z'].map(Date.parse);
    const columns = [timestampColumn('time', times)];
    const parts = monthlyPartitions('L1', 'EUR/USD', columns, times, eurUsd);
    assert.deepEqual(
      parts.map((p) => [p.key, p.columns[0]!.values]),
      [
        ['L1/EURUSD/2026/2026-03.parquet', [times[0]]],
        ['L1/EURUSD/2026/2026-04.parquet', [times[1], times[2]]],
      ],
    );
    // In Bogota, 22:30Z on 03-31 is 17:30 the same day: the old key put it in March.
    assert.equal(bogotaDate(times[1]!), '2026-03-31');
    // A year end on a closed day (New Year's Day): 31 December's evening stays in December.
    const yearEnd = ['2025-12-31T21:55:00Z', '2025-12-31T23:00:00Z', '2026-01-01T05:00:00Z', '2026-01-01T22:00:00Z'].map(Date.parse);
    assert.deepEqual(
      monthlyPartitions('L1', 'EUR/USD', [timestampColumn('time', yearEnd)], yearEnd, eurUsd).map((p) => [p.key, p.columns[0]!.values.length]),
      [
        ['L1/EURUSD/2025/2025-12.parquet', 2],
        ['L1/EURUSD/2026/2026-01.parquet', 2],
      ],
    );
    assert.throws(() => monthlyPartitions('L1', 'EUR/USD', columns, times, new MarketCalendar()), isCode('bad_argument'), "USD/COP's calendar refuses to place EUR/USD rows");
    // The month bounds L0 groups its inventory by: April's begins at the open of the session dated 04-01.
    assert.deepEqual(
      sessionMonthStarts(eurUsd, Date.parse('2026-03-15T00:00:00Z'), Date.parse('2026-05-01T00:00:00Z')).map((m) => [m.month, new Date(m.from).toISOString()]),
      [
        ['2026-03', '2026-03-01T05:00:00.000Z'],
        ['2026-04', '2026-03-31T21:00:00.000Z'],
        // The session dated 05-01 opens before the range ends (17:00 New York on 04-30).
        ['2026-05', '2026-04-30T21:00:00.000Z'],
      ],
    );
  });
});
