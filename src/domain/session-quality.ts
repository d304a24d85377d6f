/** Per-session data quality: how much of the calendar's bar grid is present, and how much is flat. */
import type { Bar } from './bar.ts';
import type { Session } from './calendar.ts';
import type { SymbolCode } from './symbol.ts';
import type { IsoDate } from './time.ts';

export type SessionStatus = 'complete' | 'partial' | 'missing';

export interface SessionQuality {
  symbol: SymbolCode;
  date: IsoDate;
  expected: number;
  present: number;
  missing: number;
  /** Share of present bars with open = high = low = close; null when no bar is present. */
  flatShare: number | null;
  /** Bars whose timestamp was repaired. */
  repaired: number;
  status: SessionStatus;
}

/** What is stored for one session: bars present and how many of them are flat or repaired. */
export interface SessionBarCounts {
  present: number;
  flat: number;
  repaired: number;
}

/** Quality of one session from the bars stored for it (bars outside the session are ignored). */
export function sessionQuality(symbol: SymbolCode, session: Session, bars: readonly Bar[]): SessionQuality {
  const inside = bars.filter((b) => b.time >= session.open && b.time < session.close);
  return sessionQualityFromCounts(symbol, session, {
    present: new Set(inside.map((b) => b.time)).size,
    flat: inside.filter((b) => b.flags.includes('flat')).length,
    repaired: inside.filter((b) => b.flags.includes('repaired')).length,
  });
}

/** The quality rule: complete when every grid slot has a bar, missing when none has. */
export function sessionQualityFromCounts(symbol: SymbolCode, session: Session, counts: SessionBarCounts): SessionQuality {
  const expected = session.barCount;
  const { present, flat, repaired } = counts;
  return {
    symbol,
    date: session.date,
    expected,
    present,
    missing: Math.max(0, expected - present),
    flatShare: present === 0 ? null : flat / present,
    repaired,
    status: present === 0 ? 'missing' : present >= expected ? 'complete' : 'partial',
  };
}
