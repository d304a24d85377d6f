/**
 * Planning a gap fill (pure): which slots of the calendar's bar grid have no complete stored bar
 * yet (none, or a partial one the live stream built from part of the slot), and how to fetch them,
 * with the closed sessions to reconcile whole, in the fewest REST requests. Credits, not bytes,
 * are the scarce resource, so missing runs are merged greedily into one request window for as long as the window stays a
 * single page: a window may span several sessions and the nights between them (the REST answer's
 * extra bars only go to L0).
 */
import { BAR_MS } from '../domain/bar.ts';
import type { MarketCalendar, Session } from '../domain/calendar.ts';
import { dueSlots, findGaps, type Gap } from '../domain/gaps.ts';
import type { IsoDate } from '../domain/time.ts';
import { MAX_OUTPUTSIZE } from '../feeds/twelvedata/time-series.ts';

/** The REST client pages every `outputsize - 1` slots, so a window this long is exactly one request. */
export const MAX_SLOTS_PER_REQUEST = MAX_OUTPUTSIZE - 1;

/** A closed session to fetch whole and compare bar by bar with what is stored (post-session reconciliation). */
export interface ReconcileSpan {
  date: IsoDate;
  /** Open time of the session's first slot, epoch ms. */
  from: number;
  /** End of its last slot (exclusive), epoch ms. */
  to: number;
}

export interface RequestWindow {
  /** Open time of the first slot to fetch, epoch ms. */
  from: number;
  /** End of the last slot to fetch (exclusive), epoch ms. */
  to: number;
  /** The missing runs inside, in time order. */
  gaps: Gap[];
  /** Missing slots inside (the sum of the gaps' bars). */
  missing: number;
  /** The sessions to reconcile inside, in time order (their missing runs are among `gaps` too). */
  reconcile: ReconcileSpan[];
}

/**
 * Runs of due slots without a complete stored bar, session by session, in time order. `complete`:
 * the open times of the stored bars that are not partial (a partial bar is a slot to fill).
 */
export function missingGaps(calendar: MarketCalendar, sessions: readonly Session[], complete: ReadonlySet<number>, dueBy: number): Gap[] {
  return sessions.flatMap((session) => findGaps(session.date, dueSlots(calendar, session, dueBy), complete));
}

/** The whole bar grid of a session, as one span to reconcile. */
export function reconcileSpan(session: Session): ReconcileSpan {
  return { date: session.date, from: session.open, to: session.open + session.barCount * BAR_MS };
}

/**
 * Merges time-ordered gaps, and whole sessions to reconcile, into request windows spanning at
 * most `maxSlots` slots each: a closed session's fill and its reconciliation share one request.
 */
export function requestWindows(gaps: readonly Gap[], maxSlots = MAX_SLOTS_PER_REQUEST, reconcile: readonly ReconcileSpan[] = []): RequestWindow[] {
  const spans = [...gaps.map((gap) => ({ from: gap.from, to: gap.to, gap })), ...reconcile.map((span) => ({ from: span.from, to: span.to, span }))];
  spans.sort((a, b) => a.from - b.from);
  const windows: RequestWindow[] = [];
  let current: RequestWindow | null = null;
  for (const item of spans) {
    if (current === null || (Math.max(current.to, item.to) - current.from) / BAR_MS > maxSlots) {
      current = { from: item.from, to: item.to, gaps: [], missing: 0, reconcile: [] };
      windows.push(current);
    }
    current.to = Math.max(current.to, item.to);
    if ('gap' in item) {
      current.gaps.push(item.gap);
      current.missing += item.gap.bars;
    } else {
      current.reconcile.push(item.span);
    }
  }
  return windows;
}

/** Open times of every slot of the gaps. */
export function gapSlots(gaps: readonly Gap[]): number[] {
  return gaps.flatMap((gap) => Array.from({ length: gap.bars }, (_, i) => gap.from + i * BAR_MS));
}
