/** L0 storage: every received row as it was, parsed or not. The table is append-only. */
import type { ParsedRawBar } from '../domain/raw-bar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { Db } from './db.ts';
import { isoTime } from './rows.ts';
import { columnNames, loadRows, stageRows, unlessDuplicate, type Column } from './staging.ts';

export interface RawBarOrigin {
  /** File name or request description. */
  name: string;
  /** SHA-256 (hex) of the whole file or response: re-importing the same content inserts nothing. */
  sha256: string;
}

export interface RawBarInput {
  lineNo: number;
  raw: string;
  /** Null when the row could not be parsed; it is still stored. */
  parsed: ParsedRawBar | null;
  sourceLabel: string | null;
}

const RAW_BAR_COLUMNS: readonly Column[] = [
  { name: 'symbol', type: 'text' },
  { name: 'origin', type: 'text' },
  { name: 'origin_sha256', type: 'text' },
  { name: 'line_no', type: 'int' },
  { name: 'raw', type: 'text' },
  { name: 'time', type: 'timestamptz' },
  { name: 'open', type: 'float8' },
  { name: 'high', type: 'float8' },
  { name: 'low', type: 'float8' },
  { name: 'close', type: 'float8' },
  { name: 'volume', type: 'float8' },
  { name: 'source_label', type: 'text' },
];
const RAW_BAR_COLUMN_LIST = columnNames(RAW_BAR_COLUMNS).join(', ');

/**
 * Stores rows of one file or request (all of it, or one batch of its lines) in one transaction;
 * returns how many were new. Idempotent per (sha256, line). Lines of the file never stored before
 * are COPied straight in (the fast, common case); otherwise rows are staged and merged with
 * ON CONFLICT DO NOTHING.
 */
export async function insertRawBars(db: Db, symbol: SymbolCode, origin: RawBarOrigin, rows: RawBarInput[]): Promise<number> {
  if (rows.length === 0) return 0;
  const tuples = rawBarTuples(symbol, origin, rows);
  return db.transaction(async (tx) => {
    const unseen = !(await anyLineStored(tx, origin.sha256, rows));
    if (unseen && (await unlessDuplicate(tx, (sp) => loadRows(sp, 'raw_bars', RAW_BAR_COLUMNS, tuples)))) return rows.length;
    await stageRows(tx, 'tasa_raw_bars_input', RAW_BAR_COLUMNS, tuples);
    const [result] = await tx.query<{ n: number }>(
      `WITH inserted AS (
         INSERT INTO raw_bars (${RAW_BAR_COLUMN_LIST}) SELECT ${RAW_BAR_COLUMN_LIST} FROM tasa_raw_bars_input
         ON CONFLICT (origin_sha256, line_no) DO NOTHING RETURNING 1)
       SELECT count(*)::int AS n FROM inserted`,
    );
    return result?.n ?? 0;
  });
}

/** Whether any line between the rows' first and last line number of this origin is stored (one index probe). */
async function anyLineStored(db: Db, sha256: string, rows: readonly RawBarInput[]): Promise<boolean> {
  let first = Infinity;
  let last = -Infinity;
  for (const r of rows) {
    if (r.lineNo < first) first = r.lineNo;
    if (r.lineNo > last) last = r.lineNo;
  }
  const [row] = await db.query<{ stored: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM raw_bars WHERE origin_sha256 = $1 AND line_no BETWEEN $2 AND $3) AS stored',
    [sha256, first, last],
  );
  return row?.stored ?? false;
}

/** Values in RAW_BAR_COLUMNS order; an unparsed row has no time and no prices. */
function rawBarTuples(symbol: SymbolCode, origin: RawBarOrigin, rows: readonly RawBarInput[]): unknown[][] {
  return rows.map((r) => {
    const p = r.parsed;
    if (p === null) return [symbol, origin.name, origin.sha256, r.lineNo, r.raw, null, null, null, null, null, null, r.sourceLabel];
    return [symbol, origin.name, origin.sha256, r.lineNo, r.raw, isoTime(p.time), p.open, p.high, p.low, p.close, p.volume, r.sourceLabel];
  });
}

interface ParsedRawBarRow {
  line_no: number;
  time: Date;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number | null;
  source_label: string | null;
}

/**
 * Parsed raw rows with time in [fromMs, toMs), by time then line (the same instant may come from
 * several files). `excludeOriginSha256` leaves out one file, e.g. the one being imported;
 * `originSha256` reads that file's rows only.
 */
export async function rawBarsBetween(
  db: Db,
  symbol: SymbolCode,
  fromMs: number,
  toMs: number,
  opts: { excludeOriginSha256?: string; originSha256?: string } = {},
): Promise<ParsedRawBar[]> {
  const rows = await db.query<ParsedRawBarRow>(
    `SELECT line_no, time, open, high, low, close, volume, source_label
     FROM raw_bars
     WHERE symbol = $1 AND time >= $2 AND time < $3 AND ($4::text IS NULL OR origin_sha256 <> $4) AND ($5::text IS NULL OR origin_sha256 = $5)
     ORDER BY time, line_no, id`,
    [symbol, isoTime(fromMs), isoTime(toMs), opts.excludeOriginSha256 ?? null, opts.originSha256 ?? null],
  );
  return rows.map((r) => ({
    lineNo: r.line_no,
    time: r.time.getTime(),
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: r.volume,
    sourceLabel: r.source_label,
  }));
}

/** How many rows of the file with this content hash are already stored (0 = never imported). */
export async function originImported(db: Db, sha256: string): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM raw_bars WHERE origin_sha256 = $1', [sha256]);
  return row?.n ?? 0;
}

/** One origin (file or REST answer) of the raw rows of a period. */
export interface RawOriginSummary {
  origin: string;
  sha256: string;
  /** Parsed rows with time in the period. */
  rowsInPeriod: number;
  /** Every row stored from this origin (any time, unparsed ones included). */
  rowsTotal: number;
  /** Epoch ms of the first and last parsed row in the period. */
  firstTime: number;
  lastTime: number;
  /** When its first row was stored, epoch ms. */
  ingestedAt: number;
}

/** The origins of the raw rows with time in [fromMs, toMs), by ingest time. */
export async function rawOriginsBetween(db: Db, symbol: SymbolCode, fromMs: number, toMs: number): Promise<RawOriginSummary[]> {
  const rows = await db.query<{ origin: string; sha256: string; rows_in_period: number; rows_total: number; first_time: Date; last_time: Date; ingested_at: Date }>(
    `WITH inside AS (
       SELECT origin, origin_sha256, count(*)::int AS rows_in_period, min(time) AS first_time, max(time) AS last_time
       FROM raw_bars WHERE symbol = $1 AND time >= $2 AND time < $3
       GROUP BY origin, origin_sha256)
     SELECT i.origin, i.origin_sha256 AS sha256, i.rows_in_period, i.first_time, i.last_time, t.rows_total, t.ingested_at
     FROM inside i
     CROSS JOIN LATERAL (
       SELECT count(*)::int AS rows_total, min(ingested_at) AS ingested_at FROM raw_bars r WHERE r.origin_sha256 = i.origin_sha256 AND r.origin = i.origin
     ) t
     ORDER BY t.ingested_at, i.origin`,
    [symbol, isoTime(fromMs), isoTime(toMs)],
  );
  return rows.map((r) => ({
    origin: r.origin,
    sha256: r.sha256,
    rowsInPeriod: r.rows_in_period,
    rowsTotal: r.rows_total,
    firstTime: r.first_time.getTime(),
    lastTime: r.last_time.getTime(),
    ingestedAt: r.ingested_at.getTime(),
  }));
}
