/**
 * L1 in the pipeline: the standardized `bars` of the range, exported as monthly Parquet. The
 * bars themselves are made by the foundation (`tasa import`, live ingestion, backfills); this
 * layer records which bars a dataset was built from and keeps them in the archive.
 *
 * Skip check: bars are never deleted, and every change to a bar raises its revision (the old
 * values go to bar_revisions), so (count, sum of revisions) over the range grows whenever
 * anything in it changes. That pair, with the first and last bar time, is part of the config.
 *
 * Reading 5.5 years of bars row by row costs seconds on the embedded store (result rows are
 * decoded one value at a time in WASM), so they are read as one CSV text per year, built by
 * PostgreSQL. float8 text is exact (shortest round-trip form, PostgreSQL 12+), times are epoch ms.
 */
import type { Bar, BarFlag, BarSource } from '../../domain/bar.ts';
import { sessionDateOf, type MarketCalendar } from '../../domain/calendar.ts';
import { isIsoDate, type IsoDate } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import { storedBarsSummary } from '../../store/bars-repo.ts';
import type { Db } from '../../store/db.ts';
import { isoTime } from '../../store/rows.ts';
import { columnOf, doubleColumn, float64Of, int32Column, stringColumn, stringsOf, timestampColumn, type ParquetTable } from '../archive/parquet-table.ts';
import type { LayerOutput, LayerSpec } from '../layer-runner.ts';
import type { ParentRun } from '../manifest.ts';
import { monthlyPartitions } from './monthly.ts';

/** Inclusive market (session) dates and the instants they span: [fromMs, toMs). */
export interface TimeRange {
  from: IsoDate;
  to: IsoDate;
  fromMs: number;
  toMs: number;
}

/** The instants come from the symbol's calendar: USD/COP's Bogota days; EUR/USD's from the evening before `from`. */
export function timeRange(calendar: MarketCalendar, from: IsoDate, to: IsoDate): TimeRange {
  for (const [name, date] of [['from', from], ['to', to]] as const) {
    if (!isIsoDate(date)) throw new TasaError('bad_argument', `The pipeline's ${name} must be a date YYYY-MM-DD, got "${date}".`, { input: name });
  }
  if (to < from) throw new TasaError('bad_argument', `The pipeline's to ${to} is before its from ${from}.`, { input: `${from}..${to}` });
  const span = calendar.instantsOfDates(from, to);
  return { from, to, fromMs: span.from, toMs: span.to };
}

/**
 * The range asked for, with a missing end taken from the stored bars (first / last bar date): of
 * the real history when there is any, else of the simulated bars, since a dataset never mixes the
 * two (`assertOneProvenance`).
 */
export async function resolveRange(db: Db, calendar: MarketCalendar, symbol: string, from: IsoDate | undefined, to: IsoDate | undefined): Promise<TimeRange> {
  if (from !== undefined && to !== undefined) return timeRange(calendar, from, to);
  const real = await storedBarsSummary(db, symbol, 'real');
  const stored = real.count > 0 ? real : await storedBarsSummary(db, symbol, 'simulated');
  if (stored.first === null || stored.last === null) {
    throw new TasaError('not_found', `No bars of ${symbol} are stored; import history first (tasa import).`, { input: symbol });
  }
  return timeRange(calendar, from ?? sessionDateOf(calendar, stored.first), to ?? sessionDateOf(calendar, stored.last));
}

export interface BarSourceState {
  bars: number;
  /** Of those, bars the simulator made (source simulator). */
  simulated: number;
  revisions: number;
  /** First and last bar open time in the range, ISO UTC; null when there is none. */
  first: string | null;
  last: string | null;
}

export async function barSourceState(db: Db, symbol: string, range: TimeRange): Promise<BarSourceState> {
  const [row] = await db.query<{ bars: number; simulated: number; revisions: number; first: Date | null; last: Date | null }>(
    `SELECT count(*)::int AS bars, (count(*) FILTER (WHERE source = 'simulator'))::int AS simulated,
            coalesce(sum(revision), 0)::bigint AS revisions, min(time) AS first, max(time) AS last
     FROM bars WHERE symbol = $1 AND time >= $2 AND time < $3`,
    [symbol, isoTime(range.fromMs), isoTime(range.toMs)],
  );
  return {
    bars: row?.bars ?? 0,
    simulated: row?.simulated ?? 0,
    revisions: Number(row?.revisions ?? 0),
    first: row?.first?.toISOString() ?? null,
    last: row?.last?.toISOString() ?? null,
  };
}

/**
 * A dataset is built from real bars or from simulated ones, never both: indicators, features and
 * a backtest across the seam would join two unrelated price paths as one series.
 */
export function assertOneProvenance(symbol: string, range: TimeRange, state: BarSourceState): void {
  if (state.simulated === 0 || state.simulated === state.bars) return;
  throw new TasaError(
    'bad_argument',
    `${range.from}..${range.to} of ${symbol} holds ${state.simulated} simulated bars (source simulator) and ${state.bars - state.simulated} real ones; a pipeline run uses one of the two.`,
    { input: `${range.from}..${range.to}`, hint: "Give --from/--to inside the real history or inside the simulated bars (tasa bars shows each bar's source)." },
  );
}

const YEAR_MS = 366 * 24 * 3600_000;

/** Every bar of the range, by time (see the file comment for why through CSV text). */
export async function loadBars(db: Db, symbol: string, range: TimeRange): Promise<Bar[]> {
  const bars: Bar[] = [];
  for (let start = range.fromMs; start < range.toMs; start += YEAR_MS) {
    const end = Math.min(start + YEAR_MS, range.toMs);
    const [row] = await db.query<{ csv: string | null }>(
      `SELECT string_agg(concat((extract(epoch FROM time) * 1000)::bigint, ',', open, ',', high, ',', low, ',', close, ',', volume, ',',
                                tick_count, ',', source, ',', revision, ',', array_to_string(flags, '|')), E'\\n' ORDER BY time) AS csv
       FROM bars WHERE symbol = $1 AND time >= $2 AND time < $3`,
      [symbol, isoTime(start), isoTime(end)],
    );
    if (row?.csv) for (const line of row.csv.split('\n')) bars.push(parseBarLine(symbol, line));
  }
  return bars;
}

function parseBarLine(symbol: string, line: string): Bar {
  const f = line.split(',');
  if (f.length !== 10) throw new TasaError('internal', `A bar row read back from the database has ${f.length} fields, not 10: ${line}`);
  return {
    symbol,
    time: Number(f[0]),
    open: Number(f[1]),
    high: Number(f[2]),
    low: Number(f[3]),
    close: Number(f[4]),
    volume: f[5] === '' ? null : Number(f[5]),
    tickCount: f[6] === '' ? null : Number(f[6]),
    source: f[7] as BarSource,
    revision: Number(f[8]),
    flags: f[9] === '' ? [] : (f[9]!.split('|') as BarFlag[]),
  };
}

/** `calendar`: the instrument's market calendar, whose session (trade) dates label and partition the bars. */
export function l1Spec(symbol: string, range: TimeRange, source: BarSourceState, parents: readonly ParentRun[], force: boolean, load: () => Promise<Bar[]>, calendar: MarketCalendar): LayerSpec {
  return {
    layer: 'L1',
    symbol,
    config: { from: range.from, to: range.to, source: { ...source } },
    parents,
    force,
    compute: async (): Promise<LayerOutput> => {
      const bars = await load();
      if (bars.length === 0) throw new TasaError('not_found', `No bars of ${symbol} are stored from ${range.from} to ${range.to}.`, { input: `${range.from}..${range.to}` });
      return { tables: barTables(calendar, bars), summary: { bars: bars.length, from: range.from, to: range.to }, rowsIn: bars.length, rowsOut: bars.length };
    },
  };
}

function barTables(calendar: MarketCalendar, bars: readonly Bar[]): LayerOutput['tables'] {
  const symbol = calendar.symbol;
  const times = bars.map((b) => b.time);
  const columns = [
    timestampColumn('time', times),
    stringColumn('session', times.map((t) => sessionDateOf(calendar, t))),
    doubleColumn('open', bars.map((b) => b.open)),
    doubleColumn('high', bars.map((b) => b.high)),
    doubleColumn('low', bars.map((b) => b.low)),
    doubleColumn('close', bars.map((b) => b.close)),
    doubleColumn('volume', bars.map((b) => b.volume)),
    int32Column('tick_count', bars.map((b) => b.tickCount)),
    stringColumn('source', bars.map((b) => b.source)),
    int32Column('revision', bars.map((b) => b.revision)),
    stringColumn('flags', bars.map((b) => b.flags.join('|'))),
  ];
  return monthlyPartitions('L1', symbol, columns, times, calendar).map((t) => ({ ...t, metadata: { layer: 'L1', symbol } }));
}

/** The bars of L1 tables read back from the archive (in key order, i.e. by month). */
export function barsFromTables(symbol: string, tables: ReadonlyArray<{ key: string; table: ParquetTable }>): Bar[] {
  const bars: Bar[] = [];
  for (const { table } of tables) {
    const [time, open, high, low, close, volume] = ['time', 'open', 'high', 'low', 'close', 'volume'].map((name) => float64Of(table, name)) as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    const ticks = columnOf(table, 'tick_count').values as (number | null)[];
    const revision = columnOf(table, 'revision').values as (number | null)[];
    const source = stringsOf(table, 'source');
    const flags = stringsOf(table, 'flags');
    for (let i = 0; i < table.rows; i++) {
      bars.push({
        symbol,
        time: time[i]!,
        open: open[i]!,
        high: high[i]!,
        low: low[i]!,
        close: close[i]!,
        volume: Number.isNaN(volume[i]!) ? null : volume[i]!,
        tickCount: ticks[i] ?? null,
        source: present(source[i], 'source', i) as BarSource,
        revision: present(revision[i], 'revision', i),
        flags: flags[i] ? (flags[i]!.split('|') as BarFlag[]) : [],
      });
    }
  }
  return bars;
}

/** A value the L1 writer always sets; null means the file is not an L1 table. */
function present<T>(value: T | null | undefined, column: string, row: number): T {
  if (value === null || value === undefined) throw new TasaError('bad_input', `L1 archive row ${row} has no ${column}; the file was not written by the L1 layer.`, { input: column });
  return value;
}
