/** Missing bars inside sessions, merged into intervals. */
import { BAR_MS } from './bar.ts';
import type { MarketCalendar, Session } from './calendar.ts';
import { MINUTE_MS, type IsoDate } from './time.ts';

/** A bar counts as due this long after its slot ends (time for the live path to store it). */
export const BAR_DUE_GRACE_MS = 2 * MINUTE_MS;

export interface Gap {
  date: IsoDate;
  /** Open time of the first missing bar, epoch ms UTC. */
  from: number;
  /** End of the last missing bar (exclusive), epoch ms UTC. */
  to: number;
  bars: number;
}

/** Runs of consecutive grid slots absent from `present`, one interval per run. */
export function findGaps(date: IsoDate, grid: readonly number[], present: ReadonlySet<number>): Gap[] {
  const gaps: Gap[] = [];
  let current: Gap | null = null;
  for (const slot of grid) {
    if (present.has(slot)) {
      current = null;
    } else if (current && current.to === slot) {
      current.to = slot + BAR_MS;
      current.bars++;
    } else {
      current = { date, from: slot, to: slot + BAR_MS, bars: 1 };
      gaps.push(current);
    }
  }
  return gaps;
}

/** The session's grid slots whose bar has ended by `dueBy` (epoch ms): those that should exist. */
export function dueSlots(calendar: MarketCalendar, session: Session, dueBy: number): number[] {
  return calendar.barGrid(session).filter((open) => open + BAR_MS <= dueBy);
}

/**
 * The last `count` sessions with at least one due bar, oldest first: the one in progress at
 * `dueBy` (if a slot of it has ended) and the ones before it.
 */
export function recentSessions(calendar: MarketCalendar, dueBy: number, count: number): Session[] {
  const sessions: Session[] = [];
  const current = calendar.sessionAt(dueBy);
  if (current !== null && current.open + BAR_MS <= dueBy) sessions.push(current);
  let before = current?.open ?? dueBy;
  while (sessions.length < count) {
    const previous = calendar.previousSession(before);
    sessions.push(previous);
    before = previous.open;
  }
  return sessions.reverse();
}
