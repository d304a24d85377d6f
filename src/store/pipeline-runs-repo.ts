/** One row per pipeline step run (import, clean, quality, ...): what ran, on what, and how it ended. */
import { TasaError } from '../errors.ts';
import type { Db } from './db.ts';
import { isoTimeOrNull, msOrNull } from './rows.ts';

export type RunStatus = 'running' | 'completed' | 'failed' | 'skipped';
export type FinishedRunStatus = Exclude<RunStatus, 'running'>;

export interface StartRunInput {
  layer: string;
  symbol: string | null;
  params: Record<string, unknown>;
  /** Epoch ms; defaults to the database clock. */
  at?: number;
}

export interface FinishRunInput {
  status: FinishedRunStatus;
  rowsIn: number | null;
  rowsOut: number | null;
  summary: Record<string, unknown>;
  manifest?: Record<string, unknown> | null;
  datasetHash?: string | null;
  error?: string | null;
  /** Epoch ms; defaults to the database clock. */
  at?: number;
}

export interface PipelineRun {
  id: number;
  layer: string;
  symbol: string | null;
  status: RunStatus;
  startedAt: number;
  finishedAt: number | null;
  rowsIn: number | null;
  rowsOut: number | null;
  params: Record<string, unknown>;
  summary: Record<string, unknown>;
  manifest: Record<string, unknown> | null;
  datasetHash: string | null;
  error: string | null;
}

export interface RunFilter {
  layer?: string;
  symbol?: string;
  status?: RunStatus;
  /** Newest first; default 100. */
  limit?: number;
  /** Keyset paging: runs with a smaller id only. */
  beforeId?: number;
  /** Runs of any of these layers (steps). */
  layers?: readonly string[];
  /** Runs started at or after this instant (epoch ms). */
  startedFrom?: number;
  /** Only runs that stored a manifest. */
  withManifest?: boolean;
}

/** Records a run as `running`; returns its id. */
export async function startRun(db: Db, run: StartRunInput): Promise<number> {
  const [row] = await db.query<{ id: number }>(
    `INSERT INTO pipeline_runs (layer, symbol, status, started_at, params)
     VALUES ($1, $2, 'running', coalesce($3::timestamptz, now()), $4::text::jsonb) RETURNING id`,
    [run.layer, run.symbol, isoTimeOrNull(run.at), JSON.stringify(run.params)],
  );
  if (!row) throw new TasaError('internal', 'pipeline_runs insert returned no id.');
  return row.id;
}

export async function finishRun(db: Db, id: number, end: FinishRunInput): Promise<void> {
  const rows = await db.query(
    `UPDATE pipeline_runs
     SET status = $2, finished_at = coalesce($3::timestamptz, now()), rows_in = $4, rows_out = $5,
         summary = $6::text::jsonb, manifest = $7::text::jsonb, dataset_hash = $8, error = $9
     WHERE id = $1 RETURNING id`,
    [id, end.status, isoTimeOrNull(end.at), end.rowsIn, end.rowsOut, JSON.stringify(end.summary), jsonOrNull(end.manifest), end.datasetHash ?? null, end.error ?? null],
  );
  if (rows.length === 0) throw new TasaError('not_found', `Pipeline run ${id} does not exist.`, { input: String(id) });
}

function jsonOrNull(value: Record<string, unknown> | null | undefined): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

interface RunRow {
  id: number;
  layer: string;
  symbol: string | null;
  status: RunStatus;
  started_at: Date;
  finished_at: Date | null;
  rows_in: number | null;
  rows_out: number | null;
  params: Record<string, unknown>;
  summary: Record<string, unknown>;
  manifest: Record<string, unknown> | null;
  dataset_hash: string | null;
  error: string | null;
}

/** Runs matching every given filter, newest first. */
export async function listRuns(db: Db, filter: RunFilter = {}): Promise<PipelineRun[]> {
  const rows = await db.query<RunRow>(
    `SELECT * FROM pipeline_runs
     WHERE ($1::text IS NULL OR layer = $1) AND ($2::text IS NULL OR symbol = $2) AND ($3::text IS NULL OR status = $3)
       AND ($4::bigint IS NULL OR id < $4) AND ($6::text[] IS NULL OR layer = ANY($6::text[]))
       AND ($7::timestamptz IS NULL OR started_at >= $7) AND (NOT $8::boolean OR manifest IS NOT NULL)
     ORDER BY id DESC LIMIT $5`,
    [
      filter.layer ?? null,
      filter.symbol ?? null,
      filter.status ?? null,
      filter.beforeId ?? null,
      filter.limit ?? 100,
      filter.layers === undefined ? null : [...filter.layers],
      isoTimeOrNull(filter.startedFrom),
      filter.withManifest === true,
    ],
  );
  return rows.map(toRun);
}

/** The run with this id; null when there is none. */
export async function getRun(db: Db, id: number): Promise<PipelineRun | null> {
  const [row] = await db.query<RunRow>('SELECT * FROM pipeline_runs WHERE id = $1::int8', [id]);
  return row === undefined ? null : toRun(row);
}

/**
 * The newest run of each of the given layers (steps), optionally only those with a status or
 * symbol: one row per layer that has any, keyed by layer.
 */
export async function latestRunPerLayer(db: Db, layers: readonly string[], filter: { symbol?: string; statuses?: readonly RunStatus[] } = {}): Promise<Map<string, PipelineRun>> {
  const rows = await db.query<RunRow>(
    `SELECT DISTINCT ON (layer) * FROM pipeline_runs
     WHERE layer = ANY($1::text[]) AND ($2::text IS NULL OR symbol = $2) AND ($3::text[] IS NULL OR status = ANY($3::text[]))
     ORDER BY layer, id DESC`,
    [[...layers], filter.symbol ?? null, filter.statuses === undefined ? null : [...filter.statuses]],
  );
  return new Map(rows.map((r) => [r.layer, toRun(r)]));
}

/**
 * Runs of the given layers for a symbol whose `params.from`..`params.to` (Bogota dates, as the
 * gap fill and the failsafe record them) overlap from..to and that wrote rows or failed, newest first.
 */
export async function runsTouchingDates(
  db: Db,
  filter: { layers: readonly string[]; symbol: string; from: string; to: string; limit: number },
): Promise<PipelineRun[]> {
  const rows = await db.query<RunRow>(
    `SELECT * FROM pipeline_runs
     WHERE layer = ANY($1::text[]) AND symbol = $2
       AND (params->>'from') COLLATE "C" <= $4 AND (params->>'to') COLLATE "C" >= $3
       AND (status = 'failed' OR coalesce(rows_out, 0) > 0)
     ORDER BY id DESC LIMIT $5`,
    [[...filter.layers], filter.symbol, filter.from, filter.to, filter.limit],
  );
  return rows.map(toRun);
}

function toRun(r: RunRow): PipelineRun {
  return {
    id: r.id,
    layer: r.layer,
    symbol: r.symbol,
    status: r.status,
    startedAt: r.started_at.getTime(),
    finishedAt: msOrNull(r.finished_at),
    rowsIn: r.rows_in,
    rowsOut: r.rows_out,
    params: r.params,
    summary: r.summary,
    manifest: r.manifest,
    datasetHash: r.dataset_hash,
    error: r.error,
  };
}

/** Every layer (step) that has recorded a run, sorted. */
export async function recordedLayers(db: Db): Promise<string[]> {
  const rows = await db.query<{ layer: string }>('SELECT DISTINCT layer FROM pipeline_runs ORDER BY layer');
  return rows.map((r) => r.layer);
}
