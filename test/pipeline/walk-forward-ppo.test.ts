/**
 * PPO in a walk-forward fold, on a short synthetic history with tiny training (256 steps per
 * seed, hidden [8], 2 seeds): the fold's dataset holds its train, validation and test windows
 * only (nothing after the test window, train and validation before it), and the fold's result
 * has "ppo" evaluated on the test window with the baselines, its seeds' spread, and a report
 * that shows it; `pipeline run` with L5 (training not skipped) stores such folds.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { TasaError } from '../../src/errors.ts';
import { openLocalArchive } from '../../src/pipeline/archive/local-archive.ts';
import { parseLayerList, runPipeline } from '../../src/pipeline/run-pipeline.ts';
import { evaluateFoldOf, foldDataset, type WalkForwardRunConfig } from '../../src/pipeline/walk-forward-fold.ts';
import { computeFeatures } from '../../src/research/features.ts';
import { DEFAULT_GATE_THRESHOLDS } from '../../src/research/gates.ts';
import { computeIndicators } from '../../src/research/indicators.ts';
import { resolvePpoConfig } from '../../src/research/ppo/ppo-trainer.ts';
import { resolveResearchConfig } from '../../src/research/research-config.ts';
import { buildRlDataset, sessionsOf } from '../../src/research/rl-dataset.ts';
import { sessionRanges } from '../../src/research/series.ts';
import { aggregateWalkForward, type FoldResult, type SeriesData } from '../../src/research/walk-forward-evaluation.ts';
import { renderWalkForwardMarkdown } from '../../src/research/walk-forward-report.ts';
import { planFolds } from '../../src/research/walk-forward.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import { listFolds } from '../../src/store/walk-forward-repo.ts';
import { syntheticSeries, toBars } from '../research/synthetic-series.ts';
import { databaseTargets } from '../support/test-db.ts';

const series = syntheticSeries(30 * 60, { seed: 5, oneBarSessionRate: 0, shortSessionRate: 0 });
const indicators = computeIndicators(series);
const data: SeriesData = { symbol: 'USD/COP', series, indicators, features: computeFeatures(series, indicators) };
const sessions = sessionRanges(series).map((r) => r.session);
const walkForward = { enabled: true, mode: 'expanding' as const, folds: 2, trainSessions: 10, validationSessions: 4, testSessions: 4, purgeSessions: 1 };
const folds = planFolds(sessions, walkForward, 1);
const base: WalkForwardRunConfig = {
  symbol: 'USD/COP',
  l1RunId: 1,
  featureOptions: {},
  costs: { spreadBps: 1, feeBps: 0.5, slippageBps: 0 },
  gates: { ...DEFAULT_GATE_THRESHOLDS },
  trials: null,
  baselines: ['flat', 'always-long'],
  flatAtSessionEnd: true,
  walkForward,
  datasetHash: null,
};
const ppo = { config: resolvePpoConfig({ steps: 256, rolloutLength: 128, epochs: 2, minibatchSize: 64, hidden: [8], seeds: 2, evalEvery: 1, patience: 2 }), dataset: { window: 4, minSessionBars: 2, clip: null } };
const withPpo: WalkForwardRunConfig = { ...base, ppo };
const deps = { clock: new ManualClock(Date.UTC(2025, 0, 1)), calendar: new MarketCalendar() };

describe('walk-forward with PPO per fold', () => {
  it("builds each fold's dataset from its own windows: train and validation before the test window, nothing after it", () => {
    for (const fold of folds) {
      const dataset = foldDataset(data, fold, withPpo, ppo);
      assert.deepEqual(sessionsOf(dataset, 'train'), sessions.slice(fold.train.start, fold.train.end));
      assert.deepEqual(sessionsOf(dataset, 'validation'), sessions.slice(fold.validation.start, fold.validation.end));
      assert.deepEqual(sessionsOf(dataset, 'test'), sessions.slice(fold.test.start, fold.test.end));
      const fitted = [...sessionsOf(dataset, 'train'), ...sessionsOf(dataset, 'validation')];
      assert.ok(fitted.every((s) => s < fold.test.from), `fold ${fold.index}: no look-ahead`);
      assert.ok(sessionsOf(dataset, 'train').every((s) => s < fold.validation.from));
      assert.ok(dataset.episodes.every((e) => e.session <= fold.test.to));
    }
    assert.notEqual(foldDataset(data, folds[0]!, withPpo, ppo).hash, foldDataset(data, folds[1]!, withPpo, ppo).hash);
  });

  it('refuses explicit windows out of order or with no session', () => {
    const f = folds[0]!;
    const build = (sessionsConfig: Parameters<typeof buildRlDataset>[3]) => () => buildRlDataset('USD/COP', series, data.features, sessionsConfig);
    assert.throws(build({ sessions: { train: f.train, validation: f.train, test: f.test } }), (e: unknown) => e instanceof TasaError && e.code === 'bad_argument');
    assert.throws(build({ sessions: { train: f.train, validation: f.validation, test: { from: '2030-01-01', to: '2030-02-01' } } }), (e: unknown) => e instanceof TasaError && e.code === 'bad_input' && /test window/.test(e.message));
  });

  it('trains PPO on the fold and evaluates it on the test window with the baselines; the report shows its seeds', async () => {
    const results = [];
    for (const fold of folds) {
      const result = await evaluateFoldOf(deps, data, fold, withPpo);
      assert.deepEqual(result.policies.map((p) => p.policyId), ['ppo', 'flat', 'always-long']);
      assert.deepEqual(result.sessions, sessions.slice(fold.test.start, fold.test.end), 'evaluated on the test window');
      const trained = result.policies[0]!;
      assert.equal(trained.kind, 'ppo');
      assert.equal(trained.sessionEquity.length, fold.test.sessions);
      assert.ok(trained.gates.length > 0 && trained.bestBaseline !== null);
      assert.deepEqual(trained.training?.seeds.map((s) => s.seed), [1, 2]);
      assert.ok(trained.training?.test !== null && trained.training?.validation !== null, 'the seeds were scored on validation and test');
      assert.ok(result.trials >= 2 + 2, 'each seed counts as a trial');
      assert.equal(result.policies[1]!.training, undefined);
      results.push(result);
    }
    const report = aggregateWalkForward('USD/COP', 'expanding', results, 0.95);
    assert.deepEqual(Object.keys(report.equity.curves), ['ppo', 'flat', 'always-long']);
    assert.equal(report.policies[0]!.folds, 2);
    const markdown = renderWalkForwardMarkdown(report, { generatedAt: 0, datasetHash: null, researchHash: null, costs: base.costs });
    assert.match(markdown, /## Trained policies' seeds per fold/);
    assert.match(markdown, /\| 2 \| ppo \| 2 \|/);
  });

  it('evaluates the baselines only when the run does not train', async () => {
    const result = await evaluateFoldOf(deps, data, folds[0]!, base);
    assert.deepEqual(result.policies.map((p) => p.policyId), ['flat', 'always-long']);
    const report = aggregateWalkForward('USD/COP', 'expanding', [result], 0.95);
    assert.doesNotMatch(renderWalkForwardMarkdown(report, { generatedAt: 0, datasetHash: null, researchHash: null, costs: base.costs }), /seeds per fold/);
  });
});

describe('pipeline run with training: walk-forward folds with PPO', () => {
  it('pglite: L1-L6 trains PPO in every fold and evaluates it on the fold test window; without L5 only the baselines', async () => {
    const db = await databaseTargets().find((t) => t.name === 'pglite')!.open();
    const dir = await mkdtemp(join(tmpdir(), 'tasa-walk-forward-ppo-'));
    try {
      await upsertBars(db, toBars(series));
      const options = {
        db,
        archive: openLocalArchive(dir),
        ...deps,
        codeVersion: { version: '0.1.0', commit: 'feedface00000000000000000000000000000000' },
        symbol: 'USD/COP',
        config: {
          research: resolveResearchConfig({}, { walkForward, training: { seeds: 2, evalEvery: 1, patience: 2 } }),
          ppo: { steps: 256, rolloutLength: 128, epochs: 1, minibatchSize: 64, hidden: [8] },
          backtest: { baselines: ['flat', 'always-long'] },
        },
      };
      const trained = await runPipeline({ ...options, layers: parseLayerList('L1-L6') });
      assert.ok(trained.walkForward?.status === 'completed', JSON.stringify(trained.walkForward));
      const stored = await listFolds(db, trained.walkForward.runId);
      assert.equal(stored.length, 2);
      for (const f of stored) {
        const result = f.result as unknown as FoldResult;
        const own = result.policies.find((p) => p.policyId === 'ppo');
        assert.ok(own !== undefined && own.kind === 'ppo', `fold ${f.fold}: ppo evaluated`);
        assert.equal(own.training?.seeds.length, 2);
        assert.deepEqual(result.sessions, sessions.slice(result.fold.test.start, result.fold.test.end));
      }
      const untrained = await runPipeline({ ...options, layers: parseLayerList('L6') });
      assert.ok(untrained.walkForward?.status === 'completed', JSON.stringify(untrained.walkForward));
      const baselinesOnly = (await listFolds(db, untrained.walkForward.runId))[0]!.result as unknown as FoldResult;
      assert.deepEqual(baselinesOnly.policies.map((p) => p.policyId), ['flat', 'always-long']);
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
