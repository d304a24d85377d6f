/** Missing bars inside sessions, merged into intervals. */
import { BAR_MS } from './bar.ts';
import type { MarketCalendar, Session } from './calendar.ts';
import type { IsoDate } from './time.ts';

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
