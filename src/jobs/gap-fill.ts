/**
 * The gap fill behind `tasa backfill` and the failsafe job: compare the calendar's bar grid with
 * the stored bars, fetch the missing slots from REST in as few requests as possible, and store
 * them (see backfill-store.ts for what is written and why only missing slots are filled).
 *
 * Resumable by construction: what is missing is recomputed from the database on every run, so a
 * rerun skips everything already filled, and each request window is stored in one transaction.
 * Within the key budget: per-minute limits are waited out on the clock (by the key pool); when no
 * key has credit left for the UTC day the run stops cleanly with `budgetExhausted`.
 */
import type { Clock } from '../clock.ts';
import type { MarketCalendar, Session } from '../domain/calendar.ts';
import type { Gap } from '../domain/gaps.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { IsoDate } from '../domain/time.ts';
import type { TimeSeriesResult } from '../feeds/twelvedata/time-series.ts';
import { barTimesBetween } from '../store/bars-repo.ts';
import type { Db } from '../store/db.ts';
import { refreshSessions } from '../store/refresh-sessions.ts';
import { storeWindow } from './backfill-store.ts';
import { DailyBudgetExhaustedError } from './budgeted-pool.ts';
import { dueSlots } from '../domain/gaps.ts';
import { missingGaps, requestWindows, type RequestWindow } from './gap-plan.ts';
import type { HistorySource } from './history-source.ts';
import { recordedRun } from './recorded-run.ts';

export interface GapFillOptions {
  db: Db;
  calendar: MarketCalendar;
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
  missingBefore: number;
  requestsPlanned: number;
  requests: number;
  /** Bars in the REST answers (inside the windows, in session or not). */
  fetchedBars: number;
  rawRowsStored: number;
  filledBars: number;
  missingAfter: number;
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
  const dueBy = o.dueBy ?? o.clock.now();
  const sessions = o.calendar.sessionsBetween(o.from, o.to);
  const before = await missingNow(o, sessions, dueBy);
  const windows = requestWindows(before.gaps);
  const s = startingSummary(o, sessions.length, before, windows.length);
  const report = () => o.onProgress?.({ requestsDone: s.requests, requestsPlanned: windows.length, filledBars: s.filledBars, missingBars: before.missing });
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
    const stored = await storeWindow(o.db, { calendar: o.calendar, symbol: o.symbol, actor: o.actor, at: o.clock.now() }, window, result);
    s.fetchedBars += result.bars.length;
    s.rawRowsStored += stored.rawRows;
    s.filledBars += stored.filled.length;
    report();
  }
  // Sessions with nothing missing get their quality row too; unchanged rows are not rewritten.
  await refreshSessions(o.db, o.calendar, o.symbol, o.from, o.to);
  s.missingAfter = (await missingNow(o, sessions, dueBy)).missing;
  return s;
}

function startingSummary(o: GapFillOptions, sessions: number, before: MissingState, requestsPlanned: number): GapFillSummary {
  return {
    symbol: o.symbol,
    from: o.from,
    to: o.to,
    sessions,
    expectedBars: before.expected,
    missingBefore: before.missing,
    requestsPlanned,
    requests: 0,
    fetchedBars: 0,
    rawRowsStored: 0,
    filledBars: 0,
    missingAfter: before.missing,
    budgetExhausted: false,
    stoppedAtMaxRequests: false,
  };
}

interface MissingState {
  expected: number;
  missing: number;
  gaps: Gap[];
}

async function missingNow(o: GapFillOptions, sessions: readonly Session[], dueBy: number): Promise<MissingState> {
  const first = sessions[0];
  const last = sessions.at(-1);
  if (!first || !last) return { expected: 0, missing: 0, gaps: [] };
  const stored = new Set(await barTimesBetween(o.db, o.symbol, first.open, last.close));
  const gaps = missingGaps(o.calendar, sessions, stored, dueBy);
  const expected = sessions.reduce((n, session) => n + dueSlots(o.calendar, session, dueBy).length, 0);
  return { expected, missing: gaps.reduce((n, g) => n + g.bars, 0), gaps };
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
