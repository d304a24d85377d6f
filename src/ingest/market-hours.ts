/**
 * When the ingest serves a symbol on the shared feed: from its market's open until its close plus
 * a grace (the watermark, so late ticks of the last bar still count), by that symbol's own
 * calendar. Pure: instants in, answers out.
 */
import type { Calendars, MarketCalendar } from '../domain/calendar.ts';

/** Whether the symbol is served at `t`: its market is open, or closed less than `graceMs` ago. */
export function isServed(calendar: MarketCalendar, t: number, graceMs: number): boolean {
  if (calendar.sessionAt(t) !== null) return true;
  return t < calendar.previousSession(t).close + graceMs;
}

/**
 * The next instant after which `isServed` may answer otherwise: the open session's close plus the
 * grace, the end of a grace under way, or the next open. Back-to-back sessions (the 24-hour FX
 * week) change nothing at their boundary: asked again then, the next session is open.
 */
export function nextServiceChange(calendar: MarketCalendar, t: number, graceMs: number): number {
  const open = calendar.sessionAt(t);
  if (open !== null) return open.close + graceMs;
  const graceEnd = calendar.previousSession(t).close + graceMs;
  if (t < graceEnd) return graceEnd;
  return calendar.nextSession(t).open;
}

/** The symbols served at `t`, in the given order. */
export function symbolsServedAt(calendars: Calendars, symbols: readonly string[], t: number, graceMs: number): string[] {
  return symbols.filter((symbol) => isServed(calendars.of(symbol), t, graceMs));
}

/** The earliest instant after `t` at which any of the symbols' service may change. */
export function nextChangeOfAny(calendars: Calendars, symbols: readonly string[], t: number, graceMs: number): number {
  return Math.min(...symbols.map((symbol) => nextServiceChange(calendars.of(symbol), t, graceMs)));
}
