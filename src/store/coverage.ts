/** How much of each session's due bar grid is stored: the figure the failsafe alerts on, readiness checks and /metrics reports. */
import type { MarketCalendar, Session } from '../domain/calendar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { IsoDate } from '../domain/time.ts';
import { dueSlots } from '../domain/gaps.ts';
import { barTimesBetween } from './bars-repo.ts';
import type { Db } from './db.ts';

export interface SessionCoverage {
  date: IsoDate;
  /** Grid slots whose bar should exist by then. */
  due: number;
  present: number;
  missing: number;
  /** present / due; 1 when nothing is due yet. */
  coverage: number;
}

export function sessionCoverage(calendar: MarketCalendar, session: Session, stored: ReadonlySet<number>, dueBy: number): SessionCoverage {
  const due = dueSlots(calendar, session, dueBy);
  const present = due.filter((t) => stored.has(t)).length;
  return { date: session.date, due: due.length, present, missing: due.length - present, coverage: due.length === 0 ? 1 : present / due.length };
}

export async function coverageOf(db: Db, calendar: MarketCalendar, symbol: SymbolCode, sessions: readonly Session[], dueBy: number): Promise<SessionCoverage[]> {
  const first = sessions[0];
  const last = sessions.at(-1);
  if (!first || !last) return [];
  const stored = new Set(await barTimesBetween(db, symbol, first.open, last.close));
  return sessions.map((session) => sessionCoverage(calendar, session, stored, dueBy));
}
