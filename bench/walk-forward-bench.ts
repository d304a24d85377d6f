/**
 * Walk-forward figures on the real 2020-2025 history (imported into the embedded store first, not
 * timed): the default 8 expanding folds of every baseline, run in this process (the data rebuilt
 * from the L1 archive once, then each fold's decisions, backtests, gates and significance), and
 * the report assembled; the reference, in the same run, is `--layers L6` (the same data rebuild
 * and the baselines on the one test split). No training.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/clock.ts';
import { MarketCalendar } from '../src/domain/calendar.ts';
import { openLocalArchive } from '../src/pipeline/archive/local-archive.ts';
import { importBarFile } from '../src/pipeline/import-bars.ts';
import { parseLayerList, runPipeline, type RunPipelineOptions } from '../src/pipeline/run-pipeline.ts';
import { FoldDataCache, type WalkForwardRunConfig } from '../src/pipeline/walk-forward-fold.ts';
import { inProcessFolds, planWalkForward, runWalkForward } from '../src/pipeline/walk-forward-run.ts';
import { BASELINE_IDS } from '../src/research/baselines.ts';
import { resolveGateThresholds } from '../src/research/gates.ts';
import { resolveResearchConfig } from '../src/research/research-config.ts';
import { openDb } from '../src/store/open-db.ts';
import { migrate } from '../src/store/migrate.ts';
import { REAL_FILE } from './foundation-bench.ts';
import { against, formatMs, record, timed } from './harness.ts';

export async function benchWalkForward(): Promise<void> {
  if (!existsSync(REAL_FILE)) {
    record('walk-forward', 'all figures', 'skipped', `${REAL_FILE} is absent`);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'tasa-bench-walk-forward-'));
  const db = await openDb({ dataDir: join(dir, 'db') });
  try {
    await migrate(db);
    const calendar = new MarketCalendar();
    await importBarFile(db, calendar, REAL_FILE, { symbol: 'USD/COP' });
    const options: RunPipelineOptions = {
      db,
      archive: openLocalArchive(join(dir, 'archive')),
      clock: systemClock,
      calendar,
      codeVersion: { version: 'bench', commit: null },
      symbol: 'USD/COP',
      layers: parseLayerList('L0-L4,L6'),
    };
    const chain = await runPipeline(options);
    const ref = (layer: string) => chain.layers.find((l) => l.layer === layer)!;
    const reference = await timed(() => runPipeline({ ...options, layers: ['L6'], force: true }));

    const research = resolveResearchConfig({}).config;
    const config: WalkForwardRunConfig = {
      symbol: 'USD/COP',
      l1RunId: ref('L1').runId,
      featureOptions: {},
      costs: { spreadBps: 2, feeBps: 0.5, slippageBps: 0 },
      gates: resolveGateThresholds(research.gates),
      trials: null,
      baselines: [...BASELINE_IDS],
      flatAtSessionEnd: true,
      walkForward: research.walkForward,
      datasetHash: ref('L4').datasetHash,
    };
    const deps = { db, archive: options.archive, clock: systemClock, calendar };
    const { series } = await new FoldDataCache().get(deps, config);
    const folds = planWalkForward(series, config, research.purgeSessions);
    const run = await timed(() => runWalkForward({ ...deps, codeVersion: options.codeVersion, config, folds, researchHash: null, executor: inProcessFolds(deps), force: true }));
    const bars = run.result.report.folds.reduce((n, f) => n + f.bars, 0);
    record(
      'walk-forward',
      `${folds.length} folds of the ${BASELINE_IDS.length} baselines (no training)`,
      formatMs(run.ms),
      `${bars.toLocaleString('en-US')} test bars; one worker in process: data rebuilt from the L1 archive once, then per fold decisions, backtests at 1x/1.25x/0x/0.5x/2x costs, gates, PSR/DSR; report assembled and written`,
      against('`--layers L6` (same data rebuild, baselines on the one test split)', run.ms, reference.ms),
    );
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}
