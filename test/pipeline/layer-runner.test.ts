import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { TasaError } from '../../src/errors.ts';
import type { ArchiveStore } from '../../src/pipeline/archive/archive-store.ts';
import { openLocalArchive } from '../../src/pipeline/archive/local-archive.ts';
import { doubleColumn, float64Of, stringColumn, timestampColumn, type TableColumn } from '../../src/pipeline/archive/parquet-table.ts';
import { loadLayerTables, runLayer, type LayerContext, type LayerOutput, type LayerProgress, type LayerSpec } from '../../src/pipeline/layer-runner.ts';
import { layerFileKey, monthKey, monthRanges, symbolSegment, tablesByMonth } from '../../src/pipeline/layout.ts';
import { loadManifest, parseManifest, readCodeVersion, verifyManifest, type ParentRun } from '../../src/pipeline/manifest.ts';
import type { Db } from '../../src/store/db.ts';
import { listRuns, type PipelineRun } from '../../src/store/pipeline-runs-repo.ts';
import { databaseTargets } from '../support/test-db.ts';

const SYMBOL = 'USD/COP';
const START = Date.UTC(2024, 3, 1, 12, 0);
const CODE = { version: '0.1.0', commit: 'c0ffee0000000000000000000000000000000000' };
const L1_PARENT: ParentRun = { layer: 'L1', runId: 1, datasetHash: '1'.repeat(64) };

/** Two bars on a few session days in January-March 2024 (13:00Z = 08:00 Bogota). */
function barTimes(): number[] {
  return ['2024-01-02', '2024-01-31', '2024-02-01', '2024-02-29', '2024-03-01'].flatMap((d) => [Date.parse(`${d}T13:00:00Z`), Date.parse(`${d}T13:05:00Z`)]);
}

/** The table split by the month of each row's date (its `session` column, as the layers file them). */
function byMonth(columns: TableColumn[]): Array<{ key: string; columns: TableColumn[] }> {
  const sessions = columns.find((c) => c.name === 'session')?.values as readonly string[];
  return tablesByMonth('L2', SYMBOL, columns, sessions.map((d) => d.slice(0, 7)));
}

/** An L2-like table whose values depend on the config's `scale`; the first value is missing (warm-up). */
function indicatorColumns(scale: number): TableColumn[] {
  const times = barTimes();
  return [
    timestampColumn('time', times),
    doubleColumn('ema', times.map((_, i) => (i === 0 ? NaN : 4000 + i * scale))),
    stringColumn('session', times.map((t) => new Date(t).toISOString().slice(0, 10))),
  ];
}

interface Harness {
  ctx: LayerContext;
  clock: ManualClock;
  progress: LayerProgress[];
  computeCalls: number;
  spec(overrides?: Partial<LayerSpec>): LayerSpec;
}

function harness(db: Db, archive: ArchiveStore): Harness {
  const clock = new ManualClock(START);
  const h: Harness = {
    clock,
    progress: [],
    computeCalls: 0,
    ctx: { db, archive, clock, codeVersion: CODE, onProgress: (p) => h.progress.push(p) },
    spec(overrides = {}) {
      const config = overrides.config ?? { scale: 1, names: ['ema'] };
      return {
        layer: 'L2',
        symbol: SYMBOL,
        config,
        parents: [L1_PARENT],
        compute: async (): Promise<LayerOutput> => {
          h.computeCalls++;
          await clock.advance(1_500);
          const columns = indicatorColumns(Number(config['scale']));
          return { tables: byMonth(columns), summary: { indicators: 1 }, rowsIn: 10, rowsOut: 10 };
        },
        ...overrides,
      };
    },
  };
  return h;
}

async function runById(db: Db, id: number): Promise<PipelineRun> {
  const run = (await listRuns(db, { layer: 'L2' })).find((r) => r.id === id);
  assert.ok(run, `run ${id} is recorded`);
  return run;
}

for (const target of databaseTargets()) {
  describe(`runLayer on ${target.name}`, () => {
    let db: Db;
    let dir: string;
    let archive: ArchiveStore;
    before(async () => {
      db = await target.open();
      dir = await mkdtemp(join(tmpdir(), 'tasa-runner-'));
      archive = openLocalArchive(dir);
    });
    after(async () => {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    });

    test('a run is recorded as completed with its files, manifest, hash, timings and progress', async () => {
      const h = harness(db, archive);
      const result = await runLayer(h.ctx, h.spec({ config: { scale: 1, names: ['ema'], case: 'recorded' } }));
      assert.equal(result.status, 'completed');
      assert.equal(result.sourceRunId, result.runId);
      assert.deepEqual(result.ref, { layer: 'L2', runId: result.runId, datasetHash: result.datasetHash });
      assert.match(result.datasetHash, /^[0-9a-f]{64}$/);

      const keys = ['2024-01', '2024-02', '2024-03'].map((m) => monthKey('L2', SYMBOL, m));
      assert.deepEqual(result.manifest.files.map((f) => [f.key, f.rows]), keys.map((k) => [k, k.endsWith('2024-03.parquet') ? 2 : 4]));
      assert.equal(result.manifest.rows, 10);
      assert.deepEqual(result.manifest.parentRuns, [L1_PARENT]);
      assert.deepEqual(result.manifest.codeVersion, CODE);
      assert.equal(result.manifest.createdAt, new Date(START + 1_500).toISOString());
      assert.equal(result.manifestKey, `L2/USDCOP/manifests/${result.datasetHash}.json`);
      assert.deepEqual(await loadManifest(archive, result.manifestKey), result.manifest);
      assert.deepEqual(await verifyManifest(archive, result.manifest), []);

      const run = await runById(db, result.runId);
      assert.equal(run.status, 'completed');
      assert.equal(run.symbol, SYMBOL);
      assert.equal(run.startedAt, START);
      assert.equal(run.finishedAt, START + 1_500);
      assert.equal(run.rowsIn, 10);
      assert.equal(run.rowsOut, 10);
      assert.equal(run.datasetHash, result.datasetHash);
      assert.deepEqual(parseManifest(run.manifest, 'row'), result.manifest);
      assert.equal(run.params['inputFingerprint'], result.manifest.inputFingerprint);
      assert.deepEqual(run.params['parents'], [L1_PARENT]);
      assert.equal(run.summary['indicators'], 1);
      assert.deepEqual(run.summary['timings'], { checkMs: 0, computeMs: 1_500, writeMs: 0 });
      assert.equal((run.summary['archive'] as { files: number }).files, 3);

      assert.deepEqual(
        h.progress.map((p) => `${p.phase} ${p.done}/${p.total}`),
        ['checking 0/0', 'computing 0/0', 'writing 0/3', 'writing 1/3', 'writing 2/3', 'writing 3/3', 'completed 1/1'],
      );
      assert.ok(h.progress.every((p) => p.runId === result.runId && p.layer === 'L2' && p.symbol === SYMBOL));
    });

    test('the files read back: values, missing values and times', async () => {
      const h = harness(db, archive);
      const result = await runLayer(h.ctx, h.spec({ config: { scale: 2, case: 'read back' } }));
      const tables = await loadLayerTables(archive, result.manifest);
      assert.deepEqual(tables.map((t) => t.key), result.manifest.files.map((f) => f.key));
      const ema = tables.flatMap((t) => Array.from(float64Of(t.table, 'ema')));
      assert.ok(Number.isNaN(ema[0]));
      assert.deepEqual(ema.slice(1), Array.from({ length: 9 }, (_, i) => 4000 + (i + 1) * 2));
      assert.deepEqual(tables.flatMap((t) => Array.from(float64Of(t.table, 'time'))), barTimes());
    });

    test('a failing compute is recorded as failed with its error, and the error reaches the caller', async () => {
      const h = harness(db, archive);
      const boom = new TasaError('bad_input', 'The L1 bars of 2024-01-02 are not in time order.');
      await assert.rejects(runLayer(h.ctx, h.spec({ config: { case: 'fails' }, compute: () => Promise.reject(boom) })), (err: unknown) => err === boom);
      const [run] = await listRuns(db, { layer: 'L2', limit: 1 });
      assert.ok(run);
      assert.equal(run.status, 'failed');
      assert.equal(run.error, boom.message);
      assert.equal(run.finishedAt, START);
      assert.equal(run.datasetHash, null);
      assert.equal(h.progress.at(-1)?.phase, 'failed');
    });

    test('a table outside the layer and symbol folder fails the run before anything is written', async () => {
      const h = harness(db, archive);
      const spec = h.spec({
        config: { case: 'bad key' },
        compute: () => Promise.resolve({ tables: [{ key: monthKey('L3', SYMBOL, '2024-01'), columns: indicatorColumns(1) }], summary: {}, rowsIn: 0, rowsOut: 0 }),
      });
      await assert.rejects(runLayer(h.ctx, spec), /L2 for USD\/COP cannot write L3\/USDCOP\/2024\/2024-01\.parquet: its files go under L2\/USDCOP\//);
      const [run] = await listRuns(db, { layer: 'L2', limit: 1 });
      assert.equal(run?.status, 'failed');
      assert.match(run?.error ?? '', /cannot write L3/);
      assert.equal(await archive.exists(monthKey('L3', SYMBOL, '2024-01')), false);
    });

    test('a rerun with the same inputs is skipped, points to the earlier run and keeps its hash', async () => {
      const h = harness(db, archive);
      const config = { scale: 3, case: 'rerun' };
      const first = await runLayer(h.ctx, h.spec({ config }));
      const second = await runLayer(h.ctx, h.spec({ config: { case: 'rerun', scale: 3 } }));
      assert.equal(h.computeCalls, 1, 'the rerun does not compute');
      assert.equal(second.status, 'skipped');
      assert.notEqual(second.runId, first.runId);
      assert.equal(second.sourceRunId, first.runId);
      assert.equal(second.datasetHash, first.datasetHash);
      assert.deepEqual(second.ref, { layer: 'L2', runId: first.runId, datasetHash: first.datasetHash });
      assert.deepEqual(second.manifest, first.manifest);
      assert.deepEqual(second.summary, (await runById(db, first.runId)).summary);
      const row = await runById(db, second.runId);
      assert.equal(row.status, 'skipped');
      assert.equal(row.summary['reusedRun'], first.runId);
      assert.equal(row.datasetHash, first.datasetHash);
      assert.equal(row.rowsOut, 10);
      assert.equal(h.progress.at(-1)?.phase, 'skipped');
    });

    test('a changed config gives a new run and a new hash', async () => {
      const h = harness(db, archive);
      const first = await runLayer(h.ctx, h.spec({ config: { scale: 4, case: 'config' } }));
      const changed = await runLayer(h.ctx, h.spec({ config: { scale: 5, case: 'config' } }));
      assert.equal(changed.status, 'completed');
      assert.notEqual(changed.datasetHash, first.datasetHash);
      assert.notEqual(changed.manifest.inputFingerprint, first.manifest.inputFingerprint);
      // Even a config change that does not change the data changes the hash: the config is part of the dataset.
      const samePlusNote = await runLayer(h.ctx, h.spec({ config: { scale: 5, case: 'config', note: 'x' } }));
      assert.equal(samePlusNote.status, 'completed');
      assert.notEqual(samePlusNote.datasetHash, changed.datasetHash);
      assert.deepEqual(samePlusNote.manifest.files.map((f) => f.sha256), changed.manifest.files.map((f) => f.sha256));
    });

    test('a new parent or code version recomputes; equal output reproduces the same dataset hash', async () => {
      const h = harness(db, archive);
      const config = { scale: 6, case: 'parents' };
      const first = await runLayer(h.ctx, h.spec({ config }));
      const newParent = await runLayer(h.ctx, h.spec({ config, parents: [{ ...L1_PARENT, runId: 2, datasetHash: '2'.repeat(64) }] }));
      assert.equal(newParent.status, 'completed');
      assert.equal(newParent.datasetHash, first.datasetHash, 'the hash is of the content and config, not of the run');
      assert.notEqual(newParent.manifest.inputFingerprint, first.manifest.inputFingerprint);
      const newCode = await runLayer({ ...h.ctx, codeVersion: { ...CODE, commit: 'f'.repeat(40) } }, h.spec({ config }));
      assert.equal(newCode.status, 'completed');
      assert.equal(h.computeCalls, 3);
    });

    test('a skip needs the files to still verify: a corrupted file makes the rerun recompute and repair it', async () => {
      const h = harness(db, archive);
      const config = { scale: 7, case: 'corrupt' };
      const first = await runLayer(h.ctx, h.spec({ config }));
      const victim = first.manifest.files[1]?.key ?? '';
      await archive.put(victim, new TextEncoder().encode('not the file'));
      const second = await runLayer(h.ctx, h.spec({ config }));
      assert.equal(second.status, 'completed');
      assert.equal(second.datasetHash, first.datasetHash);
      assert.equal(second.staleProblems.length, 1);
      assert.match(second.staleProblems[0] ?? '', new RegExp(`^${victim} has \\d+ bytes`));
      assert.deepEqual((await runById(db, second.runId)).summary['archive'], {
        files: 3,
        bytes: second.manifest.files.reduce((n, f) => n + f.bytes, 0),
        manifestKey: second.manifestKey,
        replacedStale: second.staleProblems,
      });
      assert.deepEqual(await verifyManifest(archive, first.manifest), [], 'the rewrite restored the same bytes');
      const third = await runLayer(h.ctx, h.spec({ config }));
      assert.equal(third.status, 'skipped');
      assert.equal(third.sourceRunId, second.runId, 'the newest identical run is reused');
    });

    test('an empty archive (e.g. another machine) recomputes to the same hash', async () => {
      const h = harness(db, archive);
      const config = { scale: 8, case: 'fresh archive' };
      const first = await runLayer(h.ctx, h.spec({ config }));
      const otherDir = await mkdtemp(join(tmpdir(), 'tasa-runner-'));
      try {
        const other = harness(db, openLocalArchive(otherDir));
        const again = await runLayer(other.ctx, other.spec({ config }));
        assert.equal(again.status, 'completed');
        assert.equal(again.datasetHash, first.datasetHash);
        assert.deepEqual(again.manifest.files, first.manifest.files);
        assert.deepEqual(again.staleProblems, first.manifest.files.map((f) => `${f.key} is missing.`));
      } finally {
        await rm(otherDir, { recursive: true, force: true });
      }
    });

    test('force recomputes even when an identical run exists; blobs are archived and listed', async () => {
      const h = harness(db, archive);
      const config = { scale: 9, case: 'force' };
      const blob = { key: layerFileKey('L2', SYMBOL, 'notes.json'), bytes: new TextEncoder().encode('{"a":1}'), rows: 0 };
      const withBlob = (): Promise<LayerOutput> => Promise.resolve({ tables: byMonth(indicatorColumns(9)), blobs: [blob], summary: {}, rowsIn: 10, rowsOut: 10 });
      const first = await runLayer(h.ctx, h.spec({ config, compute: withBlob }));
      const forced = await runLayer(h.ctx, h.spec({ config, compute: withBlob, force: true }));
      assert.equal(forced.status, 'completed');
      assert.equal(forced.datasetHash, first.datasetHash);
      assert.ok(first.manifest.files.some((f) => f.key === 'L2/USDCOP/notes.json' && f.bytes === 7));
      assert.equal((await loadLayerTables(archive, first.manifest)).length, 3, 'blobs are not tables');
    });

    test('loadLayerTables refuses a file whose checksum changed', async () => {
      const h = harness(db, archive);
      const result = await runLayer(h.ctx, h.spec({ config: { scale: 10, case: 'load' } }));
      const key = result.manifest.files[0]?.key ?? '';
      await archive.put(key, new Uint8Array([1, 2, 3]));
      await assert.rejects(loadLayerTables(archive, result.manifest), new RegExp(`${key} has sha256 [0-9a-f]+, but dataset ${result.datasetHash}`));
    });
  });
}

describe('layout', () => {
  test('keys by layer, symbol without slash, year and month', () => {
    assert.equal(symbolSegment('USD/COP'), 'USDCOP');
    assert.equal(monthKey('L3', 'USD/COP', '2024-07'), 'L3/USDCOP/2024/2024-07.parquet');
    assert.equal(layerFileKey('L5', 'USD/COP', 'policy.json'), 'L5/USDCOP/policy.json');
    assert.throws(() => monthKey('L3', 'USD/COP', '2024-13'), TasaError);
    assert.throws(() => symbolSegment('../etc'), TasaError);
    assert.throws(() => layerFileKey('L5', 'USD/COP', '../x'), TasaError);
  });

  test('rows split into consecutive monthly ranges; rows out of time order are refused', () => {
    assert.deepEqual(monthRanges(['2024-01', '2024-01', '2024-02', '2024-04']), [
      { month: '2024-01', start: 0, end: 2 },
      { month: '2024-02', start: 2, end: 3 },
      { month: '2024-04', start: 3, end: 4 },
    ]);
    assert.throws(() => monthRanges(['2024-02', '2024-01']), /Row 1 \(2024-01\) comes after 2024-02/);
  });

  test('tablesByMonth slices every column by the months given and refuses a month count that is not the row count', () => {
    const parts = byMonth(indicatorColumns(1));
    assert.deepEqual(parts.map((p) => [p.key, p.columns[2]?.values]), [
      ['L2/USDCOP/2024/2024-01.parquet', ['2024-01-02', '2024-01-02', '2024-01-31', '2024-01-31']],
      ['L2/USDCOP/2024/2024-02.parquet', ['2024-02-01', '2024-02-01', '2024-02-29', '2024-02-29']],
      ['L2/USDCOP/2024/2024-03.parquet', ['2024-03-01', '2024-03-01']],
    ]);
    assert.throws(() => tablesByMonth('L2', SYMBOL, indicatorColumns(1), ['2024-01']), /10 rows but 1 months/);
  });

  test('readCodeVersion reads package.json and the checkout commit without running git', async () => {
    const version = await readCodeVersion(process.cwd());
    assert.match(version.version, /^\d+\.\d+\.\d+/);
    assert.ok(version.commit === null || /^[0-9a-f]{40}$/.test(version.commit));
    assert.equal((await readCodeVersion(process.cwd(), 'abc123')).commit, 'abc123');
  });
});
