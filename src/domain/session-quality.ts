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

/** Quality of one session from the bars stored for it (bars outside the session are ignored). */
export function sessionQuality(symbol: SymbolCode, session: Session, bars: readonly Bar[]): SessionQuality {
  const inside = bars.filter((b) => b.time >= session.open && b.time < session.close && !b.flags.includes('empty'));
  const present = new Set(inside.map((b) => b.time)).size;
  const flat = inside.filter((b) => b.flags.includes('flat')).length;
  const repaired = inside.filter((b) => b.flags.includes('repaired')).length;
  const expected = session.barCount;
  return {
    symbol,
    date: session.date,
    expected,
    present,
    missing: expected - present,
    flatShare: inside.length === 0 ? null : flat / inside.length,
    repaired,
    status: present === 0 ? 'missing' : present >= expected ? 'complete' : 'partial',
  };
}
