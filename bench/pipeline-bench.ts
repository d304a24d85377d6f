/**
 * Research pipeline figures on the embedded store (PGlite on disk) and a local archive: the
 * whole pipeline except training (L0-L4 and L6 with the baselines) on the real 2020-2025 history
 * (imported first, not timed) or, without it, on ~78,000 synthetic bars; the same run again (every
 * layer skipped); PPO training through L5 (steps/s); L6 with the trained model.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { systemClock } from '../src/clock.ts';
import { MarketCalendar } from '../src/domain/calendar.ts';
import { openLocalArchive } from '../src/pipeline/archive/local-archive.ts';
import { importBarFile } from '../src/pipeline/import-bars.ts';
import { parseLayerList, runPipeline, type PipelineResult, type RunPipelineOptions } from '../src/pipeline/run-pipeline.ts';
import { upsertBars } from '../src/store/bars-repo.ts';
import type { Db } from '../src/store/db.ts';
import { openDb } from '../src/store/open-db.ts';
import { migrate } from '../src/store/migrate.ts';
import { insertRawBars } from '../src/store/raw-bars-repo.ts';
import { syntheticSeries, toBars } from '../test/research/synthetic-series.ts';
import { REAL_FILE } from './foundation-bench.ts';
import { against, formatMs, record, timed } from './harness.ts';

/** The built CLI runs when current (the cli bench builds it first); otherwise bin/tasa.js falls back to tsx. */
const BIN = fileURLToPath(new URL('../bin/tasa.js', import.meta.url));

/** Two rollouts of the default 2048 steps: the first includes the kernels' warm-up. */
const TRAINING_STEPS = 3 * 2048;

export async function benchPipeline(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tasa-bench-pipeline-'));
  const db = await openDb({ dataDir: join(dir, 'db') });
  try {
    await migrate(db);
    const calendar = new MarketCalendar();
    const source = await loadHistory(db, calendar);
    const options: RunPipelineOptions = {
      db,
      archive: openLocalArchive(join(dir, 'archive')),
      clock: systemClock,
      calendar,
      codeVersion: { version: 'bench', commit: null },
      symbol: 'USD/COP',
      layers: parseLayerList('L0-L4,L6'),
      config: { ppo: { steps: TRAINING_STEPS } },
    };
    const first = await timedRun(options);
    const bars = first.result.layers.find((l) => l.layer === 'L1')?.summary['bars'];
    record('pipeline', 'L0-L4 + L6 (baselines), first run', formatMs(first.ms), `${String(bars)} bars (${source}), embedded store; ${first.perLayer}`);
    if (source.startsWith('real')) await benchPipelineProcess(dir, first.ms);
    const again = await timedRun(options);
    record('pipeline', 'same again (every layer skipped)', formatMs(again.ms), 'fingerprint check + every file re-read and its sha256 verified');

    const training = await timedRun({ ...options, layers: ['L5'] });
    const l5 = training.result.layers[0]!.summary;
    const curve = (l5['curve'] as Array<{ stepsPerSecond: number }>).slice(1);
    const rate = curve.reduce((a, p) => a + p.stepsPerSecond, 0) / Math.max(curve.length, 1);
    record('pipeline', 'L5 PPO training', `${Math.round(rate).toLocaleString('en-US')} steps/s`, `${TRAINING_STEPS} steps in ${formatMs(training.ms)} (first rollout excluded from the rate); default config, WASM backend`);
    const withModel = await timedRun({ ...options, layers: ['L6'] });
    record('pipeline', '`--layers L6` with the trained model and 4 baselines', formatMs(withModel.ms), 'rebuilds the L1-L4 data from the L1 archive, then the test split: decisions, backtests, gates, 5 HTML reports');
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function loadHistory(db: Db, calendar: MarketCalendar): Promise<string> {
  if (existsSync(REAL_FILE)) {
    await importBarFile(db, calendar, REAL_FILE, { symbol: 'USD/COP' });
    return 'real 2020-2025 history';
  }
  const series = syntheticSeries(78_000, { from: Date.parse('2020-01-02T00:00:00Z') });
  await upsertBars(db, toBars(series));
  const rows = series.map((b, i) => ({
    lineNo: i + 1,
    raw: `${b.time},${b.open},${b.high},${b.low},${b.close}`,
    parsed: { lineNo: i + 1, time: b.time, open: b.open, high: b.high, low: b.low, close: b.close, volume: null, sourceLabel: null },
    sourceLabel: null,
  }));
  await insertRawBars(db, 'USD/COP', { name: 'synthetic', sha256: '0'.repeat(64) }, rows);
  return 'synthetic: the real file is absent';
}

/**
 * `tasa pipeline run --skip-training` as a whole process (the built CLI, as a user runs it) on an
 * embedded store holding the real history (imported by `tasa import` first, not timed): start-up,
 * opening the store, L0-L4, L6 and the walk-forward of the baselines; against the in-process run
 * of L0-L4 + L6 above.
 */
async function benchPipelineProcess(dir: string, inProcessMs: number): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, TASA_LOG_LEVEL: 'silent', TASA_DATA_DIR: join(dir, 'cli-store') };
  delete env['DATABASE_URL'];
  const run = promisify(execFile);
  await run(process.execPath, [BIN, 'import', REAL_FILE], { env, maxBuffer: 64 * 1024 * 1024 });
  const { ms } = await timed(() => run(process.execPath, [BIN, 'pipeline', 'run', '--skip-training'], { env, maxBuffer: 64 * 1024 * 1024 }));
  record(
    'pipeline',
    '`tasa pipeline run --skip-training`, whole process',
    formatMs(ms),
    'embedded store with the real history; start-up, store, L0-L4, L6 and the walk-forward of the baselines',
    against('in-process L0-L4 + L6, ms', ms, inProcessMs),
  );
}

async function timedRun(options: RunPipelineOptions): Promise<{ ms: number; result: PipelineResult; perLayer: string }> {
  const done: string[] = [];
  let last = performance.now();
  const { ms, result } = await timed(() =>
    runPipeline({
      ...options,
      onProgress: (p) => {
        if (p.phase !== 'completed' && p.phase !== 'skipped') return;
        const now = performance.now();
        done.push(`${p.layer} ${formatMs(now - last)}`);
        last = now;
      },
    }),
  );
  return { ms, result, perLayer: done.join(', ') };
}
