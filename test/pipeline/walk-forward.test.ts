/**
 * Walk-forward on the real 2020-2025 USD/COP history (skips when ../shared/data is absent):
 * - the pipeline (L0-L4, L6 with the research config) evaluates every baseline over >= 8 folds
 *   in this process; always-long's net return in each fold equals an independent recomputation
 *   from the stored bars; an identical rerun reuses the report;
 * - on PostgreSQL (TEST_DATABASE_URL), the folds are pg-boss jobs that two workers share.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../src/clock.ts';
import { MarketCalendar } from '../../src/domain/calendar.ts';
import { bogotaDate } from '../../src/domain/time.ts';
import { startOnDemandWorker, type OnDemandJobHandler } from '../../src/jobs/boss.ts';
import { jobFoldExecutor, walkForwardFoldHandler } from '../../src/jobs/walk-forward-jobs.ts';
import { createLogger } from '../../src/log.ts';
import { openLocalArchive } from '../../src/pipeline/archive/local-archive.ts';
import { importBarFile } from '../../src/pipeline/import-bars.ts';
import { parseLayerList, runPipeline, type RunPipelineOptions } from '../../src/pipeline/run-pipeline.ts';
import { costRate } from '../../src/research/execution-model.ts';
import { resolveResearchConfig } from '../../src/research/research-config.ts';
import type { WalkForwardReport } from '../../src/research/walk-forward-evaluation.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { getWalkForwardRun, listFolds } from '../../src/store/walk-forward-repo.ts';
import { databaseTargets, openScratchPostgres } from '../support/test-db.ts';

const REAL_FILE = fileURLToPath(new URL('../../../shared/data/usdcop_m5_2020-01_2025-06.csv.gz', import.meta.url));
const CODE = { version: '0.1.0', commit: 'feedface00000000000000000000000000000000' };
const LAYERS = parseLayerList('L0-L4,L6');

function pipelineOptions(db: Db, dir: string): RunPipelineOptions {
  return {
    db,
    archive: openLocalArchive(dir),
    clock: new ManualClock(Date.UTC(2025, 6, 1, 12, 0)),
    calendar: new MarketCalendar(),
    codeVersion: CODE,
    symbol: 'USD/COP',
    layers: LAYERS,
    config: { research: resolveResearchConfig({}) },
  };
}

/**
 * always-long from the bars alone: in each session with at least two bars it buys at the second
 * bar's open (decided at the first close) and sells at the last close, paying the cost rate on
 * the equity at each fill: a session multiplies equity by (1 - c)² x last close / second open.
 */
async function alwaysLongReturn(db: Db, from: string, to: string, rate: number): Promise<{ totalReturn: number; trades: number }> {
  const rows = await db.query<{ time: Date; open: number; close: number }>('SELECT time, open, close FROM bars WHERE symbol = $1 ORDER BY time', ['USD/COP']);
  const sessions = new Map<string, Array<{ open: number; close: number }>>();
  for (const r of rows) {
    const hour = r.time.getUTCHours();
    if (hour < 13 || hour > 17) continue; // 08:00-12:55 Bogota
    const date = bogotaDate(r.time.getTime());
    if (date < from || date > to) continue;
    sessions.set(date, [...(sessions.get(date) ?? []), { open: Number(r.open), close: Number(r.close) }]);
  }
  let equity = 1;
  let trades = 0;
  for (const bars of sessions.values()) {
    if (bars.length < 2) continue;
    equity *= (1 - rate) ** 2 * (bars[bars.length - 1]!.close / bars[1]!.open);
    trades++;
  }
  return { totalReturn: equity - 1, trades };
}

describe('walk-forward on the real history', { skip: existsSync(REAL_FILE) ? false : `${REAL_FILE} is absent` }, () => {
  it('pglite: every baseline over >= 8 folds in process; always-long matches a recomputation from the bars; a rerun reuses the report', async () => {
    const target = databaseTargets().find((t) => t.name === 'pglite')!;
    const db = await target.open();
    const dir = await mkdtemp(join(tmpdir(), 'tasa-walk-forward-'));
    try {
      const options = pipelineOptions(db, dir);
      await importBarFile(db, options.calendar.of('USD/COP'), REAL_FILE, { symbol: 'USD/COP' });
      const first = await runPipeline(options);
      const wf = first.walkForward;
      assert.ok(wf !== null && wf.status === 'completed', JSON.stringify(wf));
      assert.ok(wf.folds >= 8);
      const run = (await getWalkForwardRun(db, wf.runId))!;
      assert.equal(run.status, 'completed');
      const report = run.report as unknown as WalkForwardReport;
      assert.equal(report.folds.length, wf.folds);
      assert.deepEqual(report.policies.map((p) => p.policyId), ['flat', 'buy-and-hold', 'always-long', 'sma-crossover', 'rsi-mean-reversion']);
      for (let k = 1; k < report.folds.length; k++) assert.ok(report.folds[k - 1]!.fold.test.to < report.folds[k]!.fold.test.from, 'test windows do not overlap');
      assert.equal(report.equity.sessions.length, report.folds.reduce((n, f) => n + f.sessions.length, 0));
      assert.match(report.verdict, /walk-forward folds/);

      const rate = costRate(resolveResearchConfig({}).config.costs as { spreadBps: number; feeBps: number; slippageBps: number });
      for (const f of report.folds) {
        const own = f.policies.find((p) => p.policyId === 'always-long')!;
        const expected = await alwaysLongReturn(db, f.fold.test.from, f.fold.test.to, rate);
        assert.equal(own.trades, expected.trades, `fold ${f.fold.index}: trades`);
        assert.ok(Math.abs(own.totalReturn! - expected.totalReturn) < 1e-9, `fold ${f.fold.index}: ${own.totalReturn} vs ${expected.totalReturn}`);
        assert.equal(f.policies.find((p) => p.policyId === 'flat')!.totalReturn, 0);
      }
      const stitched = report.policies.find((p) => p.policyId === 'always-long')!.stitchedReturn;
      const chained = report.folds.reduce((e, f) => e * (1 + f.policies.find((p) => p.policyId === 'always-long')!.totalReturn!), 1) - 1;
      assert.ok(Math.abs(stitched - chained) < 1e-9);
      assert.ok((await options.archive.exists(wf.htmlKey)) && (await options.archive.exists(wf.markdownKey)));

      const second = await runPipeline(options);
      assert.deepEqual(second.walkForward, { ...wf, status: 'reused' });
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  const url = process.env['TEST_DATABASE_URL'];
  it('postgres: two workers share the fold jobs through pg-boss', { skip: url ? false : 'TEST_DATABASE_URL is not set' }, async () => {
    const { db, url: dbUrl } = await openScratchPostgres(url!);
    const dir = await mkdtemp(join(tmpdir(), 'tasa-walk-forward-jobs-'));
    const logger = createLogger('silent');
    const stops: Array<() => Promise<void>> = [];
    try {
      await migrate(db);
      const options = pipelineOptions(db, dir);
      await importBarFile(db, options.calendar.of('USD/COP'), REAL_FILE, { symbol: 'USD/COP' });
      const deps = { db, archive: options.archive, clock: options.clock, calendar: options.calendar };
      // Each worker holds its first fold until the other has one too: both must take part.
      const started = new Set<string>();
      let release!: () => void;
      const both = new Promise<void>((resolve) => (release = resolve));
      const gated = (name: string): OnDemandJobHandler => {
        const handler = walkForwardFoldHandler(deps, name);
        return async (ctx) => {
          started.add(name);
          if (started.size === 2) release();
          await both;
          return handler(ctx);
        };
      };
      for (const name of ['worker-a', 'worker-b']) {
        const worker = await startOnDemandWorker({ db, databaseUrl: dbUrl, clock: options.clock, logger, pollingIntervalSeconds: 0.5, handlers: { 'walk-forward-fold': gated(name) } });
        stops.push(() => worker.stop());
      }
      const coordinator = await jobFoldExecutor({ ...deps, databaseUrl: dbUrl, logger, work: false, waitPollMs: 200 });
      stops.push(() => coordinator.jobs.stop());

      const result = await runPipeline({ ...options, folds: coordinator });
      const wf = result.walkForward;
      assert.ok(wf !== null && wf.status === 'completed', JSON.stringify(wf));
      const folds = await listFolds(db, wf.runId);
      assert.ok(folds.length >= 8);
      assert.ok(folds.every((f) => f.status === 'completed'));
      assert.deepEqual([...new Set(folds.map((f) => f.worker))].sort(), ['worker-a', 'worker-b']);
    } finally {
      for (const stop of stops.reverse()) await stop();
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
