/**
 * The pipeline on the real 2020-2025 USD/COP history: imported with `tasa import`'s code, then
 * L0-L6 with a tiny training; every manifest verifies and a second run reproduces every hash.
 * Skips when ../shared/data is absent: nothing else depends on it.
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
import { openLocalArchive } from '../../src/pipeline/archive/local-archive.ts';
import { importBarFile } from '../../src/pipeline/import-bars.ts';
import { loadManifest, verifyManifest } from '../../src/pipeline/manifest.ts';
import { parseLayerList, runPipeline, type RunPipelineOptions } from '../../src/pipeline/run-pipeline.ts';
import { listBacktests } from '../../src/store/backtests-repo.ts';
import { databaseTargets } from '../support/test-db.ts';

const REAL_FILE = fileURLToPath(new URL('../../../shared/data/usdcop_m5_2020-01_2025-06.csv.gz', import.meta.url));
const CODE = { version: '0.1.0', commit: 'feedface00000000000000000000000000000000' };

describe('pipeline on the real history', { skip: existsSync(REAL_FILE) ? false : `${REAL_FILE} is absent` }, () => {
  for (const target of databaseTargets()) {
    it(`${target.name}: L0-L6 complete with verifying manifests, and a second run reproduces every hash`, async () => {
      const db = await target.open();
      const dir = await mkdtemp(join(tmpdir(), 'tasa-real-pipeline-'));
      try {
        const calendar = new MarketCalendar();
        await importBarFile(db, calendar, REAL_FILE, { symbol: 'USD/COP' });
        const options: RunPipelineOptions = {
          db,
          archive: openLocalArchive(dir),
          clock: new ManualClock(Date.UTC(2025, 6, 1, 12, 0)),
          calendar,
          codeVersion: CODE,
          symbol: 'USD/COP',
          layers: parseLayerList('L0-L6'),
          config: { ppo: { steps: 256, rolloutLength: 128, epochs: 1, minibatchSize: 64, hidden: [8], seed: 1 } },
        };
        const first = await runPipeline(options);
        assert.ok(first.layers.every((l) => l.status === 'completed'));
        assert.deepEqual(first.range, { from: '2020-01-02', to: '2025-06-27' });
        for (const l of first.layers) assert.deepEqual(await verifyManifest(options.archive, await loadManifest(options.archive, l.manifestKey)), [], l.layer);
        const l1 = first.layers.find((l) => l.layer === 'L1')!;
        assert.equal(l1.summary['bars'], 78_169);
        const l4 = first.layers.find((l) => l.layer === 'L4')!;
        const splits = l4.summary['splits'] as Record<string, { sessions: number }>;
        for (const split of ['train', 'validation', 'test']) assert.ok(splits[split]!.sessions > 100, split);
        assert.equal((await listBacktests(db, {})).length, 6, 'the trained model and the five baselines');
        const selection = first.layers.find((l) => l.layer === 'L5')!.summary['selection'] as { seeds: Array<{ seed: number; validation: unknown; test: unknown }>; verdict: string };
        assert.deepEqual(selection.seeds.map((s) => s.seed), [1, 2, 3], 'three seeds by default, each with its validation and test result');
        assert.ok(selection.seeds.every((s) => s.validation !== null && s.test !== null));
        assert.match(selection.verdict, /on validation/);

        const second = await runPipeline(options);
        assert.ok(second.layers.every((l) => l.status === 'skipped'));
        assert.deepEqual(
          second.layers.map((l) => l.datasetHash),
          first.layers.map((l) => l.datasetHash),
        );
      } finally {
        await db.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
