/** How much of each session's due bar grid is stored, and how much of it complete (not partial): the figure the failsafe alerts on, readiness checks and /metrics reports. */
import type { MarketCalendar, Session } from '../domain/calendar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { IsoDate } from '../domain/time.ts';
import { dueSlots } from '../domain/gaps.ts';
import { storedSlotsBetween, type StoredSlots } from './bars-repo.ts';
import type { Db } from './db.ts';

export interface SessionCoverage {
  date: IsoDate;
  /** Grid slots whose bar should exist by then. */
  due: number;
  present: number;
  /** Of the present bars, those flagged `partial` (they may miss ticks; the failsafe repairs them). */
  partial: number;
  missing: number;
  /** Complete bars (present, not partial) / due; 1 when nothing is due yet. */
  coverage: number;
}

export function sessionCoverage(calendar: MarketCalendar, session: Session, stored: StoredSlots, dueBy: number): SessionCoverage {
  const due = dueSlots(calendar, session, dueBy);
  const present = due.filter((t) => stored.all.has(t)).length;
  const partial = due.filter((t) => stored.partial.has(t)).length;
  const coverage = due.length === 0 ? 1 : (present - partial) / due.length;
  return { date: session.date, due: due.length, present, partial, missing: due.length - present, coverage };
}

export async function coverageOf(db: Db, calendar: MarketCalendar, symbol: SymbolCode, sessions: readonly Session[], dueBy: number): Promise<SessionCoverage[]> {
  const first = sessions[0];
  const last = sessions.at(-1);
  if (!first || !last) return [];
  const stored = await storedSlotsBetween(db, symbol, first.open, last.close);
  return sessions.map((session) => sessionCoverage(calendar, session, stored, dueBy));
}
