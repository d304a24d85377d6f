/**
 * The lifecycle's checks before going live: is there history (WAITING_L0), and is it fresh and
 * complete enough (CHECKING_DATA)?
 */
import { access } from 'node:fs/promises';
import type { MarketCalendar, Session } from '../domain/calendar.ts';
import { HOUR_MS } from '../domain/time.ts';
import { storedBarsSummary } from '../store/bars-repo.ts';
import { coverageOf } from '../store/coverage.ts';
import type { Db } from '../store/db.ts';
import { listRuns } from '../store/pipeline-runs-repo.ts';

export interface ReadinessOptions {
  /** How long to wait for history before going on without it (a warning, not an error). */
  waitForL0Ms: number;
  pollMs: number;
  /** A file whose existence says "history is loaded" (written by an external loader). */
  readySignalFile?: string;
  /** The newest bar must be at most this old, counted from the last session's close. */
  freshnessMs: number;
  /** Share of expected bars present over the recent sessions. */
  completenessTarget: number;
  recentSessions: number;
}

export const DEFAULT_READINESS: ReadinessOptions = {
  waitForL0Ms: 60_000,
  pollMs: 5_000,
  freshnessMs: 24 * HOUR_MS,
  completenessTarget: 0.95,
  recentSessions: 5,
};

/** Layers whose completed run means "history is loaded". */
const HISTORY_LAYERS = ['L0', 'backfill', 'failsafe'];

/** Why history counts as available, or null when it does not yet. */
export async function historyEvidence(db: Db, symbol: string, readySignalFile?: string): Promise<string | null> {
  for (const layer of HISTORY_LAYERS) {
    const [run] = await listRuns(db, { layer, symbol, status: 'completed', limit: 1 });
    if (run) return `a completed ${layer} run (#${run.id})`;
  }
  if (readySignalFile !== undefined && (await fileExists(readySignalFile))) return `the ready-signal file ${readySignalFile}`;
  return null;
}

export interface DataCheck {
  symbol: string;
  /** Open time of the newest stored bar, or null when there is none. */
  lastBarAt: number | null;
  fresh: boolean;
  expected: number;
  present: number;
  completeness: number;
  complete: boolean;
  /** The recent sessions checked, oldest first. */
  sessions: Session[];
}

export async function checkData(db: Db, calendar: MarketCalendar, symbol: string, now: number, opts: ReadinessOptions): Promise<DataCheck> {
  const sessions = recentClosedSessions(calendar, now, opts.recentSessions);
  const summary = await storedBarsSummary(db, symbol);
  const lastBarAt = summary.last;
  const lastClose = sessions.at(-1)?.close ?? now;
  const fresh = lastBarAt !== null && lastClose - lastBarAt <= opts.freshnessMs;
  // Closed sessions: every slot is due, so this counts whole sessions (one query for all of them).
  const coverage = await coverageOf(db, calendar, symbol, sessions, now);
  const expected = coverage.reduce((sum, c) => sum + c.due, 0);
  const present = coverage.reduce((sum, c) => sum + c.present, 0);
  const completeness = expected === 0 ? 1 : present / expected;
  return { symbol, lastBarAt, fresh, expected, present, completeness, complete: completeness >= opts.completenessTarget, sessions };
}

/** The last `count` sessions that have closed by `now`, oldest first. */
export function recentClosedSessions(calendar: MarketCalendar, now: number, count: number): Session[] {
  const sessions: Session[] = [];
  let t = now;
  while (sessions.length < count) {
    const s = calendar.previousSession(t);
    sessions.unshift(s);
    t = s.open;
  }
  return sessions;
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
