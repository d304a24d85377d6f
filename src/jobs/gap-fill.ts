/**
 * The gap fill behind `tasa backfill` and the failsafe job: compare the calendar's bar grid with
 * the stored bars, fetch the slots without a complete bar (missing, or partial: built while the
 * feed covered only part of the slot) from REST in as few requests as possible, and store them
 * (see backfill-store.ts for what is written, and why a complete bar is never overwritten); with
 * `reconcile`, closed sessions are also fetched whole and compared with the vendor's bars.
 *
 * Resumable by construction: what is missing is recomputed from the database on every run, so a
 * rerun skips everything already filled, and each request window is stored in one transaction.
 * Within the key budget: per-minute limits are waited out on the clock (by the key pool); when no
 * key has credit left for the UTC day the run stops cleanly with `budgetExhausted`.
 */
import type { Clock } from '../clock.ts';
import type { Calendars, Session } from '../domain/calendar.ts';
import type { Gap } from '../domain/gaps.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { IsoDate } from '../domain/time.ts';
import type { TimeSeriesResult } from '../feeds/twelvedata/time-series.ts';
import { storedSlotsBetween } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { refreshSessions } from '../store/refresh-sessions.ts';
import { storeWindow } from './backfill-store.ts';
import { DailyBudgetExhaustedError } from './budgeted-pool.ts';
import { dueSlots } from '../domain/gaps.ts';
import { missingGaps, reconcileSpan, requestWindows, type RequestWindow } from './gap-plan.ts';
import type { HistorySource } from './history-source.ts';
import { recordedRun } from '../store/recorded-run.ts';

export interface GapFillOptions {
  db: Db;
  calendar: Calendars;
  source: HistorySource;
  symbol: SymbolCode;
  /** Bogota session dates, both inclusive. */
  from: IsoDate;
  to: IsoDate;
  clock: Clock;
  onProgress?: (progress: GapFillProgress) => void;
  /** Stop after this many REST requests (windows); the rest is left for the next run. */
  maxRequests?: number;
  /** Only slots whose bar has ended by this instant (epoch ms) are due; default the clock's now. */
  dueBy?: number;
  /** `pipeline_runs.layer`; default 'backfill'. */
  layer?: string;
  /** Audit actor; default the layer. */
  actor?: string;
  /**
   * Closed sessions to fetch whole and reconcile with the vendor's bars (reconcile.ts), in the
   * same request windows as the fills; default none (the failsafe chooses them).
   */
  reconcile?: readonly Session[];
}

export interface GapFillProgress {
  requestsDone: number;
  requestsPlanned: number;
  filledBars: number;
  missingBars: number;
}

export interface GapFillSummary {
  symbol: SymbolCode;
  from: IsoDate;
  to: IsoDate;
  sessions: number;
  /** Due grid slots in those sessions. */
  expectedBars: number;
  /** Due slots with no stored bar. */
  missingBefore: number;
  /** Due slots whose stored bar is partial (to be replaced by the vendor's bar). */
  partialBefore: number;
  requestsPlanned: number;
  requests: number;
  /** Bars in the REST answers (inside the windows, in session or not). */
  fetchedBars: number;
  rawRowsStored: number;
  /** Bars written: missing slots filled and partial bars repaired. */
  filledBars: number;
  /** Of those, partial bars replaced. */
  repairedBars: number;
  missingAfter: number;
  partialAfter: number;
  /** Closed sessions compared whole with the vendor's bars. */
  sessionsReconciled: number;
  /** Stored bars of those sessions the vendor had a bar for. */
  barsCompared: number;
  /** Of those, replaced by the vendor's bar (flag `reconciled`). */
  barsReconciled: number;
  /** Stored bars of those sessions the vendor's answer lacks (kept). */
  vendorMissingBars: number;
  /** No key had credit left for the UTC day; the rest is left for a later run. */
  budgetExhausted: boolean;
  /** `maxRequests` was reached with windows left. */
  stoppedAtMaxRequests: boolean;
}

/** One recorded run (`pipeline_runs`, layer 'backfill' unless told otherwise). */
export async function fillGaps(o: GapFillOptions): Promise<GapFillSummary & { runId: number }> {
  const layer = o.layer ?? 'backfill';
  return recordedRun(
    o.db,
    o.clock,
    { layer, symbol: o.symbol, params: { from: o.from, to: o.to, maxRequests: o.maxRequests ?? null } },
    async (runId) => ({ ...(await gapFillPass({ ...o, actor: o.actor ?? layer })), runId }),
    ({ runId: _, ...s }) => ({ status: 'completed', rowsIn: s.fetchedBars, rowsOut: s.filledBars, summary: s }),
  );
}

/** The gap fill without its own run record (the failsafe records one run for fill + coverage). */
export async function gapFillPass(o: GapFillOptions & { actor: string }): Promise<GapFillSummary> {
  const { sessions, dueBy, before, windows } = await planGapFill(o);
  const s = startingSummary(o, sessions.length, before, windows.length);
  const report = () => o.onProgress?.({ requestsDone: s.requests, requestsPlanned: windows.length, filledBars: s.filledBars, missingBars: slotsToFill(before) });
  report();
  for (const window of windows) {
    if (o.maxRequests !== undefined && s.requests >= o.maxRequests) {
      s.stoppedAtMaxRequests = true;
      break;
    }
    const result = await fetchWindow(o, window);
    if (result === null) {
      s.budgetExhausted = true;
      break;
    }
    s.requests++;
    const ctx = { calendar: o.calendar, symbol: o.symbol, source: o.source.barSource, actor: o.actor, at: o.clock.now(), partial: before.partialSlots };
    const stored = await storeWindow(o.db, ctx, window, result);
    s.fetchedBars += result.bars.length;
    s.rawRowsStored += stored.rawRows;
    s.filledBars += stored.filled.length;
    s.repairedBars += stored.repaired;
    for (const r of stored.reconciled) {
      s.sessionsReconciled++;
      s.barsCompared += r.compared;
      s.barsReconciled += r.replaced;
      s.vendorMissingBars += r.vendorMissing;
    }
    report();
  }
  // Sessions with nothing missing get their quality row too; unchanged rows are not rewritten.
  await refreshSessions(o.db, o.calendar.of(o.symbol), o.symbol, o.from, o.to);
  const after = await missingNow(o, sessions, dueBy);
  s.missingAfter = after.missing;
  s.partialAfter = after.partialSlots.size;
  return s;
}

export interface GapFillPlan {
  sessions: Session[];
  dueBy: number;
  before: MissingState;
  /** The REST requests a complete fill (and reconciliation) takes, in time order. */
  windows: RequestWindow[];
}

/**
 * What a gap fill with these options would fetch, as of now: read from the database, nothing
 * fetched or written (the failsafe measures every symbol's need with it before sharing the budget).
 */
export async function planGapFill(o: GapFillOptions): Promise<GapFillPlan> {
  const dueBy = o.dueBy ?? o.clock.now();
  const sessions = o.calendar.of(o.symbol).sessionsBetween(o.from, o.to);
  const before = await missingNow(o, sessions, dueBy);
  const windows = requestWindows(before.gaps, undefined, (o.reconcile ?? []).map(reconcileSpan));
  return { sessions, dueBy, before, windows };
}

/** Due slots without a complete bar: missing, or holding a partial bar (both are to be filled). */
export function slotsToFill(state: MissingState): number {
  return state.missing + state.partialSlots.size;
}

function startingSummary(o: GapFillOptions, sessions: number, before: MissingState, requestsPlanned: number): GapFillSummary {
  return {
    symbol: o.symbol,
    from: o.from,
    to: o.to,
    sessions,
    expectedBars: before.expected,
    missingBefore: before.missing,
    partialBefore: before.partialSlots.size,
    requestsPlanned,
    requests: 0,
    fetchedBars: 0,
    rawRowsStored: 0,
    filledBars: 0,
    repairedBars: 0,
    missingAfter: before.missing,
    partialAfter: before.partialSlots.size,
    sessionsReconciled: 0,
    barsCompared: 0,
    barsReconciled: 0,
    vendorMissingBars: 0,
    budgetExhausted: false,
    stoppedAtMaxRequests: false,
  };
}

export interface MissingState {
  expected: number;
  /** Due slots with no stored bar. */
  missing: number;
  /** Due slots whose stored bar is partial. */
  partialSlots: Set<number>;
  /** Runs of due slots to fill: missing or partial. */
  gaps: Gap[];
}

async function missingNow(o: GapFillOptions, sessions: readonly Session[], dueBy: number): Promise<MissingState> {
  const first = sessions[0];
  const last = sessions.at(-1);
  if (!first || !last) return { expected: 0, missing: 0, partialSlots: new Set(), gaps: [] };
  const stored = await storedSlotsBetween(o.db, o.symbol, first.open, last.close);
  const complete = new Set([...stored.all].filter((t) => !stored.partial.has(t)));
  const calendar = o.calendar.of(o.symbol);
  const gaps = missingGaps(calendar, sessions, complete, dueBy);
  const due = sessions.flatMap((session) => dueSlots(calendar, session, dueBy));
  const partialSlots = new Set(due.filter((t) => stored.partial.has(t)));
  return { expected: due.length, missing: gaps.reduce((n, g) => n + g.bars, 0) - partialSlots.size, partialSlots, gaps };
}

/** The window's bars, or null when the day's budget is spent. */
async function fetchWindow(o: GapFillOptions, window: RequestWindow): Promise<TimeSeriesResult | null> {
  try {
    return await o.source.timeSeries({ symbol: o.symbol, interval: '5min', start: window.from, end: window.to });
  } catch (err) {
    if (err instanceof DailyBudgetExhaustedError) return null;
    throw err;
  }
}
