/** L1 storage: one clean bar per (symbol, open time), with the history of replaced values. */
import type { Bar, BarFlag, BarSource } from '../domain/bar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { Db, ListenHandlers, Listening } from './db.ts';
import { isoTime } from './rows.ts';
import { loadRows, stageRows, unlessDuplicate, type Column } from './staging.ts';

export interface UpsertBarsResult {
  inserted: number;
  updated: number;
  /** Identical to the stored bar, or kept out by the replacement rule. */
  unchanged: number;
}

export interface UpsertBarsDetail extends UpsertBarsResult {
  /** Differed from the stored bar, which the replacement rule kept (see migration 010). */
  refused: number;
  /** Open times of the bars inserted or replaced, ascending. */
  written: number[];
}

/** The values compared to decide whether a bar changed, in one order shared by the SQL below. */
const VALUE_COLUMN_LIST = ['open', 'high', 'low', 'close', 'volume', 'tick_count', 'source', 'flags', 'coverage'];
const VALUE_COLUMNS = VALUE_COLUMN_LIST.join(', ');
const BAR_COLUMNS = `symbol, time, ${VALUE_COLUMNS}, revision`;

/** `b.open, b.high, ...` for table alias `b`. */
function valuesOf(alias: string): string {
  return VALUE_COLUMN_LIST.map((c) => `${alias}.${c}`).join(', ');
}

const INPUT_TABLE = 'tasa_bars_input';
const INPUT_COLUMNS: readonly Column[] = [
  { name: 'symbol', type: 'text' },
  { name: 'time', type: 'timestamptz' },
  { name: 'open', type: 'float8' },
  { name: 'high', type: 'float8' },
  { name: 'low', type: 'float8' },
  { name: 'close', type: 'float8' },
  { name: 'volume', type: 'float8' },
  { name: 'tick_count', type: 'int' },
  { name: 'source', type: 'text' },
  { name: 'flags', type: 'text[]' },
  { name: 'coverage', type: 'float8' },
];

/** The replacement rule (`tasa_bar_may_replace`, as last defined by migration 010) for stored row `old` and incoming row `new`. */
function mayReplace(old: string, incoming: string): string {
  return `tasa_bar_may_replace(${old}.flags, ${old}.tick_count, ${incoming}.flags, ${incoming}.tick_count)`;
}

/**
 * One statement: `differing` reads the current rows (statement snapshot) that differ from the
 * input, `changed` keeps those the replacement rule lets go, `history` copies them to
 * bar_revisions, and the upsert writes only rows that are new or replaceable (revision + 1).
 * Identical rows are not touched.
 */
const MERGE_BARS = `
  WITH differing AS (
    SELECT b.symbol, b.time, b.revision, ${valuesOf('b')}, ${mayReplace('b', 'i')} AS replace
    FROM bars b JOIN ${INPUT_TABLE} i ON b.symbol = i.symbol AND b.time = i.time
    WHERE (${valuesOf('b')}) IS DISTINCT FROM (${valuesOf('i')})
  ),
  changed AS (SELECT * FROM differing WHERE replace),
  history AS (
    INSERT INTO bar_revisions (symbol, time, revision, ${VALUE_COLUMNS})
    SELECT symbol, time, revision, ${VALUE_COLUMNS} FROM changed
  ),
  written AS (
    INSERT INTO bars AS b (symbol, time, ${VALUE_COLUMNS})
    SELECT symbol, time, ${VALUE_COLUMNS} FROM ${INPUT_TABLE}
    ON CONFLICT (symbol, time) DO UPDATE
      SET (${VALUE_COLUMNS}) = (${valuesOf('excluded')}),
          revision = b.revision + 1,
          updated_at = now()
      WHERE (${valuesOf('b')}) IS DISTINCT FROM (${valuesOf('excluded')}) AND ${mayReplace('b', 'excluded')}
    RETURNING b.time
  )
  SELECT (SELECT count(*) FROM changed)::int AS updated,
         (SELECT count(*) FROM differing WHERE NOT replace)::int AS refused,
         (SELECT coalesce(array_agg(extract(epoch FROM time) * 1000 ORDER BY time), '{}') FROM written)::float8[] AS written`;

/**
 * Inserts new bars; replaces bars whose values differ when the replacement rule allows it (old
 * values go to bar_revisions, revision + 1): a backfill repairs only a partial bar, a partial bar
 * never overwrites a complete one, a reconciled (post-session vendor) bar replaces any other and
 * only an import replaces it (migration 010); leaves identical ones untouched, so re-running
 * is harmless. The input `revision` is ignored. When the input holds the same (symbol, time)
 * twice, the last one wins. One transaction.
 */
export async function upsertBars(db: Db, bars: readonly Bar[]): Promise<UpsertBarsResult> {
  const { inserted, updated, unchanged } = await upsertBarsDetail(db, bars);
  return { inserted, updated, unchanged };
}

/** `upsertBars`, also telling which bars were written and how many the replacement rule refused. */
export async function upsertBarsDetail(db: Db, bars: readonly Bar[]): Promise<UpsertBarsDetail> {
  const unique = lastPerKey(bars);
  if (unique.length === 0) return { inserted: 0, updated: 0, unchanged: 0, refused: 0, written: [] };
  const tuples = unique.map(barTuple);
  return db.transaction(async (tx) => {
    // First load of a range (the common bulk case): nothing to compare with, COPY straight in.
    const fresh = !(await anyBarIn(tx, unique));
    if (fresh && (await unlessDuplicate(tx, (sp) => loadRows(sp, 'bars', INPUT_COLUMNS, tuples)))) {
      await bumpBarsVersion(tx, unique);
      return { inserted: unique.length, updated: 0, unchanged: 0, refused: 0, written: unique.map((b) => b.time).sort((a, b) => a - b) };
    }
    await stageRows(tx, INPUT_TABLE, INPUT_COLUMNS, tuples);
    const [row] = await tx.query<{ updated: number; refused: number; written: number[] }>(MERGE_BARS);
    const written = row?.written ?? [];
    const updated = row?.updated ?? 0;
    if (written.length > 0) await bumpBarsVersion(tx, unique);
    return { inserted: written.length - updated, updated, unchanged: unique.length - written.length, refused: row?.refused ?? 0, written };
  });
}

const BARS_VERSION_KEY = 'bars_version:';
/** Notified with the symbol as payload by every write of that symbol's bars, at its commit. */
const BARS_CHANGED_CHANNEL = 'bars_changed';

/**
 * Every write of bars gives their symbols a new version token (app_state) and notifies
 * BARS_CHANGED_CHANNEL, in the same transaction, so a reader holding bars in memory, in any
 * process, learns from the notification or with one primary-key lookup whether they are still
 * what the store holds. Symbols in sorted order: concurrent writers lock the rows in one order.
 */
async function bumpBarsVersion(tx: Db, bars: readonly Bar[]): Promise<void> {
  const symbols = [...new Set(bars.map((b) => b.symbol))].sort();
  await tx.query(
    `WITH bumped AS (
       INSERT INTO app_state (key, value) SELECT $2 || s, to_jsonb(gen_random_uuid()::text) FROM unnest($1::text[]) AS s
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()
     )
     SELECT pg_notify($3, s) FROM unnest($1::text[]) AS s`,
    [symbols, BARS_VERSION_KEY, BARS_CHANGED_CHANNEL],
  );
}

/**
 * Tells `handlers.notify` the symbol of every write of bars committed from now on, by any process;
 * null when the store cannot push (a store served by another process: ask `barsVersion`).
 */
export function watchBarWrites(db: Db, handlers: ListenHandlers): Promise<Listening> | null {
  return db.listen?.(BARS_CHANGED_CHANNEL, handlers) ?? null;
}

/** The version token of a symbol's stored bars: it changes with every write; null before the first one. */
export async function barsVersion(db: Db, symbol: SymbolCode): Promise<string | null> {
  const [row] = await db.query<{ value: string }>('SELECT value FROM app_state WHERE key = $1', [BARS_VERSION_KEY + symbol]);
  return row?.value ?? null;
}

/** Whether any stored bar of these symbols lies between the earliest and latest input time. */
async function anyBarIn(tx: Db, bars: readonly Bar[]): Promise<boolean> {
  let from = Infinity;
  let to = -Infinity;
  for (const b of bars) {
    from = Math.min(from, b.time);
    to = Math.max(to, b.time);
  }
  const symbols = [...new Set(bars.map((b) => b.symbol))];
  const [row] = await tx.query<{ found: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM bars WHERE symbol = ANY($1::text[]) AND time BETWEEN $2 AND $3) AS found',
    [symbols, isoTime(from), isoTime(to)],
  );
  return row?.found ?? false;
}

function lastPerKey(bars: readonly Bar[]): Bar[] {
  const byKey = new Map<string, Bar>();
  for (const bar of bars) byKey.set(`${bar.symbol}\u0000${bar.time}`, bar);
  return byKey.size === bars.length ? [...bars] : [...byKey.values()];
}

/** Values in INPUT_COLUMNS order. Flags are sorted and unique so their order is never a change. */
function barTuple(b: Bar): unknown[] {
  const flags = [...new Set(b.flags)].sort();
  return [b.symbol, isoTime(b.time), b.open, b.high, b.low, b.close, b.volume, b.tickCount, b.source, flags, b.coverage ?? null];
}

interface BarRow {
  symbol: string;
  time: Date;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number | null;
  tick_count: number | null;
  source: string;
  flags: string[];
  coverage: number | null;
  revision: number;
}

function toBar(r: BarRow): Bar {
  return {
    symbol: r.symbol,
    time: r.time.getTime(),
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: r.volume,
    tickCount: r.tick_count,
    source: r.source as BarSource,
    revision: r.revision,
    flags: r.flags as BarFlag[],
    // Absent rather than null when unknown, like a bar built without it (imports).
    ...(r.coverage === null ? {} : { coverage: r.coverage }),
  };
}

/** Bars with open time in [fromMs, toMsExclusive), by time. */
export async function barsBetween(db: Db, symbol: SymbolCode, fromMs: number, toMsExclusive: number): Promise<Bar[]> {
  const rows = await db.query<BarRow>(
    `SELECT ${BAR_COLUMNS} FROM bars WHERE symbol = $1 AND time >= $2 AND time < $3 ORDER BY time`,
    [symbol, isoTime(fromMs), isoTime(toMsExclusive)],
  );
  return rows.map(toBar);
}

/**
 * Bars with open time in [fromMs, toMs), `batchSize` at a time, by time. Keyset pagination
 * (time > last seen) keeps every page an index range scan and memory bounded, whatever the span.
 */
export async function* streamBars(db: Db, symbol: SymbolCode, fromMs: number, toMs: number, batchSize = 10_000): AsyncIterable<Bar[]> {
  let after: string = '-infinity';
  for (;;) {
    const rows = await db.query<BarRow>(
      `SELECT ${BAR_COLUMNS} FROM bars
       WHERE symbol = $1 AND time >= $2 AND time < $3 AND time > $4::timestamptz
       ORDER BY time LIMIT $5`,
      [symbol, isoTime(fromMs), isoTime(toMs), after, batchSize],
    );
    const last = rows.at(-1);
    if (last === undefined) return;
    yield rows.map(toBar);
    if (rows.length < batchSize) return;
    after = last.time.toISOString();
  }
}

/** Open times (epoch ms) of the stored bars in [fromMs, toMs), ascending. */
export async function barTimesBetween(db: Db, symbol: SymbolCode, fromMs: number, toMs: number): Promise<number[]> {
  const rows = await db.query<{ time: Date }>('SELECT time FROM bars WHERE symbol = $1 AND time >= $2 AND time < $3 ORDER BY time', [
    symbol,
    isoTime(fromMs),
    isoTime(toMs),
  ]);
  return rows.map((r) => r.time.getTime());
}

export interface StoredSlots {
  /** Open times (epoch ms) of every stored bar. */
  all: Set<number>;
  /** Of those, the bars flagged `partial` (the live stream covered only part of the slot). */
  partial: Set<number>;
}

/** Which slots in [fromMs, toMs) have a stored bar, and which of those bars are partial. */
export async function storedSlotsBetween(db: Db, symbol: SymbolCode, fromMs: number, toMs: number): Promise<StoredSlots> {
  const rows = await db.query<{ time: Date; partial: boolean }>(
    `SELECT time, 'partial' = ANY (flags) AS partial FROM bars WHERE symbol = $1 AND time >= $2 AND time < $3`,
    [symbol, isoTime(fromMs), isoTime(toMs)],
  );
  const slots: StoredSlots = { all: new Set(), partial: new Set() };
  for (const r of rows) {
    slots.all.add(r.time.getTime());
    if (r.partial) slots.partial.add(r.time.getTime());
  }
  return slots;
}

export interface StoredBarsSummary {
  count: number;
  /** Open time of the first and last stored bar, epoch ms; null when there is none. */
  first: number | null;
  last: number | null;
}

/** How many bars of `symbol` are stored and the span they cover; of one provenance only when given. */
export async function storedBarsSummary(db: Db, symbol: SymbolCode, provenance?: 'real' | 'simulated'): Promise<StoredBarsSummary> {
  const [row] = await db.query<{ count: number; first: Date | null; last: Date | null }>(
    `SELECT count(*)::int AS count, min(time) AS first, max(time) AS last FROM bars
     WHERE symbol = $1 AND ($2::boolean IS NULL OR (source = 'simulator') = $2::boolean)`,
    [symbol, provenance === undefined ? null : provenance === 'simulated'],
  );
  return { count: row?.count ?? 0, first: row?.first?.getTime() ?? null, last: row?.last?.getTime() ?? null };
}

export interface BarRevision extends Omit<Bar, 'revision'> {
  /** The revision these values were before being replaced. */
  revision: number;
  replacedAt: number;
}

/** The replaced values of one bar, oldest first. */
export async function barRevisions(db: Db, symbol: SymbolCode, timeMs: number): Promise<BarRevision[]> {
  const rows = await db.query<BarRow & { replaced_at: Date }>(
    `SELECT ${BAR_COLUMNS}, replaced_at FROM bar_revisions WHERE symbol = $1 AND time = $2 ORDER BY revision`,
    [symbol, isoTime(timeMs)],
  );
  return rows.map((r) => ({ ...toBar(r), replacedAt: r.replaced_at.getTime() }));
}

/** The latest stored bar with open time before `beforeMs`, or null. */
export async function lastBarBefore(db: Db, symbol: SymbolCode, beforeMs: number): Promise<Bar | null> {
  const [row] = await db.query<BarRow>(`SELECT ${BAR_COLUMNS} FROM bars WHERE symbol = $1 AND time < $2 ORDER BY time DESC LIMIT 1`, [symbol, isoTime(beforeMs)]);
  return row ? toBar(row) : null;
}

/** Open time of the `n`-th latest stored bar (n >= 1) before `beforeMs`, or null when fewer are stored. */
export async function nthBarTimeBefore(db: Db, symbol: SymbolCode, beforeMs: number, n: number): Promise<number | null> {
  // An index range scan of the latest n keys (no OFFSET); fewer than n rows means fewer are stored.
  const [row] = await db.query<{ time: Date | null; count: number }>(
    'SELECT min(time) AS time, count(*)::int AS count FROM (SELECT time FROM bars WHERE symbol = $1 AND time < $2 ORDER BY time DESC LIMIT $3) latest',
    [symbol, isoTime(beforeMs), n],
  );
  return row !== undefined && row.time !== null && row.count === n ? row.time.getTime() : null;
}
