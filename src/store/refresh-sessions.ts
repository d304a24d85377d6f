/**
 * Recomputes per-session quality from the stored bars (the rule lives in domain/session-quality)
 * and writes only the sessions whose figures changed, so a repeated import writes nothing.
 */
import type { Bar } from '../domain/bar.ts';
import type { MarketCalendar } from '../domain/calendar.ts';
import { sessionQuality, type SessionQuality } from '../domain/session-quality.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { IsoDate } from '../domain/time.ts';
import { barsBetween } from './bars-repo.ts';
import type { Db } from './db.ts';
import { sessionsBetween, upsertSessions } from './sessions-repo.ts';

/** Returns the number of session rows written. */
export async function refreshSessions(db: Db, calendar: MarketCalendar, symbol: SymbolCode, from: IsoDate, to: IsoDate): Promise<number> {
  const sessions = calendar.sessionsBetween(from, to);
  const first = sessions[0];
  const last = sessions.at(-1);
  if (!first || !last) return 0;
  const barsByDate = groupBySession(await barsBetween(db, symbol, first.open, last.close), calendar);
  const stored = new Map((await sessionsBetween(db, symbol, from, to)).map((q) => [q.date, q]));
  const changed = sessions
    .map((session) => sessionQuality(symbol, session, barsByDate.get(session.date) ?? []))
    .filter((q) => !sameQuality(q, stored.get(q.date)));
  return changed.length === 0 ? 0 : upsertSessions(db, changed);
}

/** Bars by the date of the session they fall in; bars outside every session are left out. */
function groupBySession(bars: readonly Bar[], calendar: MarketCalendar): Map<IsoDate, Bar[]> {
  const byDate = new Map<IsoDate, Bar[]>();
  for (const bar of bars) {
    const date = calendar.sessionAt(bar.time)?.date;
    if (date === undefined) continue;
    const list = byDate.get(date);
    if (list) list.push(bar);
    else byDate.set(date, [bar]);
  }
  return byDate;
}

function sameQuality(a: SessionQuality, b: SessionQuality | undefined): boolean {
  if (!b) return false;
  const flatEqual = a.flatShare === null || b.flatShare === null ? a.flatShare === b.flatShare : Math.abs(a.flatShare - b.flatShare) < 1e-12;
  return flatEqual && a.expected === b.expected && a.present === b.present && a.missing === b.missing && a.repaired === b.repaired && a.status === b.status;
}
