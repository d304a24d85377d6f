/**
 * Honest PPO selection: early stopping and checkpoint choice on the validation split only, several
 * seeds with the spread of their results, the test split scored once per seed after the choice.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { runBacktest } from '../../src/research/backtest.ts';
import { renderBacktestReport } from '../../src/research/backtest-report.ts';
import { computePerformance } from '../../src/research/performance.ts';
import { EarlyStopping, chooseSeed, selectionVerdict, spreadOf } from '../../src/research/ppo/model-selection.ts';
import { evaluateModel, resolvePpoConfig, trainPpo, type PpoTrainingResult } from '../../src/research/ppo/ppo-trainer.ts';
import { initTfBackend } from '../../src/research/ppo/tf-backend.ts';
import { syntheticRlDataset } from '../support/synthetic-rl-dataset.ts';
import { syntheticSeries } from './synthetic-series.ts';

describe('early stopping on validation scores', () => {
  it('keeps the best checkpoint, ignores ties and stops after `patience` scores without a better one', () => {
    const stopping = new EarlyStopping(3);
    const scores = [-3, 1, 4, 4, 2, 5, 1, 0, -1, 9];
    const kept: number[] = [];
    let stoppedAt = 0;
    for (const [i, score] of scores.entries()) {
      if (stopping.offer({ iteration: i + 1, steps: (i + 1) * 100, score })) kept.push(i + 1);
      if (stopping.exhausted) {
        stoppedAt = i + 1;
        break;
      }
    }
    assert.deepEqual(kept, [1, 2, 3, 6], 'each strictly better score is a new checkpoint; the tie at 4 keeps the earlier one');
    assert.equal(stoppedAt, 9, 'three scores (1, 0, -1) after the best (5) without a better one');
    assert.deepEqual(stopping.best, { iteration: 6, steps: 600, score: 5 }, 'the 9 after the stop is never seen');
    assert.equal(stopping.scores.length, 9);
  });

  it('spread of results, choice across seeds, and a verdict that says when nothing beats flat', () => {
    assert.deepEqual(spreadOf([1, 2, 6]), { count: 3, mean: 3, min: 1, max: 6, std: Math.sqrt(7) });
    assert.deepEqual(spreadOf([2]), { count: 1, mean: 2, min: 2, max: 2, std: 0 });
    assert.equal(spreadOf([]), null);
    assert.equal(chooseSeed([{ seed: 1, validation: -2 }, { seed: 2, validation: 3 }, { seed: 3, validation: 3 }]), 1, 'the best, the first on a tie');
    assert.equal(chooseSeed([{ seed: 1, validation: null }, { seed: 2, validation: null }]), 0);
    const losers = spreadOf([-0.001, -0.0004]);
    assert.match(selectionVerdict(2, -0.0004, 0, losers), /^No seed beats flat on validation: the best, seed 2, earns -4\.0 bps per session against flat's 0\.0 bps \(2 seeds: mean -7\.0 bps, min -10\.0 bps, max -4\.0 bps/);
    assert.match(selectionVerdict(1, 0.0003, 0, null), /^Seed 1 beats flat on validation: 3\.0 bps per session against 0\.0 bps\.$/);
    assert.match(selectionVerdict(1, null, null, null), /without a validation split/);
  });

  it('the research defaults: three seeds; seeds, interval and patience are validated', () => {
    const c = resolvePpoConfig();
    assert.deepEqual([c.seeds, c.evalEvery, c.patience], [3, 5, 4]);
    for (const bad of [{ seeds: 0 }, { evalEvery: 1.5 }, { patience: 0 }]) assert.throws(() => resolvePpoConfig(bad), /must be an integer >= 1/);
  });
});

describe('PPO over several seeds, selected on validation', () => {
  const dataset = syntheticRlDataset({ sessions: 16 });
  // Tiny: 2 seeds x up to 6 iterations of 128 steps, scored on validation after each one.
  const config = { steps: 768, rolloutLength: 128, epochs: 2, minibatchSize: 64, learningRate: 3e-3, hidden: [8], seed: 4, seeds: 2, evalEvery: 1, patience: 2 };
  let result: PpoTrainingResult;

  before(async () => {
    await initTfBackend();
    result = await trainPpo(dataset, config);
  });

  it("each seed keeps its best validation checkpoint; the chosen model is the best seed's, and scores what its checkpoint scored", () => {
    const { selection } = result;
    assert.deepEqual(selection.seeds.map((r) => r.seed), [4, 5]);
    for (const run of selection.seeds) {
      const best = Math.max(...run.checkpoints.map((c) => c.score));
      assert.equal(run.checkpoints.length, run.iterations, 'scored after every iteration');
      assert.equal(run.validation?.meanReward, best);
      assert.equal(run.checkpoints.find((c) => c.iteration === run.bestIteration)?.score, best, 'the kept checkpoint is the first with the best score');
      assert.ok(run.checkpoints.every((c) => c.iteration >= run.bestIteration || c.score < best));
      if (run.stoppedBy === 'patience') assert.equal(run.iterations, run.bestIteration + config.patience);
      else assert.equal(run.iterations, 6);
    }
    const chosen = selection.seeds.find((r) => r.seed === selection.chosenSeed)!;
    assert.ok(chosen.bestIteration < chosen.iterations, 'this case keeps an earlier checkpoint than the last one (seed 5 scores best after its first iteration)');
    assert.equal(chosen.validation?.meanReward, Math.max(...selection.seeds.map((r) => r.validation!.meanReward)));
    assert.equal(evaluateModel(dataset, result.model, 'validation')?.meanReward, chosen.validation?.meanReward, 'the returned weights are the kept checkpoint, not the last iteration');
    assert.deepEqual(result.validation, chosen.validation);
    assert.equal(result.curve.at(-1)?.iteration, chosen.iterations, "the chosen seed's curve");
    assert.deepEqual(result.curve.map((p) => p.validationReward), chosen.checkpoints.map((c) => c.score));
  });

  it('scores the test split once per seed after the choice, and reports the spread of the seeds', () => {
    const { selection } = result;
    const tests = selection.seeds.map((r) => r.test!.meanReward);
    const validations = selection.seeds.map((r) => r.validation!.meanReward);
    assert.deepEqual(selection.test, spreadOf(tests));
    assert.deepEqual(selection.validation, spreadOf(validations));
    assert.equal(selection.test?.count, 2);
    assert.deepEqual(result.test, selection.seeds.find((r) => r.seed === selection.chosenSeed)!.test);
    assert.equal(result.test?.split, 'test');
    assert.equal(selection.beatsFlat, result.validation!.meanReward > result.validation!.flatMeanReward);
    assert.match(selection.verdict, selection.beatsFlat ? /beats flat on validation/ : /^No seed beats flat/);
    assert.deepEqual(result.metadata['selection'], selection, 'the selection travels with the weights');
    assert.equal((result.metadata['config'] as { seed: number }).seed, selection.chosenSeed);
    assert.doesNotThrow(() => JSON.stringify(result.metadata));
  });

  it("the model's report shows every seed's validation and test result, their spread and the verdict", () => {
    const series = syntheticSeries(300, { seed: 2 });
    const backtest = runBacktest(series, new Int8Array(series.length), { spreadBps: 2, feeBps: 0.5 });
    const base = { title: 'ppo', symbol: 'USD/COP', policyId: 'ppo-x', generatedAt: 0, datasetHash: null, config: {}, result: backtest, metrics: computePerformance(backtest, 14_600) };
    const html = renderBacktestReport({ ...base, training: result.selection });
    const section = html.slice(html.indexOf('<h2>Training'), html.indexOf('</section>', html.indexOf('<h2>Training')));
    assert.match(section, new RegExp(`<td>${result.selection.chosenSeed} \\(chosen\\)</td>`));
    for (const run of result.selection.seeds) assert.ok(section.includes(`${(run.test!.meanReward * 1e4).toFixed(1)} bps`), `seed ${run.seed}'s test result`);
    for (const k of ['mean', 'min', 'max', 'std']) assert.match(section, new RegExp(`<td>${k}</td>`));
    assert.ok(section.includes(result.selection.verdict.slice(0, 30)));
    assert.doesNotMatch(renderBacktestReport(base), /<h2>Training/, 'no section for a baseline');
  });

  it('reports steps over all seeds and their speed', () => {
    assert.equal(result.totalSteps, result.selection.seeds.reduce((a, r) => a + r.steps, 0));
    assert.ok(result.stepsPerSecond > 0 && Number.isFinite(result.stepsPerSecond));
  });
});
