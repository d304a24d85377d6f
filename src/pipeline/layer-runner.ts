/**
 * Runs one pipeline layer for one symbol with its lineage:
 *
 * 1. records the run in `pipeline_runs` (running, then completed / skipped / failed with the error);
 * 2. fingerprints its inputs (parents' dataset hashes + config + code version) and, when a
 *    completed run of the same layer and symbol had the same fingerprint and its files still
 *    verify, skips: the new row is `skipped` and points to that run (`summary.reusedRun`);
 * 3. otherwise computes, writes each table as Parquet to the archive, then the manifest (next to
 *    the files and in the run row), so the run's dataset hash names exactly what it wrote.
 */
import type { Clock } from '../clock.ts';
import { TasaError } from '../errors.ts';
import { recordedRun } from '../store/recorded-run.ts';
import type { Db } from '../store/db.ts';
import { listRuns, type PipelineRun } from '../store/pipeline-runs-repo.ts';
import type { ArchiveStore } from './archive/archive-store.ts';
import { readParquetTable, tableRows, writeParquetTable, type ParquetTable, type TableColumn } from './archive/parquet-table.ts';
import { layerPrefix, manifestKey, type LayerId } from './layout.ts';
import {
  buildManifest,
  inputFingerprint,
  mapLimit,
  parseManifest,
  sha256Hex,
  storeManifest,
  verifyManifest,
  type CodeVersion,
  type Manifest,
  type ManifestFile,
  type ParentRun,
} from './manifest.ts';

export interface LayerContext {
  db: Db;
  archive: ArchiveStore;
  clock: Clock;
  /** The running code's version (see `readCodeVersion`); part of every input fingerprint. */
  codeVersion: CodeVersion;
  onProgress?: (progress: LayerProgress) => void;
}

export type LayerPhase = 'checking' | 'computing' | 'writing' | 'completed' | 'skipped' | 'failed';

export interface LayerProgress {
  layer: LayerId;
  symbol: string;
  runId: number;
  phase: LayerPhase;
  /** Files written so far while `writing`; otherwise 0 of 0, or 1 of 1 once finished. */
  done: number;
  total: number;
}

/** A column table to be written as `key` (a `.parquet` key under `<layer>/<SYMBOL>/`, see layout.ts). */
export interface LayerTable {
  key: string;
  columns: TableColumn[];
  /** Parquet key/value metadata; must be deterministic. */
  metadata?: Record<string, string>;
}

/** A file that is not a table (model weights, an HTML report), written as given. */
export interface LayerBlob {
  key: string;
  bytes: Uint8Array;
  rows: number;
}

export interface LayerOutput<S extends Record<string, unknown> = Record<string, unknown>> {
  tables: LayerTable[];
  blobs?: LayerBlob[];
  /** Goes to `pipeline_runs.summary` (with `archive` and `timings` added). */
  summary: S;
  rowsIn: number;
  rowsOut: number;
}

export interface LayerSpec<S extends Record<string, unknown> = Record<string, unknown>> {
  layer: LayerId;
  symbol: string;
  /** Everything that changes the output besides the parents; JSON only (hashed canonically). */
  config: Record<string, unknown>;
  /** The datasets this layer reads (the `ref` of earlier results). */
  parents: readonly ParentRun[];
  compute: () => Promise<LayerOutput<S>>;
  /** Recompute even when an identical completed run exists. */
  force?: boolean;
}

export interface LayerRunResult {
  runId: number;
  status: 'completed' | 'skipped';
  /** The run that wrote the files: `runId` when completed, the earlier run when skipped. */
  sourceRunId: number;
  datasetHash: string;
  manifest: Manifest;
  manifestKey: string;
  /** The computed summary, or the reused run's. */
  summary: Record<string, unknown>;
  /** What a downstream layer lists in its `parents`. */
  ref: ParentRun;
  /** Why a matching earlier run was not reused (its files no longer verify); empty otherwise. */
  staleProblems: string[];
}

/** Files written at once: hides an object store's latency without flooding it. */
const WRITE_CONCURRENCY = 4;

export async function runLayer<S extends Record<string, unknown>>(ctx: LayerContext, spec: LayerSpec<S>): Promise<LayerRunResult> {
  const fingerprint = inputFingerprint({ layer: spec.layer, symbol: spec.symbol, config: spec.config, parents: spec.parents, codeVersion: ctx.codeVersion });
  const header = {
    layer: spec.layer,
    symbol: spec.symbol,
    params: { config: spec.config, parents: spec.parents, codeVersion: ctx.codeVersion, inputFingerprint: fingerprint },
  };
  let runId = -1;
  try {
    const { outcome: _outcome, ...result } = await recordedRun(ctx.db, ctx.clock, header, (id) => {
      runId = id;
      return executeLayer(ctx, spec, id, fingerprint);
    }, (r) => r.outcome);
    return result;
  } catch (err) {
    if (runId >= 0) report(ctx, spec, runId, 'failed', 0, 0);
    throw err;
  }
}

interface Executed extends LayerRunResult {
  outcome: { status: 'completed' | 'skipped'; rowsIn: number | null; rowsOut: number | null; summary: Record<string, unknown>; manifest: Manifest; datasetHash: string };
}

async function executeLayer<S extends Record<string, unknown>>(ctx: LayerContext, spec: LayerSpec<S>, runId: number, fingerprint: string): Promise<Executed> {
  const started = ctx.clock.now();
  report(ctx, spec, runId, 'checking', 0, 0);
  const previous = spec.force === true ? { run: null, problems: [] } : await reusableRun(ctx, spec, fingerprint);
  const checkMs = ctx.clock.now() - started;
  if (previous.run) return skipped(ctx, spec, runId, previous.run, checkMs);

  report(ctx, spec, runId, 'computing', 0, 0);
  const computeStart = ctx.clock.now();
  const output = await spec.compute();
  const writeStart = ctx.clock.now();
  const files = await writeOutputs(ctx, spec, runId, output);
  const manifest = buildManifest({ layer: spec.layer, symbol: spec.symbol, runId, files, codeVersion: ctx.codeVersion, config: spec.config, parentRuns: spec.parents, createdAt: ctx.clock.now() });
  const key = await storeManifest(ctx.archive, manifest);
  const bytes = files.reduce((n, f) => n + f.bytes, 0);
  const summary = {
    ...output.summary,
    archive: { files: files.length, bytes, manifestKey: key, ...(previous.problems.length > 0 ? { replacedStale: previous.problems } : {}) },
    timings: { checkMs, computeMs: writeStart - computeStart, writeMs: ctx.clock.now() - writeStart },
  };
  report(ctx, spec, runId, 'completed', 1, 1);
  return {
    runId,
    status: 'completed',
    sourceRunId: runId,
    datasetHash: manifest.datasetHash,
    manifest,
    manifestKey: key,
    summary,
    ref: { layer: spec.layer, runId, datasetHash: manifest.datasetHash },
    staleProblems: previous.problems,
    outcome: { status: 'completed', rowsIn: output.rowsIn, rowsOut: output.rowsOut, summary, manifest, datasetHash: manifest.datasetHash },
  };
}

function skipped(ctx: LayerContext, spec: LayerSpec<Record<string, unknown>>, runId: number, previous: ReusableRun, checkMs: number): Executed {
  const { run, manifest } = previous;
  const summary = { reusedRun: run.id, reason: 'same inputs, config and code as a completed run whose files still verify', timings: { checkMs } };
  report(ctx, spec, runId, 'skipped', 1, 1);
  return {
    runId,
    status: 'skipped',
    sourceRunId: run.id,
    datasetHash: manifest.datasetHash,
    manifest,
    manifestKey: manifestKey(manifest.layer, manifest.symbol, manifest.datasetHash),
    summary: run.summary,
    ref: { layer: spec.layer, runId: run.id, datasetHash: manifest.datasetHash },
    staleProblems: [],
    outcome: { status: 'skipped', rowsIn: run.rowsIn, rowsOut: run.rowsOut, summary, manifest, datasetHash: manifest.datasetHash },
  };
}

interface ReusableRun {
  run: PipelineRun;
  manifest: Manifest;
}

/** Runs looked at per page while searching for an earlier identical run. */
const RUN_PAGE = 100;

/**
 * The newest completed run of this layer and symbol with the same input fingerprint, if its
 * manifest still verifies against the archive; otherwise the problems that prevent reusing it.
 */
async function reusableRun(ctx: LayerContext, spec: LayerSpec<Record<string, unknown>>, fingerprint: string): Promise<{ run: ReusableRun | null; problems: string[] }> {
  const match = await findRunByFingerprint(ctx.db, spec.layer, spec.symbol, fingerprint);
  if (!match) return { run: null, problems: [] };
  let manifest: Manifest;
  try {
    manifest = parseManifest(match.manifest, `of run ${match.id}`);
  } catch (err) {
    return { run: null, problems: [err instanceof Error ? err.message : String(err)] };
  }
  const problems = await verifyManifest(ctx.archive, manifest);
  return problems.length === 0 ? { run: { run: match, manifest }, problems } : { run: null, problems };
}

async function findRunByFingerprint(db: Db, layer: LayerId, symbol: string, fingerprint: string): Promise<PipelineRun | null> {
  let beforeId: number | undefined;
  for (;;) {
    const page = await listRuns(db, { layer, symbol, status: 'completed', limit: RUN_PAGE, ...(beforeId === undefined ? {} : { beforeId }) });
    const hit = page.find((r) => r.params['inputFingerprint'] === fingerprint && r.manifest !== null);
    if (hit) return hit;
    const last = page[page.length - 1];
    if (!last || page.length < RUN_PAGE) return null;
    beforeId = last.id;
  }
}

/** Encodes every table and blob, checks the keys belong to this layer and symbol, and writes them. */
async function writeOutputs(ctx: LayerContext, spec: LayerSpec<Record<string, unknown>>, runId: number, output: LayerOutput<Record<string, unknown>>): Promise<ManifestFile[]> {
  const prefix = layerPrefix(spec.layer, spec.symbol);
  const items: Array<{ key: string; rows: number; encode: () => Uint8Array }> = [
    ...output.tables.map((t) => ({ key: t.key, rows: tableRows(t.columns), encode: () => writeParquetTable(t.columns, t.metadata === undefined ? {} : { metadata: t.metadata }) })),
    ...(output.blobs ?? []).map((b) => ({ key: b.key, rows: b.rows, encode: () => b.bytes })),
  ];
  const seen = new Set<string>();
  for (const item of items) {
    if (!item.key.startsWith(prefix) || item.key.startsWith(`${prefix}manifests/`)) {
      throw new TasaError('bad_input', `${spec.layer} for ${spec.symbol} cannot write ${item.key}: its files go under ${prefix} (not manifests/).`, { input: item.key });
    }
    if (seen.has(item.key)) throw new TasaError('bad_input', `${spec.layer} for ${spec.symbol} writes ${item.key} twice.`, { input: item.key });
    seen.add(item.key);
  }
  let done = 0;
  report(ctx, spec, runId, 'writing', 0, items.length);
  return mapLimit(items, WRITE_CONCURRENCY, async (item) => {
    // Encoded one at a time as the writers get to it, so at most a few files are in memory.
    const bytes = item.encode();
    await ctx.archive.put(item.key, bytes);
    report(ctx, spec, runId, 'writing', ++done, items.length);
    return { key: item.key, rows: item.rows, bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
  });
}

function report(ctx: LayerContext, spec: { layer: LayerId; symbol: string }, runId: number, phase: LayerPhase, done: number, total: number): void {
  ctx.onProgress?.({ layer: spec.layer, symbol: spec.symbol, runId, phase, done, total });
}

/**
 * The Parquet tables of a dataset, read back from the archive (what a downstream layer uses
 * when its parent was skipped). Each file's sha256 is checked against the manifest first.
 */
export async function loadLayerTables(archive: ArchiveStore, manifest: Manifest): Promise<Array<{ key: string; table: ParquetTable }>> {
  const tables = manifest.files.filter((f) => f.key.endsWith('.parquet'));
  return mapLimit(tables, WRITE_CONCURRENCY, async (file) => {
    const bytes = await archive.get(file.key);
    const sha = sha256Hex(bytes);
    if (sha !== file.sha256) {
      throw new TasaError('bad_input', `${file.key} has sha256 ${sha}, but dataset ${manifest.datasetHash} was written with ${file.sha256}.`, {
        input: file.key,
        hint: 'Rerun the layer that wrote it.',
      });
    }
    return { key: file.key, table: await readParquetTable(bytes) };
  });
}
