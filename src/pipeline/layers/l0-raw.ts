/**
 * L0 in the pipeline: the inventory of `raw_bars` over the range, not a copy of its rows.
 *
 * Why not the rows: `raw_bars` is already the immutable record of L0 (append-only, a trigger
 * refuses UPDATE and DELETE) and every row names the sha256 of the file or REST answer it came
 * from. Exporting its ~17 MB of raw text again on every change would double the store and take
 * longer than the rest of the pipeline, while adding no lineage. The archive gets, per month of
 * session dates in the symbol's market (the months L1 and the later layers are filed by) and per
 * origin, how many rows that origin holds, their first and last bar time and when they were
 * stored: enough to tell which files a dataset was built from and to notice any change.
 *
 * Skip check: the table is append-only, so (rows, highest id) over the range changes exactly when
 * a row is added; that pair is part of the layer's config, so an unchanged L0 is not recomputed.
 */
import type { MarketCalendar } from '../../domain/calendar.ts';
import { TasaError } from '../../errors.ts';
import type { Db } from '../../store/db.ts';
import { isoTime } from '../../store/rows.ts';
import { int32Column, stringColumn, timestampColumn } from '../archive/parquet-table.ts';
import type { LayerOutput, LayerSpec } from '../layer-runner.ts';
import { tablesByMonth } from '../layout.ts';
import type { TimeRange } from './l1-standardized.ts';
import { sessionMonthStarts } from './monthly.ts';

export interface RawSourceState {
  rows: number;
  maxId: number;
}

/** What the range of raw_bars holds now: changes whenever a row is added to it. */
export async function rawSourceState(db: Db, symbol: string, range: TimeRange): Promise<RawSourceState> {
  const [row] = await db.query<{ rows: number; max_id: number }>(
    'SELECT count(*)::int AS rows, coalesce(max(id), 0)::bigint AS max_id FROM raw_bars WHERE symbol = $1 AND time >= $2 AND time < $3',
    [symbol, isoTime(range.fromMs), isoTime(range.toMs)],
  );
  return { rows: row?.rows ?? 0, maxId: Number(row?.max_id ?? 0) };
}

interface InventoryRow {
  /** 1-based index into the month starts (width_bucket). */
  bucket: number;
  origin: string;
  sha256: string;
  rows: number;
  first_time: Date;
  last_time: Date;
  ingested_at: Date;
}

/** L0 of `symbol` over `range`; `calendar` is the symbol's market calendar (its months of session dates). */
export function l0Spec(db: Db, symbol: string, calendar: MarketCalendar, range: TimeRange, source: RawSourceState, force: boolean): LayerSpec {
  return {
    layer: 'L0',
    symbol,
    config: { from: range.from, to: range.to, content: 'raw_bars inventory per month and origin', source: { ...source } },
    parents: [],
    force,
    compute: () => computeInventory(db, symbol, calendar, range),
  };
}

async function computeInventory(db: Db, symbol: string, calendar: MarketCalendar, range: TimeRange): Promise<LayerOutput> {
  // The month bounds come from the calendar (one rule for every layer); SQL only buckets by them.
  const months = sessionMonthStarts(calendar, range.fromMs, range.toMs);
  const rows = await db.query<InventoryRow>(
    `SELECT width_bucket(time, $4::timestamptz[]) AS bucket, origin, origin_sha256 AS sha256,
            count(*)::int AS rows, min(time) AS first_time, max(time) AS last_time, min(ingested_at) AS ingested_at
     FROM raw_bars WHERE symbol = $1 AND time >= $2 AND time < $3
     GROUP BY 1, 2, 3
     ORDER BY 1, 3, 2`,
    [symbol, isoTime(range.fromMs), isoTime(range.toMs), months.map((m) => isoTime(m.from))],
  );
  if (rows.length === 0) {
    throw new TasaError('not_found', `No raw rows of ${symbol} are stored from ${range.from} to ${range.to}; import a file first (tasa import).`, { input: symbol });
  }
  const tables = tablesByMonth(
    'L0',
    symbol,
    [
      timestampColumn('first_time', rows.map((r) => r.first_time.getTime())),
      timestampColumn('last_time', rows.map((r) => r.last_time.getTime())),
      stringColumn('origin', rows.map((r) => r.origin)),
      stringColumn('origin_sha256', rows.map((r) => r.sha256)),
      int32Column('rows', rows.map((r) => r.rows)),
      timestampColumn('ingested_at', rows.map((r) => r.ingested_at.getTime())),
    ],
    rows.map((r) => monthOfBucket(months, r.bucket)),
  );
  const rawRows = rows.reduce((n, r) => n + r.rows, 0);
  return {
    tables: tables.map((t) => ({ ...t, metadata: { layer: 'L0', symbol } })),
    summary: { rawRows, origins: new Set(rows.map((r) => r.sha256)).size, months: tables.length },
    rowsIn: rawRows,
    rowsOut: rows.length,
  };
}

/** The month of a width_bucket index: every raw row lies in [range.fromMs, range.toMs), so inside the bounds. */
function monthOfBucket(months: ReadonlyArray<{ month: string }>, bucket: number): string {
  const month = months[Number(bucket) - 1]?.month;
  if (month === undefined) throw new TasaError('internal', `Raw rows fell in month bucket ${bucket} of ${months.length}.`);
  return month;
}
