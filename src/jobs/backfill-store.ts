/**
 * Storing one fetched request window, all in one transaction so that an interrupted backfill
 * leaves nothing half-written:
 * - L0: every row of every answer page, as received, with its provenance (never the key);
 * - L1: only the bars that fill a slot still missing, with source `twelvedata_rest` and flag
 *   `backfilled`. INSERT .. ON CONFLICT DO NOTHING, so a bar that arrived meanwhile (the live
 *   stream's, or another worker's) is never overwritten: REST history only fills holes;
 * - one audit entry per filled gap, and the session quality of the window's sessions.
 */
import { isFlat, type Bar, type BarFlag } from '../domain/bar.ts';
import type { MarketCalendar } from '../domain/calendar.ts';
import type { Gap } from '../domain/gaps.ts';
import { parseRawBar } from '../domain/raw-bar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { RestBar, TimeSeriesPage, TimeSeriesResult } from '../feeds/twelvedata/time-series.ts';
import { appendAudit, type AuditInput } from '../store/audit-repo.ts';
import type { Db } from '../store/db.ts';
import { insertRawBars, type RawBarOrigin } from '../store/raw-bars-repo.ts';
import { refreshSessions } from '../store/refresh-sessions.ts';
import { isoTime } from '../store/rows.ts';
import { gapSlots, type RequestWindow } from './gap-plan.ts';

export const BACKFILL_SOURCE = 'twelvedata_rest';

export interface StoreContext {
  calendar: MarketCalendar;
  symbol: SymbolCode;
  actor: string;
  /** Clock time of the write, for the audit entries. */
  at: number;
}

export interface StoredWindow {
  rawRows: number;
  /** Open times of the bars written to L1. */
  filled: number[];
}

export async function storeWindow(db: Db, ctx: StoreContext, window: RequestWindow, result: TimeSeriesResult): Promise<StoredWindow> {
  return db.transaction(async (tx) => {
    const origins: RawBarOrigin[] = [];
    let rawRows = 0;
    for (const page of result.pages) {
      const origin = pageOrigin(ctx.symbol, page);
      origins.push(origin);
      rawRows += await insertRawBars(tx, ctx.symbol, origin, rawInputs(ctx.symbol, page));
    }
    const filled = await insertMissingBars(tx, ctx.symbol, fillingBars(ctx.symbol, result.bars, window));
    await appendAudit(tx, auditOfFills(ctx, window.gaps, new Set(filled), origins));
    const first = window.gaps[0];
    const last = window.gaps.at(-1);
    if (first && last) await refreshSessions(tx, ctx.calendar, ctx.symbol, first.date, last.date);
    return { rawRows, filled };
  });
}

/** `twelvedata_rest:time_series:USD/COP:<start>..<end>` with the answer body's sha256. */
export function pageOrigin(symbol: SymbolCode, page: TimeSeriesPage): RawBarOrigin {
  return { name: `${BACKFILL_SOURCE}:time_series:${symbol}:${isoTime(page.start)}..${isoTime(page.end)}`, sha256: page.sha256 };
}

function rawInputs(symbol: SymbolCode, page: TimeSeriesPage): Parameters<typeof insertRawBars>[3] {
  return page.rows.map((row) => {
    const parsed = parseRawBar(row, symbol, 'UTC');
    return { lineNo: row.lineNo, raw: row.raw, parsed: parsed.ok ? parsed.bar : null, sourceLabel: row.sourceLabel };
  });
}

/** The fetched bars that land on a missing slot of the window, as L1 bars. */
export function fillingBars(symbol: SymbolCode, fetched: readonly RestBar[], window: RequestWindow): Bar[] {
  const missing = new Set(gapSlots(window.gaps));
  return fetched.filter((b) => missing.has(b.time)).map((b) => backfilledBar(symbol, b));
}

function backfilledBar(symbol: SymbolCode, b: RestBar): Bar {
  const flags: BarFlag[] = isFlat(b) ? ['backfilled', 'flat'] : ['backfilled'];
  return { symbol, time: b.time, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume, tickCount: null, source: BACKFILL_SOURCE, revision: 1, flags };
}

/** Inserts bars whose slot is still empty; returns the open times actually written. */
async function insertMissingBars(tx: Db, symbol: SymbolCode, bars: readonly Bar[]): Promise<number[]> {
  if (bars.length === 0) return [];
  // Flags travel as one array literal per row: unnest would flatten a text[][] into single strings.
  const rows = await tx.query<{ time: Date }>(
    `INSERT INTO bars (symbol, time, open, high, low, close, volume, tick_count, source, flags)
     SELECT $1, u.time, u.open, u.high, u.low, u.close, u.volume, NULL, $2, u.flags::text[]
     FROM unnest($3::timestamptz[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::text[])
       AS u(time, open, high, low, close, volume, flags)
     ON CONFLICT (symbol, time) DO NOTHING
     RETURNING time`,
    [
      symbol,
      BACKFILL_SOURCE,
      bars.map((b) => isoTime(b.time)),
      bars.map((b) => b.open),
      bars.map((b) => b.high),
      bars.map((b) => b.low),
      bars.map((b) => b.close),
      bars.map((b) => b.volume),
      bars.map((b) => `{${[...b.flags].sort().join(',')}}`),
    ],
  );
  return rows.map((r) => r.time.getTime()).sort((a, b) => a - b);
}

function auditOfFills(ctx: StoreContext, gaps: readonly Gap[], filled: ReadonlySet<number>, origins: readonly RawBarOrigin[]): AuditInput[] {
  return gaps.flatMap((gap) => {
    const count = gapSlots([gap]).filter((t) => filled.has(t)).length;
    if (count === 0) return [];
    return [
      {
        actor: ctx.actor,
        action: 'backfill.fill',
        entity: `bars:${ctx.symbol}:${gap.date}`,
        at: ctx.at,
        details: { from: isoTime(gap.from), to: isoTime(gap.to), missing: gap.bars, filled: count, source: BACKFILL_SOURCE, origins },
      },
    ];
  });
}
