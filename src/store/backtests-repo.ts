/**
 * Stored backtests (migration 006, table `backtests`): one row per run of a policy over a date
 * range, with its metrics, gates, a downsampled equity curve, the (capped) trade ledger and the
 * self-contained HTML report.
 *
 * Storage shapes (jsonb):
 * - `equity`: `{ initialEquity, bars, sessions, sessionsPerPoint, points: [time, equity, drawdown][] }`
 *   (StoredEquity), given already downsampled (`storedEquity` in src/research/equity-curve.ts keeps
 *   session closes and the maximum drawdown); the full curve is never stored.
 * - `trades`: `{ total, items }`: the LAST `maxTrades` trades (default 5,000) of `total`.
 * - `gates`: the GateReport, or JSON null when the run was not gated.
 */
import type { GateReport, PerformanceMetrics, StoredEquity, Trade } from '../contracts/api/research.ts';
import type { IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import type { Db } from './db.ts';
import { isoTimeOrNull } from './rows.ts';

export const MAX_STORED_TRADES = 5000;

export interface BacktestInput {
  /** The model id (registry) or baseline id that produced the positions. */
  policyId: string;
  symbol: string;
  /** Inclusive Bogota trading dates of the run. */
  fromDate: IsoDate;
  toDate: IsoDate;
  /** Anything that defines the run: costs, split, options. */
  config: Record<string, unknown>;
  metrics: PerformanceMetrics;
  /** null when the run was not gated (e.g. a baseline). */
  gates: GateReport | null;
  /** Whether the gates passed; null when not gated. */
  passed: boolean | null;
  /** The downsampled curve (`storedEquity` of the BacktestResult). */
  equity: StoredEquity;
  /** Every trade of the run: the last `maxTrades` are stored, with the total count. */
  trades: readonly Trade[];
  reportHtml: string | null;
  datasetHash: string | null;
  pipelineRunId: number | null;
  /** Epoch ms; defaults to the database clock. */
  createdAt?: number;
  /** Default MAX_STORED_TRADES (5,000). */
  maxTrades?: number;
}

/** A stored backtest without its curve, trades and report (listings). */
export interface BacktestSummary
  extends Pick<BacktestInput, 'policyId' | 'symbol' | 'fromDate' | 'toDate' | 'config' | 'metrics' | 'gates' | 'passed' | 'datasetHash' | 'pipelineRunId'> {
  id: number;
  hasReport: boolean;
  createdAt: number;
}

export interface StoredTrades {
  /** Trades in the run. */
  total: number;
  /** The last `items.length` of them, in time order. */
  items: Trade[];
}

export interface StoredBacktest extends BacktestSummary {
  equity: StoredEquity;
  trades: StoredTrades;
}

export interface BacktestFilter {
  policyId?: string;
  symbol?: string;
  /** Only ids strictly below this (the previous page's last id). */
  beforeId?: number;
  /** Newest first; default 50. */
  limit?: number;
}

const SUMMARY_COLUMNS = `id, policy_id, symbol, from_date, to_date, config, metrics, gates, passed, dataset_hash,
  pipeline_run_id, report_html IS NOT NULL AS has_report, created_at`;

interface SummaryRow {
  id: number;
  policy_id: string;
  symbol: string;
  from_date: string;
  to_date: string;
  config: Record<string, unknown>;
  metrics: PerformanceMetrics;
  gates: GateReport | null;
  passed: boolean | null;
  dataset_hash: string | null;
  pipeline_run_id: number | null;
  has_report: boolean;
  created_at: Date;
}

interface FullRow extends SummaryRow {
  equity: StoredEquity;
  trades: StoredTrades;
}

/** Stores one run and returns its id. */
export async function insertBacktest(db: Db, input: BacktestInput): Promise<number> {
  validate(input);
  const cap = input.maxTrades ?? MAX_STORED_TRADES;
  const trades: StoredTrades = { total: input.trades.length, items: input.trades.slice(Math.max(0, input.trades.length - cap)) };
  const [row] = await db.query<{ id: number }>(
    `INSERT INTO backtests (policy_id, symbol, from_date, to_date, config, metrics, gates, passed, equity, trades, report_html, dataset_hash, pipeline_run_id, created_at)
     VALUES ($1, $2, $3::date, $4::date, $5::text::jsonb, $6::text::jsonb, $7::text::jsonb, $8, $9::text::jsonb, $10::text::jsonb, $11, $12, $13::bigint,
       coalesce($14::timestamptz, now()))
     RETURNING id`,
    [
      input.policyId,
      input.symbol,
      input.fromDate,
      input.toDate,
      JSON.stringify(input.config),
      JSON.stringify(input.metrics),
      JSON.stringify(input.gates),
      input.passed,
      JSON.stringify(input.equity),
      JSON.stringify(trades),
      input.reportHtml,
      input.datasetHash,
      input.pipelineRunId,
      isoTimeOrNull(input.createdAt),
    ],
  );
  if (!row) throw new TasaError('internal', `Storing the backtest of ${input.policyId} returned no id.`, { input: input.policyId });
  return row.id;
}

function validate(input: BacktestInput): void {
  if (input.fromDate > input.toDate) {
    throw new TasaError('bad_argument', `A backtest needs fromDate <= toDate, got ${input.fromDate} after ${input.toDate}.`, { input: `${input.fromDate}..${input.toDate}` });
  }
  const cap = input.maxTrades ?? MAX_STORED_TRADES;
  if (!Number.isInteger(cap) || cap < 0) throw new TasaError('bad_argument', `maxTrades must be an integer >= 0, got ${cap}.`, { input: 'maxTrades' });
}

/** Runs matching every given filter, newest (highest id) first, without curve, trades or report. */
export async function listBacktests(db: Db, filter: BacktestFilter = {}): Promise<BacktestSummary[]> {
  const rows = await db.query<SummaryRow>(
    `SELECT ${SUMMARY_COLUMNS} FROM backtests
     WHERE ($1::text IS NULL OR policy_id = $1) AND ($2::text IS NULL OR symbol = $2) AND ($3::bigint IS NULL OR id < $3)
     ORDER BY id DESC LIMIT $4`,
    [filter.policyId ?? null, filter.symbol ?? null, filter.beforeId ?? null, filter.limit ?? 50],
  );
  return rows.map(toSummary);
}

/** One run with its curve and trades, or null when the id is unknown. */
export async function getBacktest(db: Db, id: number): Promise<StoredBacktest | null> {
  const [row] = await db.query<FullRow>(`SELECT ${SUMMARY_COLUMNS}, equity, trades FROM backtests WHERE id = $1::bigint`, [id]);
  return row ? { ...toSummary(row), equity: row.equity, trades: row.trades } : null;
}

/** The stored HTML report of a run; null when the run is unknown or has no report. */
export async function backtestReport(db: Db, id: number): Promise<string | null> {
  const [row] = await db.query<{ report_html: string | null }>('SELECT report_html FROM backtests WHERE id = $1::bigint', [id]);
  return row?.report_html ?? null;
}

/**
 * The newest run of each given policy over exactly this symbol and date range (for comparing a
 * model with the baselines run alongside it); policies without such a run are absent.
 */
export async function latestBacktestsOfPolicies(db: Db, symbol: string, fromDate: IsoDate, toDate: IsoDate, policyIds: readonly string[]): Promise<BacktestSummary[]> {
  if (policyIds.length === 0) return [];
  const rows = await db.query<SummaryRow>(
    `SELECT DISTINCT ON (policy_id) ${SUMMARY_COLUMNS} FROM backtests
     WHERE symbol = $1 AND from_date = $2::date AND to_date = $3::date AND policy_id = ANY($4::text[])
     ORDER BY policy_id, id DESC`,
    [symbol, fromDate, toDate, [...policyIds]],
  );
  return rows.map(toSummary);
}

/**
 * The newest run of each given policy over any range, or only among runs stored by a pipeline run
 * (L6 evaluates on the test split); policies without such a run are absent.
 */
export async function newestBacktestsOfPolicies(db: Db, policyIds: readonly string[], o: { pipelineOnly: boolean }): Promise<BacktestSummary[]> {
  if (policyIds.length === 0) return [];
  const rows = await db.query<SummaryRow>(
    `SELECT DISTINCT ON (policy_id) ${SUMMARY_COLUMNS} FROM backtests
     WHERE policy_id = ANY($1::text[]) AND (NOT $2::boolean OR pipeline_run_id IS NOT NULL)
     ORDER BY policy_id, id DESC`,
    [[...policyIds], o.pipelineOnly],
  );
  return rows.map(toSummary);
}

function toSummary(r: SummaryRow): BacktestSummary {
  return {
    id: r.id,
    policyId: r.policy_id,
    symbol: r.symbol,
    fromDate: r.from_date,
    toDate: r.to_date,
    config: r.config,
    metrics: r.metrics,
    gates: r.gates,
    passed: r.passed,
    datasetHash: r.dataset_hash,
    pipelineRunId: r.pipeline_run_id,
    hasReport: r.has_report,
    createdAt: r.created_at.getTime(),
  };
}
