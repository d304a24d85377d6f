/**
 * Recomputes per-session quality from the stored bars and writes only the sessions whose
 * figures changed, so a repeated import writes nothing. Every writer of bars refreshes the
 * sessions it wrote into (imports, backfills, gap fills, and the live writer per batch), so
 * `tasa sessions` and `tasa bars` agree even after a stop mid-session. The database counts the bars inside
 * each session window (the windows come from the calendar); the rule that turns counts into
 * a status lives in domain/session-quality.
 */
import type { Bar } from '../domain/bar.ts';
import type { Calendars, MarketCalendar, Session } from '../domain/calendar.ts';
import { sessionQualityFromCounts, type SessionBarCounts, type SessionQuality } from '../domain/session-quality.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { IsoDate } from '../domain/time.ts';
import type { Db } from './db.ts';
import { isoTime } from './rows.ts';
import { sessionsBetween, upsertSessions } from './sessions-repo.ts';

/** Returns the number of session rows written. */
export async function refreshSessions(db: Db, calendar: MarketCalendar, symbol: SymbolCode, from: IsoDate, to: IsoDate): Promise<number> {
  const sessions = calendar.sessionsBetween(from, to);
  if (sessions.length === 0) return 0;
  const counts = await sessionBarCounts(db, symbol, sessions);
  const stored = new Map((await sessionsBetween(db, symbol, from, to)).map((q) => [q.date, q]));
  const changed = sessions
    .map((session) => sessionQualityFromCounts(symbol, session, counts.get(session.date) ?? { present: 0, flat: 0, repaired: 0 }))
    .filter((q) => !sameQuality(q, stored.get(q.date)));
  return changed.length === 0 ? 0 : upsertSessions(db, changed);
}

/** Refreshes the sessions `bars` fall in (each symbol's own market calendar), per symbol. Returns the number of session rows written. */
export async function refreshSessionsOfBars(db: Db, calendars: Calendars, bars: readonly Bar[]): Promise<number> {
  const days = new Map<SymbolCode, { from: IsoDate; to: IsoDate }>();
  for (const bar of bars) {
    const calendar = calendars.of(bar.symbol);
    const date = calendar.sessionAt(bar.time)?.date ?? calendar.localDate(bar.time);
    const span = days.get(bar.symbol);
    days.set(bar.symbol, span === undefined ? { from: date, to: date } : { from: date < span.from ? date : span.from, to: date > span.to ? date : span.to });
  }
  let written = 0;
  for (const [symbol, span] of days) written += await refreshSessions(db, calendars.of(symbol), symbol, span.from, span.to);
  return written;
}

/** Bars inside each session's [open, close), counted by the database. */
async function sessionBarCounts(db: Db, symbol: SymbolCode, sessions: readonly Session[]): Promise<Map<IsoDate, SessionBarCounts>> {
  const rows = await db.query<SessionBarCounts & { date: string }>(
    // LATERAL: one index range scan per session instead of a range join over all bars.
    `SELECT s.date, c.present, c.flat, c.repaired
     FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) AS s(date, open, close)
     CROSS JOIN LATERAL (
       SELECT count(*)::int AS present,
              count(*) FILTER (WHERE 'flat' = ANY (b.flags))::int AS flat,
              count(*) FILTER (WHERE 'repaired' = ANY (b.flags))::int AS repaired
       FROM bars b WHERE b.symbol = $1 AND b.time >= s.open AND b.time < s.close) c
     WHERE c.present > 0`,
    [symbol, sessions.map((s) => s.date), sessions.map((s) => isoTime(s.open)), sessions.map((s) => isoTime(s.close))],
  );
  return new Map(rows.map((r) => [r.date, { present: r.present, flat: r.flat, repaired: r.repaired }]));
}

function sameQuality(a: SessionQuality, b: SessionQuality | undefined): boolean {
  if (!b) return false;
  const flatEqual = a.flatShare === null || b.flatShare === null ? a.flatShare === b.flatShare : Math.abs(a.flatShare - b.flatShare) < 1e-12;
  return flatEqual && a.expected === b.expected && a.present === b.present && a.missing === b.missing && a.repaired === b.repaired && a.status === b.status;
}
