/** Live ticks, stored in monthly partitions of `ticks` (ticks_yYYYYmMM, UTC months). */
import type { SymbolCode } from '../domain/symbol.ts';
import { MARKET_ZONE } from '../domain/time.ts';
import type { Tick, TickSource } from '../domain/tick.ts';
import type { Db } from './db.ts';
import { chunked, isoTime } from './rows.ts';

/** First instants (epoch ms) of the UTC months overlapping [fromMs, toMs). */
export function monthStartsBetween(fromMs: number, toMs: number): number[] {
  const out: number[] = [];
  if (toMs <= fromMs) return out;
  const first = new Date(fromMs);
  for (let m = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1); m < toMs; ) {
    out.push(m);
    const d = new Date(m);
    m = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  return out;
}

/**
 * Makes sure a partition exists for every UTC month overlapping [fromMs, toMs); rows already in
 * the default partition for those months move into the new partitions. Returns the partition names.
 */
export async function ensureTickPartitions(db: Db, fromMs: number, toMs: number): Promise<string[]> {
  const months = monthStartsBetween(fromMs, toMs).map((m) => isoTime(m).slice(0, 10));
  if (months.length === 0) return [];
  const rows = await db.query<{ name: string }>(
    'SELECT tasa_ensure_tick_partition(m) AS name FROM unnest($1::date[]) WITH ORDINALITY AS t(m, n) ORDER BY n',
    [months],
  );
  return rows.map((r) => r.name);
}

/** Stores ticks; the same quote again (symbol, time, price, bid, ask: a second delivery or receipt) is ignored. Returns how many were new. */
export async function insertTicks(db: Db, ticks: readonly Tick[]): Promise<number> {
  let inserted = 0;
  for (const chunk of chunked(ticks)) {
    const [row] = await db.query<{ n: number }>(
      `WITH inserted AS (
         INSERT INTO ticks (symbol, time, price, bid, ask, received_at, source)
         SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::float8[], $4::float8[], $5::float8[], $6::timestamptz[], $7::text[])
         ON CONFLICT DO NOTHING RETURNING 1)
       SELECT count(*)::int AS n FROM inserted`,
      [
        chunk.map((t) => t.symbol),
        chunk.map((t) => isoTime(t.time)),
        chunk.map((t) => t.price),
        chunk.map((t) => t.bid),
        chunk.map((t) => t.ask),
        chunk.map((t) => isoTime(t.receivedAt)),
        chunk.map((t) => t.source),
      ],
    );
    inserted += row?.n ?? 0;
  }
  return inserted;
}

/** The columns of a stored tick, as `TICK_COLUMNS` selects them. */
export interface TickRow {
  symbol: string;
  time: Date;
  price: number;
  bid: number | null;
  ask: number | null;
  received_at: Date;
  source: TickSource;
}

export const TICK_COLUMNS = 'symbol, time, price, bid, ask, received_at, source';

export function tickFromRow(r: TickRow): Tick {
  return { symbol: r.symbol, time: r.time.getTime(), price: r.price, bid: r.bid, ask: r.ask, receivedAt: r.received_at.getTime(), source: r.source };
}

/** Ticks with exchange time in [fromMs, toMs), by time then arrival. */
export async function ticksBetween(db: Db, symbol: SymbolCode, fromMs: number, toMs: number): Promise<Tick[]> {
  const rows = await db.query<TickRow>(
    `SELECT ${TICK_COLUMNS} FROM ticks
     WHERE symbol = $1 AND time >= $2 AND time < $3 ORDER BY time, received_at`,
    [symbol, isoTime(fromMs), isoTime(toMs)],
  );
  return rows.map(tickFromRow);
}

/** After every tick (the default upper bound). */
const END_OF_TIME = Date.UTC(9999, 0, 1);

/** Exchange time of the earliest tick in [fromMs, toMs) (default: of all), or null: an index probe. */
export async function firstTickTime(db: Db, symbol: SymbolCode, fromMs = 0, toMs = END_OF_TIME): Promise<number | null> {
  const [row] = await db.query<{ time: Date }>('SELECT time FROM ticks WHERE symbol = $1 AND time >= $2 AND time < $3 ORDER BY time LIMIT 1', [symbol, isoTime(fromMs), isoTime(toMs)]);
  return row === undefined ? null : row.time.getTime();
}

/** Exchange time of the latest tick in [fromMs, beforeMs), or null. */
export async function lastTickTimeBefore(db: Db, symbol: SymbolCode, beforeMs: number, fromMs = 0): Promise<number | null> {
  const [row] = await db.query<{ time: Date }>('SELECT time FROM ticks WHERE symbol = $1 AND time >= $3 AND time < $2 ORDER BY time DESC LIMIT 1', [symbol, isoTime(beforeMs), isoTime(fromMs)]);
  return row === undefined ? null : row.time.getTime();
}

/** The median half-spread of a group of quotes, in bps of the mid: (ask - bid) / (ask + bid) x 1e4. */
export interface HalfSpreadMedian {
  /** Hour of day (0-23) of the quotes in the zone asked for; null for all of them together. */
  hour: number | null;
  ticks: number;
  /** null when there is no quote. */
  medianBps: number | null;
}

/**
 * Median half-spreads of `symbol`'s stored quotes (ticks with a bid and an ask, ask >= bid > 0)
 * per hour of day in `zone` (the market's own; Bogota for USD/COP), and over all of them (hour null, first). Simulated ticks are left out:
 * their spread is the simulator's setting, not the market's. With `beforeMs`, only quotes stamped
 * before it (a walk-forward fold estimates its spread from what preceded its test window).
 */
export async function halfSpreadMedians(db: Db, symbol: SymbolCode, beforeMs: number | null = null, zone = MARKET_ZONE): Promise<HalfSpreadMedian[]> {
  const rows = await db.query<{ hour: number | null; ticks: number; median_bps: number | null }>(
    `SELECT hour, count(*)::int AS ticks, percentile_cont(0.5) WITHIN GROUP (ORDER BY half_bps) AS median_bps
     FROM (SELECT extract(hour FROM time AT TIME ZONE $3)::int AS hour, (ask - bid) / (ask + bid) * 1e4 AS half_bps
           FROM ticks WHERE symbol = $1 AND source <> 'simulator' AND bid > 0 AND ask >= bid AND ($2::timestamptz IS NULL OR time < $2)) AS quotes
     GROUP BY GROUPING SETS ((hour), ())
     ORDER BY hour NULLS FIRST`,
    [symbol, beforeMs === null ? null : isoTime(beforeMs), zone],
  );
  return rows.map((r) => ({ hour: r.hour, ticks: r.ticks, medianBps: r.median_bps }));
}
