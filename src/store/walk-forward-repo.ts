/**
 * Walk-forward runs and their folds (migrations 015, 016). A run is created with all its folds
 * queued; a worker claims a fold (queued, or running when an earlier worker died with it) under a
 * new claim epoch and stores its result or error under that epoch only, so an older claimant
 * still running cannot write over it; the run is finished with the assembled report. The process
 * that waits for the folds beats the run's heartbeat; a running run whose heartbeat stopped is
 * failed as stale. Starting, finishing and failing a run are audited in the same transaction.
 * `config`, `plan`, `result` and `report` are JSON whose shapes belong to pipeline/walk-forward-run.ts.
 */
import { TasaError } from '../errors.ts';
import { appendAudit } from './audit-repo.ts';
import type { Db } from './db.ts';
import { isoTime, msOrNull } from './rows.ts';

export type WalkForwardStatus = 'running' | 'completed' | 'failed';
export type FoldStatus = 'queued' | 'running' | 'completed' | 'failed';

export interface WalkForwardRunInput {
  symbol: string;
  config: Record<string, unknown>;
  fingerprint: string;
  datasetHash: string | null;
  researchHash: string | null;
  /** One plan per fold, in fold order. */
  plans: readonly Record<string, unknown>[];
  createdAt: number;
  /** Who started it, for the audit log. */
  actor: string;
}

export interface StoredWalkForwardRun {
  id: number;
  symbol: string;
  status: WalkForwardStatus;
  config: Record<string, unknown>;
  fingerprint: string;
  datasetHash: string | null;
  researchHash: string | null;
  folds: number;
  report: Record<string, unknown> | null;
  error: string | null;
  createdAt: number;
  finishedAt: number | null;
}

export interface StoredFold {
  fold: number;
  status: FoldStatus;
  plan: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  worker: string | null;
}

interface RunRow {
  id: number | string;
  symbol: string;
  status: WalkForwardStatus;
  config: Record<string, unknown>;
  fingerprint: string;
  dataset_hash: string | null;
  research_hash: string | null;
  folds: number;
  report: Record<string, unknown> | null;
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

const RUN_COLUMNS = 'id, symbol, status, config, fingerprint, dataset_hash, research_hash, folds, report, error, created_at, finished_at';

function runOf(r: RunRow): StoredWalkForwardRun {
  return {
    id: Number(r.id),
    symbol: r.symbol,
    status: r.status,
    config: r.config,
    fingerprint: r.fingerprint,
    datasetHash: r.dataset_hash,
    researchHash: r.research_hash,
    folds: r.folds,
    report: r.report,
    error: r.error,
    createdAt: r.created_at.getTime(),
    finishedAt: msOrNull(r.finished_at),
  };
}

/** The audit entity of a run. */
function runEntity(id: number): string {
  return `walk-forward:${id}`;
}

/** The run and its folds (queued) and its audit entry, in one transaction; returns the run id. */
export async function insertWalkForwardRun(db: Db, input: WalkForwardRunInput): Promise<number> {
  if (input.plans.length === 0) throw new TasaError('bad_argument', 'A walk-forward run needs at least one fold.', { input: 'plans' });
  return db.transaction(async (tx) => {
    const [row] = await tx.query<{ id: number | string }>(
      `INSERT INTO walk_forward_runs (symbol, config, fingerprint, dataset_hash, research_hash, folds, created_at, heartbeat_at)
       VALUES ($1, $2::text::jsonb, $3, $4, $5, $6, $7::timestamptz, now()) RETURNING id`,
      [input.symbol, JSON.stringify(input.config), input.fingerprint, input.datasetHash, input.researchHash, input.plans.length, isoTime(input.createdAt)],
    );
    const id = Number(row!.id);
    for (const [fold, plan] of input.plans.entries()) {
      await tx.query('INSERT INTO walk_forward_folds (run_id, fold, plan) VALUES ($1, $2, $3::text::jsonb)', [id, fold, JSON.stringify(plan)]);
    }
    const details = { symbol: input.symbol, folds: input.plans.length, fingerprint: input.fingerprint, datasetHash: input.datasetHash, researchHash: input.researchHash };
    await appendAudit(tx, [{ actor: input.actor, action: 'walk-forward.start', entity: runEntity(id), details, at: input.createdAt }]);
    return id;
  });
}

export async function getWalkForwardRun(db: Db, id: number): Promise<StoredWalkForwardRun | null> {
  const [row] = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM walk_forward_runs WHERE id = $1`, [id]);
  return row ? runOf(row) : null;
}

/** The HTML report of a completed run; null when there is none. */
export async function walkForwardReportHtml(db: Db, id: number): Promise<string | null> {
  const [row] = await db.query<{ report_html: string | null }>('SELECT report_html FROM walk_forward_runs WHERE id = $1', [id]);
  return row?.report_html ?? null;
}

export interface WalkForwardFilter {
  symbol?: string;
  status?: WalkForwardStatus;
  fingerprint?: string;
  /** Keyset paging: only runs with a smaller id. */
  beforeId?: number;
  /** Newest first; default 20. */
  limit?: number;
}

export async function listWalkForwardRuns(db: Db, f: WalkForwardFilter = {}): Promise<StoredWalkForwardRun[]> {
  const rows = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM walk_forward_runs
     WHERE ($1::text IS NULL OR symbol = $1) AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR fingerprint = $3)
       AND ($5::bigint IS NULL OR id < $5)
     ORDER BY id DESC LIMIT $4`,
    [f.symbol ?? null, f.status ?? null, f.fingerprint ?? null, f.limit ?? 20, f.beforeId ?? null],
  );
  return rows.map(runOf);
}

export interface FoldClaim {
  config: Record<string, unknown>;
  plan: Record<string, unknown>;
  /** The claim's epoch: `finishFold` stores the outcome only while it is the fold's latest. */
  epoch: number;
}

/**
 * Marks the fold running for `worker` under the next claim epoch and returns the run's config and
 * the fold's plan; null when the fold is already completed or failed (a job delivered twice does
 * the work once).
 */
export async function claimFold(db: Db, runId: number, fold: number, worker: string, now: number): Promise<FoldClaim | null> {
  const [row] = await db.query<{ config: Record<string, unknown>; plan: Record<string, unknown>; claim_epoch: number }>(
    `UPDATE walk_forward_folds f SET status = 'running', worker = $3, started_at = $4::timestamptz, claim_epoch = f.claim_epoch + 1
     FROM walk_forward_runs r
     WHERE f.run_id = $1 AND f.fold = $2 AND r.id = f.run_id AND f.status IN ('queued', 'running')
     RETURNING r.config, f.plan, f.claim_epoch`,
    [runId, fold, worker, isoTime(now)],
  );
  return row ? { config: row.config, plan: row.plan, epoch: row.claim_epoch } : null;
}

/** Stores the fold's outcome under claim `epoch`; false (nothing written) when a later claim or an outcome superseded it. */
export async function finishFold(db: Db, runId: number, fold: number, epoch: number, outcome: { result: Record<string, unknown> } | { error: string }, now: number): Promise<boolean> {
  const done = 'result' in outcome;
  const rows = await db.query(
    `UPDATE walk_forward_folds SET status = $3, result = $4::text::jsonb, error = $5, finished_at = $6::timestamptz
     WHERE run_id = $1 AND fold = $2 AND claim_epoch = $7 AND status = 'running' RETURNING fold`,
    [runId, fold, done ? 'completed' : 'failed', done ? JSON.stringify(outcome.result) : null, done ? null : outcome.error, isoTime(now), epoch],
  );
  return rows.length === 1;
}

export async function listFolds(db: Db, runId: number): Promise<StoredFold[]> {
  const rows = await db.query<StoredFold>('SELECT fold, status, plan, result, error, worker FROM walk_forward_folds WHERE run_id = $1 ORDER BY fold', [runId]);
  return rows.map((r) => ({ fold: r.fold, status: r.status, plan: r.plan, result: r.result, error: r.error, worker: r.worker }));
}

/** Completes the run with its report, or fails it with the error, and audits it (`actor`), in one transaction. */
export async function finishWalkForwardRun(
  db: Db,
  id: number,
  outcome: { report: Record<string, unknown>; reportHtml: string } | { error: string },
  now: number,
  actor: string,
): Promise<void> {
  const done = 'report' in outcome;
  await db.transaction(async (tx) => {
    const [row] = await tx.query<{ symbol: string }>(
      `UPDATE walk_forward_runs SET status = $2, report = $3::text::jsonb, report_html = $4, error = $5, finished_at = $6::timestamptz
       WHERE id = $1 AND status = 'running' RETURNING symbol`,
      [id, done ? 'completed' : 'failed', done ? JSON.stringify(outcome.report) : null, done ? outcome.reportHtml : null, done ? null : outcome.error, isoTime(now)],
    );
    if (row === undefined) throw await notRunning(tx, id);
    const details = done ? { symbol: row.symbol, verdict: outcome.report['verdict'] ?? null } : { symbol: row.symbol, error: outcome.error };
    await appendAudit(tx, [{ actor, action: done ? 'walk-forward.complete' : 'walk-forward.fail', entity: runEntity(id), details, at: now }]);
  });
}

/** Why a run cannot be finished: it does not exist, or it is no longer running (failed as stale, or finished). */
async function notRunning(tx: Db, id: number): Promise<TasaError> {
  const [run] = await tx.query<{ status: string }>('SELECT status FROM walk_forward_runs WHERE id = $1', [id]);
  if (run === undefined) return new TasaError('not_found', `There is no walk-forward run ${id}.`, { input: String(id) });
  return new TasaError('conflict', `Walk-forward run ${id} is ${run.status}, no longer running, so its outcome is not recorded.`, { input: String(id) });
}

/**
 * The waiting process is alive: the run's heartbeat is the database's time. Heartbeats use the
 * database clock, not the process's: the process that beats and the one that judges staleness
 * may run different clocks (a simulated clock under `tasa up`, the system clock in the CLI).
 */
export async function beatWalkForwardRun(db: Db, id: number): Promise<void> {
  await db.query(`UPDATE walk_forward_runs SET heartbeat_at = now() WHERE id = $1 AND status = 'running'`, [id]);
}

/**
 * Fails every running run whose heartbeat (or start, before the first beat) is more than
 * `staleAfterMs` old by the database's clock, with `reason`, audited as `actor` at `now`, in one
 * transaction; returns their ids.
 */
export async function failStaleWalkForwardRuns(db: Db, staleAfterMs: number, now: number, reason: string, actor: string): Promise<number[]> {
  return db.transaction(async (tx) => {
    const rows = await tx.query<{ id: number | string; symbol: string; heartbeat_at: Date }>(
      `UPDATE walk_forward_runs SET status = 'failed', error = $2, finished_at = $3::timestamptz
       WHERE status = 'running' AND coalesce(heartbeat_at, created_at) < now() - $1::float8 * interval '1 millisecond'
       RETURNING id, symbol, coalesce(heartbeat_at, created_at) AS heartbeat_at`,
      [staleAfterMs, reason, isoTime(now)],
    );
    const entries = rows.map((r) => ({
      actor,
      action: 'walk-forward.fail',
      entity: runEntity(Number(r.id)),
      details: { symbol: r.symbol, error: reason, lastHeartbeat: r.heartbeat_at.toISOString() },
      at: now,
    }));
    await appendAudit(tx, entries);
    return rows.map((r) => Number(r.id));
  });
}
