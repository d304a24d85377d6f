/**
 * Downsampling of a backtest's equity curve for storage and display. Pure.
 *
 * A five-year run has ~80,000 bar marks; the stored curve keeps at most `maxPoints` of them, chosen
 * so that three things survive exactly:
 * - session closes: buckets never straddle a session (its trade date in the symbol's market, from
 *   the calendar: an EUR/USD session runs from 17:00 to 17:00 New York) while there are no more
 *   sessions than points, so the last point of each session is that session's closing equity and
 *   the PnL per session can be recomputed from the stored curve; with more sessions than points,
 *   each bucket holds `sessionsPerPoint` whole sessions and closes with the last of them;
 * - the maximum drawdown: each point carries the DEEPEST drawdown seen inside its bucket (not the
 *   drawdown at its last bar), so the maximum over the stored points equals the run's;
 * - the start: while there are fewer sessions than points, the run's first bar is a point of its
 *   own, so that a chart of the stored curve starts where the run starts (at ~the initial equity).
 *
 * A point is `[time, equity, drawdown]`: the open time (epoch ms UTC) of the bucket's last bar
 * (bars are labelled by open time; the equity is marked at that bar's close), the equity at that
 * mark, and the drawdown as a positive fraction of the running peak (the initial equity counts as a peak).
 */
import type { EquityPoint, StoredEquity } from '../contracts/api/research.ts';
import { sessionDateOf, type MarketCalendar } from '../domain/calendar.ts';
import { TasaError } from '../errors.ts';

export const MAX_EQUITY_POINTS = 2000;

export type { EquityPoint };

/** The curve without its initial equity; `sessionsPerPoint` is 1 when every session close is a point (possibly with intra-session points too). */
export type DownsampledEquity = Omit<StoredEquity, 'initialEquity'>;

/** The full-resolution curve of a run; a `BacktestResult` fits as is. */
export interface EquityCurveInput {
  initialEquity: number;
  /** Bar open times, epoch ms UTC. */
  times: ArrayLike<number>;
  /** Equity marked at each bar's close. */
  equity: ArrayLike<number>;
}

/** The curve as the backtests table stores it: downsampled to at most `maxPoints` points, split into the sessions of `calendar`'s market. */
export function storedEquity(curve: EquityCurveInput, calendar: MarketCalendar, maxPoints = MAX_EQUITY_POINTS): StoredEquity {
  const d = downsampleEquity(curve.times, curve.equity, calendar, maxPoints, curve.initialEquity);
  return { initialEquity: curve.initialEquity, bars: d.bars, sessions: d.sessions, sessionsPerPoint: d.sessionsPerPoint, points: d.points };
}

/**
 * Reduces a curve to at most `maxPoints` points; see the module header. `initialEquity` defaults
 * to the first mark; the sessions are `calendar`'s.
 */
export function downsampleEquity(
  times: ArrayLike<number>,
  equity: ArrayLike<number>,
  calendar: MarketCalendar,
  maxPoints = MAX_EQUITY_POINTS,
  initialEquity?: number,
): DownsampledEquity {
  validate(times, equity, maxPoints, initialEquity);
  const n = equity.length;
  if (n === 0) return { points: [], sessionsPerPoint: 1, bars: 0, sessions: 0 };
  const sessionStarts = sessionStartIndexes(times, calendar);
  const sessions = sessionStarts.length;
  const ends = bucketEnds(sessionStarts, n, maxPoints);
  const points: EquityPoint[] = [];
  let peak = initialEquity ?? equity[0]!;
  let start = 0;
  for (const end of ends) {
    let deepest = 0;
    for (let i = start; i <= end; i++) {
      const e = equity[i]!;
      if (e > peak) peak = e;
      const dd = peak > 0 ? 1 - e / peak : 0;
      if (dd > deepest) deepest = dd;
    }
    points.push([times[end]!, equity[end]!, deepest]);
    start = end + 1;
  }
  return { points, sessionsPerPoint: Math.max(1, Math.ceil(sessions / maxPoints)), bars: n, sessions };
}

function validate(times: ArrayLike<number>, equity: ArrayLike<number>, maxPoints: number, initialEquity: number | undefined): void {
  if (times.length !== equity.length) {
    throw new TasaError('bad_argument', `downsampleEquity got ${times.length} times for ${equity.length} equity marks; it needs one time per mark.`, { input: 'times' });
  }
  if (!Number.isInteger(maxPoints) || maxPoints < 1) throw new TasaError('bad_argument', `downsampleEquity maxPoints must be an integer >= 1, got ${maxPoints}.`, { input: 'maxPoints' });
  if (initialEquity !== undefined && !(Number.isFinite(initialEquity) && initialEquity > 0)) {
    throw new TasaError('bad_argument', `downsampleEquity initialEquity must be a finite number > 0, got ${initialEquity}.`, { input: 'initialEquity' });
  }
  for (let i = 1; i < times.length; i++) {
    if (!(times[i]! > times[i - 1]!)) throw new TasaError('bad_argument', `downsampleEquity times must increase strictly; index ${i} does not.`, { input: 'times' });
  }
}

/** Index of the first bar of each session (a new session date in the market starts a session). */
function sessionStartIndexes(times: ArrayLike<number>, calendar: MarketCalendar): number[] {
  const starts: number[] = [];
  let previous = '';
  for (let i = 0; i < times.length; i++) {
    const date = sessionDateOf(calendar, times[i]!);
    if (date !== previous) starts.push(i);
    previous = date;
  }
  return starts;
}

/** Last index of each bucket, ascending; the last one is n - 1. */
function bucketEnds(sessionStarts: readonly number[], n: number, maxPoints: number): number[] {
  const sessions = sessionStarts.length;
  const sessionEnd = (s: number): number => (s + 1 < sessions ? sessionStarts[s + 1]! - 1 : n - 1);
  const ends: number[] = [];
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  if (sessions > maxPoints) {
    const k = Math.ceil(sessions / maxPoints);
    for (let s = k - 1; s < sessions + k - 1; s += k) ends.push(sessionEnd(Math.min(s, sessions - 1)));
    return ends;
  }
  // The run's first bar is a point of its own when a point is left for it (see the module header).
  const keepFirst = sessions < maxPoints;
  if (keepFirst) ends.push(0);
  // Split each session into at most `perSession` chunks of equal size; the last chunk ends at its close.
  const perSession = Math.floor((keepFirst ? maxPoints - 1 : maxPoints) / sessions);
  for (let s = 0; s < sessions; s++) {
    const first = s === 0 && keepFirst ? 1 : sessionStarts[s]!;
    const last = sessionEnd(s);
    if (last < first) continue;
    const size = last - first + 1;
    const chunk = Math.ceil(size / Math.min(perSession, size));
    // Counted back from the close, so the close is always a bucket end; the first chunk may be shorter.
    const sessionEnds: number[] = [];
    for (let end = last; end >= first; end -= chunk) sessionEnds.push(end);
    ends.push(...sessionEnds.reverse());
  }
  return ends;
}
