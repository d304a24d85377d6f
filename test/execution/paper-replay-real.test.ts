/**
 * `tasa paper replay --split test` on the real 2020-2025 USD/COP history (flat bars, gaps, short
 * sessions): the pipeline (L1-L6, with a short L5 training) runs over the whole history, then each
 * policy is replayed through the strategy runner and the order service over the test split L6
 * backtested, in its own scratch store as the CLI does; its paper trades must equal, one for one,
 * the trades L6 stored for that policy. Skips when ../shared/data is absent.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { backtestParityTrades, type ParityTrade } from '../../src/execution/parity.ts';
import { openReplayStore, runPaperReplay } from '../../src/execution/paper-replay.ts';
import { createLogger } from '../../src/log.ts';
import { openLocalArchive } from '../../src/pipeline/archive/local-archive.ts';
import { backtestedSplit, type BacktestedSplit } from '../../src/pipeline/backtest-split.ts';
import { parseLayerList, runPipeline, type PipelineResult } from '../../src/pipeline/run-pipeline.ts';
import { getBacktest } from '../../src/store/backtests-repo.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { realBars, REAL_FILE_SKIP } from '../support/real-history.ts';
import { databaseTargets } from '../support/test-db.ts';

const SYMBOL = 'USD/COP';
const CODE = { version: '0.1.0', commit: 'feedface00000000000000000000000000000000' };
/** A short training (seconds of CPU): enough for a policy whose decisions depend on its features. */
const PPO = { steps: 4096, rolloutLength: 1024, epochs: 2, minibatchSize: 256, hidden: [16], seed: 3 };

describe('paper replay of the pipeline test split on the real history', { skip: REAL_FILE_SKIP }, () => {
  const calendar = new MarketCalendar();
  let db: Db;
  let archiveDir: string;
  let pipeline: PipelineResult;
  let split: BacktestedSplit;

  before(async () => {
    db = await databaseTargets()[0]!.open();
    archiveDir = await mkdtemp(join(tmpdir(), 'tasa-replay-real-'));
    await upsertBars(db, await realBars(calendar));
    const began = performance.now();
    pipeline = await runPipeline({
      db,
      archive: openLocalArchive(archiveDir),
      clock: new ManualClock(Date.UTC(2025, 6, 1, 12, 0)),
      calendar,
      codeVersion: CODE,
      symbol: SYMBOL,
      layers: parseLayerList('L1-L6'),
      config: { ppo: PPO, backtest: { baselines: ['sma-crossover'] } },
    });
    split = await backtestedSplit(db, SYMBOL, 'test');
    // The pipeline's clock is a manual one: the wall time is measured here.
    process.stderr.write(`pipeline L1-L6 with ${PPO.steps} training steps: ${Math.round(performance.now() - began)} ms\n`);
  });

  after(async () => {
    await db?.close();
    if (archiveDir !== undefined) await rm(archiveDir, { recursive: true, force: true });
  });

  it('takes the split L6 backtested: its dates, sessions and costs', () => {
    const l6 = pipeline.layers.find((l) => l.layer === 'L6')!;
    const l4 = pipeline.layers.find((l) => l.layer === 'L4')!;
    assert.deepEqual([split.l6RunId, split.l4RunId], [l6.runId, l4.runId]);
    assert.deepEqual({ from: split.from, to: split.to }, { from: l6.summary['from'], to: l6.summary['to'] });
    assert.equal(split.sessions, (l4.summary['splits'] as Record<string, { sessions: number }>)['test']!.sessions);
    assert.ok(split.sessions > 150, `${split.sessions} test sessions`);
    assert.deepEqual(split.costs, { spreadBps: 2, feeBps: 0.5, slippageBps: 0 }, 'research.config.json as shipped');
  });

  it('gives sma-crossover trades identical to L6 over the whole test split', async () => {
    await assertReplayEqualsL6('sma-crossover', 300);
  });

  it('gives the trades of the PPO policy L5 trained identical to L6 over the whole test split', async () => {
    assert.ok(pipeline.modelId !== null);
    await assertReplayEqualsL6(pipeline.modelId, 1);
  });

  async function assertReplayEqualsL6(policyId: string, minTrades: number): Promise<void> {
    const l6 = await l6Trades(policyId);
    assert.ok(l6.length >= minTrades, `L6 made ${l6.length} ${policyId} trades`);
    const scratch = await openReplayStore(db, calendar, SYMBOL, policyId, split.to);
    try {
      const result = await runPaperReplay({ db: scratch, calendar, logger: createLogger('silent'), symbol: SYMBOL, policyId, from: split.from, to: split.to, costs: split.costs });
      assert.equal(result.sessions, split.sessions);
      // The replay's own backtest is L6's, and the paper trades equal it.
      assert.deepEqual(result.expected, l6);
      assert.deepEqual(result.report, { total: l6.length, matched: l6.length, firstDifference: null });
      const rate = Math.round(result.bars / (result.replayMs / 1000));
      process.stderr.write(`replay of ${policyId} over ${split.from}..${split.to}: ${result.bars} bars, ${result.sessions} sessions, ${l6.length} trades in ${Math.round(result.replayMs)} ms (${rate} bars/s)\n`);
    } finally {
      await scratch.close();
    }
  }

  /** The trades L6 stored for the policy in this pipeline run (all of them: fewer than the store keeps). */
  async function l6Trades(policyId: string): Promise<ParityTrade[]> {
    for (const id of pipeline.backtestIds) {
      const stored = await getBacktest(db, id);
      if (stored?.policyId !== policyId) continue;
      assert.equal(stored.trades.items.length, stored.trades.total);
      return backtestParityTrades(stored.trades.items);
    }
    throw new Error(`L6 stored no backtest of ${policyId}`);
  }
});
