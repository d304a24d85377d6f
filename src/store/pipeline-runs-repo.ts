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
       AND ($4::bigint IS NULL OR id < $4)
     ORDER BY id DESC LIMIT $5`,
    [filter.layer ?? null, filter.symbol ?? null, filter.status ?? null, filter.beforeId ?? null, filter.limit ?? 100],
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
