/**
 * Planning a gap fill (pure): which slots of the calendar's bar grid have no complete stored bar
 * yet (none, or a partial one the live stream built from part of the slot), and how to fetch them with the fewest REST requests. Credits, not bytes, are the scarce resource,
 * so missing runs are merged greedily into one request window for as long as the window stays a
 * single page: a window may span several sessions and the nights between them (the REST answer's
 * extra bars only go to L0).
 */
import { BAR_MS } from '../domain/bar.ts';
import type { MarketCalendar, Session } from '../domain/calendar.ts';
import { dueSlots, findGaps, type Gap } from '../domain/gaps.ts';
import { MAX_OUTPUTSIZE } from '../feeds/twelvedata/time-series.ts';

/** The REST client pages every `outputsize - 1` slots, so a window this long is exactly one request. */
export const MAX_SLOTS_PER_REQUEST = MAX_OUTPUTSIZE - 1;

export interface RequestWindow {
  /** Open time of the first slot to fill, epoch ms. */
  from: number;
  /** End of the last missing bar (exclusive), epoch ms. */
  to: number;
  /** The missing runs inside, in time order. */
  gaps: Gap[];
  /** Missing slots inside (the sum of the gaps' bars). */
  missing: number;
}

/**
 * Runs of due slots without a complete stored bar, session by session, in time order. `complete`:
 * the open times of the stored bars that are not partial (a partial bar is a slot to fill).
 */
export function missingGaps(calendar: MarketCalendar, sessions: readonly Session[], complete: ReadonlySet<number>, dueBy: number): Gap[] {
  return sessions.flatMap((session) => findGaps(session.date, dueSlots(calendar, session, dueBy), complete));
}

/** Merges time-ordered gaps into request windows spanning at most `maxSlots` slots each. */
export function requestWindows(gaps: readonly Gap[], maxSlots = MAX_SLOTS_PER_REQUEST): RequestWindow[] {
  const windows: RequestWindow[] = [];
  let current: RequestWindow | null = null;
  for (const gap of gaps) {
    if (current !== null && (gap.to - current.from) / BAR_MS <= maxSlots) {
      current.to = gap.to;
      current.gaps.push(gap);
      current.missing += gap.bars;
    } else {
      current = { from: gap.from, to: gap.to, gaps: [gap], missing: gap.bars };
      windows.push(current);
    }
  }
  return windows;
}

/** Open times of every slot of the gaps. */
export function gapSlots(gaps: readonly Gap[]): number[] {
  return gaps.flatMap((gap) => Array.from({ length: gap.bars }, (_, i) => gap.from + i * BAR_MS));
}
