/**
 * Storing one fetched request window, all in one transaction so that an interrupted backfill
 * leaves nothing half-written:
 * - L0: every row of every answer page, as received, with its provenance (never the key);
 * - L1: only the bars of slots still to fill (missing, or holding a partial bar), with the history
 *   source's `barSource` (`twelvedata_rest`, or `simulator` when the upstream is the simulator),
 *   flag `backfilled` and coverage 1, through the bars upsert. Its replacement rule (migration
 *   008) lets a backfill replace only a partial bar (a new revision), so a complete bar that
 *   arrived meanwhile (the live stream's, or another worker's) is never overwritten;
 * - one audit entry per filled gap, and the session quality of the window's sessions;
 * - then, for each closed session the window reconciles, the vendor's bar wherever a stored bar
 *   differs from it, flagged `reconciled`, and one `reconcile.session` audit entry (reconcile.ts).
 */
import type { Bar } from '../domain/bar.ts';
import type { Calendars } from '../domain/calendar.ts';
import type { Gap } from '../domain/gaps.ts';
import { parseRawBar } from '../domain/raw-bar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { RestBar, TimeSeriesPage, TimeSeriesResult } from '../feeds/twelvedata/time-series.ts';
import { appendAudit, type AuditInput } from '../store/audit-repo.ts';
import { upsertBarsDetail } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { insertRawBars, type RawBarOrigin } from '../store/raw-bars-repo.ts';
import { refreshSessions } from '../store/refresh-sessions.ts';
import { isoTime } from '../store/rows.ts';
import { gapSlots, type RequestWindow } from './gap-plan.ts';
import { vendorBar, type HistoryBarSource } from './history-source.ts';
import { reconcileWithVendor, type SessionReconciliation } from './reconcile.ts';

export interface StoreContext {
  calendar: Calendars;
  symbol: SymbolCode;
  /** What the fetched bars are: stored as their `source`, and the prefix of their L0 origin. */
  source: HistoryBarSource;
  actor: string;
  /** Clock time of the write, for the audit entries. */
  at: number;
  /** Slots whose stored bar was partial when the fill was planned (for the counts and the audit). */
  partial?: ReadonlySet<number>;
}

export interface StoredWindow {
  rawRows: number;
  /** Open times of the bars written to L1. */
  filled: number[];
  /** Of those, partial bars replaced. */
  repaired: number;
  /** One per closed session of the window compared with the vendor's bars (reconcile.ts). */
  reconciled: SessionReconciliation[];
}

export async function storeWindow(db: Db, ctx: StoreContext, window: RequestWindow, result: TimeSeriesResult): Promise<StoredWindow> {
  return db.transaction(async (tx) => {
    const origins: RawBarOrigin[] = [];
    let rawRows = 0;
    for (const page of result.pages) {
      const origin = pageOrigin(ctx.source, ctx.symbol, page);
      origins.push(origin);
      rawRows += await insertRawBars(tx, ctx.symbol, origin, rawInputs(ctx.source, ctx.symbol, page));
    }
    const { written: filled } = await upsertBarsDetail(tx, fillingBars(ctx.source, ctx.symbol, result.bars, window));
    await appendAudit(tx, auditOfFills(ctx, window.gaps, new Set(filled), origins));
    const reconciled: SessionReconciliation[] = [];
    for (const span of window.reconcile) reconciled.push(await reconcileWithVendor(tx, ctx, span, result.bars));
    const dates = [...window.gaps, ...window.reconcile].map((s) => s.date).sort();
    const first = dates[0];
    const last = dates.at(-1);
    if (first && last) await refreshSessions(tx, ctx.calendar.of(ctx.symbol), ctx.symbol, first, last);
    return { rawRows, filled, repaired: filled.filter((t) => ctx.partial?.has(t) === true).length, reconciled };
  });
}

/** `twelvedata_rest:time_series:USD/COP:<start>..<end>` (`simulator:time_series:...` from the simulator) with the answer body's sha256. */
export function pageOrigin(source: HistoryBarSource, symbol: SymbolCode, page: TimeSeriesPage): RawBarOrigin {
  return { name: `${source}:time_series:${symbol}:${isoTime(page.start)}..${isoTime(page.end)}`, sha256: page.sha256 };
}

const REST_ORIGIN = /^(twelvedata_rest|simulator):time_series:/;

/** Whether an L0 origin name is a REST answer stored by a gap fill (else a file). */
export function isRestOrigin(name: string): boolean {
  return REST_ORIGIN.test(name);
}

function rawInputs(source: HistoryBarSource, symbol: SymbolCode, page: TimeSeriesPage): Parameters<typeof insertRawBars>[3] {
  return page.rows.map((row) => {
    const parsed = parseRawBar(row, symbol, 'UTC');
    // The client labels every REST row as TwelveData's; only the configuration knows it came from the simulator.
    return { lineNo: row.lineNo, raw: row.raw, parsed: parsed.ok ? parsed.bar : null, sourceLabel: source };
  });
}

/** The fetched bars that land on a slot of the window to fill (missing or partial), as L1 bars. */
export function fillingBars(source: HistoryBarSource, symbol: SymbolCode, fetched: readonly RestBar[], window: RequestWindow): Bar[] {
  const missing = new Set(gapSlots(window.gaps));
  return fetched.filter((b) => missing.has(b.time)).map((b) => vendorBar(source, symbol, b, 'backfilled'));
}

function auditOfFills(ctx: StoreContext, gaps: readonly Gap[], filled: ReadonlySet<number>, origins: readonly RawBarOrigin[]): AuditInput[] {
  return gaps.flatMap((gap) => {
    const written = gapSlots([gap]).filter((t) => filled.has(t));
    if (written.length === 0) return [];
    const repaired = written.filter((t) => ctx.partial?.has(t) === true).length;
    return [
      {
        actor: ctx.actor,
        action: 'backfill.fill',
        entity: `bars:${ctx.symbol}:${gap.date}`,
        at: ctx.at,
        details: { from: isoTime(gap.from), to: isoTime(gap.to), missing: gap.bars, filled: written.length, repairedPartial: repaired, source: ctx.source, origins },
      },
    ];
  });
}
