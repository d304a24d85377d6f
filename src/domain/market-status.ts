/**
 * Whether an instrument's market is open at an instant, and when it next opens and closes: one
 * answer for the CLI (`tasa up`'s banner) and the API (`GET /market/status`). Pure: the caller
 * passes the time.
 */
import { sessionDateOf, type DayInfo, type MarketCalendar, type Session } from './calendar.ts';

export interface MarketStatus {
  now: number;
  open: boolean;
  /** The market's day of `now`: the session's trade date while one is open, else its calendar date. */
  today: DayInfo;
  weekend: boolean;
  /** The session open at `now`, or null. */
  current: Session | null;
  /** Start of the next session after `now` (the one after the current session while open). */
  nextOpen: number;
  /** The end of the current session while open, else of the next session. */
  nextClose: number;
  /** The session `nextOpen` starts. */
  next: Session;
  /** Session hours in the market's wall time, e.g. 08:00 and 13:00. */
  sessionHours: ReturnType<MarketCalendar['sessionHours']>;
}

export function marketStatus(calendar: MarketCalendar, now: number): MarketStatus {
  // The trade date while a session is open (EUR/USD's Monday session opens on Sunday evening), else the market's date.
  const today = calendar.dayInfo(sessionDateOf(calendar, now));
  const current = calendar.sessionAt(now);
  // While open, nextSession(now) is the current session: the next one starts after its close.
  const next = current ? calendar.nextSession(current.close) : calendar.nextSession(now);
  return {
    now,
    open: current !== null,
    today,
    weekend: today.weekday >= 6,
    current,
    nextOpen: next.open,
    nextClose: current ? current.close : next.close,
    next,
    sessionHours: calendar.sessionHours(),
  };
}
