/** Sessions of 5-minute bars for the market-data route tests, stored and with their quality refreshed. */
import type { Bar, BarFlag } from '../../src/domain/bar.ts';
import type { MarketCalendar } from '../../src/domain/calendar.ts';
import { upsertBars } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { refreshSessions } from '../../src/store/refresh-sessions.ts';

export interface SeedOptions {
  /** Slots (0..59) left without a bar. */
  skip?: readonly number[];
  /** Slots stored flat (open = high = low = close, flagged). */
  flat?: readonly number[];
  /** Slots flagged repaired. */
  repaired?: readonly number[];
  /** Price level of the session. */
  base?: number;
}

/** A deterministic, varied walk: every bar has its own open, high, low and close. */
export function sessionBars(calendar: MarketCalendar, date: string, o: SeedOptions = {}): Bar[] {
  const session = calendar.sessionFor(date);
  if (session === null) throw new Error(`${date} has no session`);
  const base = o.base ?? 4000;
  const bars: Bar[] = [];
  calendar.barGrid(session).forEach((time, i) => {
    if (o.skip?.includes(i)) return;
    const close = round(base + 12 * Math.sin(i / 3) + i * 0.4);
    const open = round(base + 12 * Math.sin((i - 1) / 3) + (i - 1) * 0.4);
    const flags: BarFlag[] = [];
    if (o.repaired?.includes(i)) flags.push('repaired');
    if (o.flat?.includes(i)) {
      flags.push('flat');
      bars.push(bar(time, close, close, close, close, flags));
    } else {
      bars.push(bar(time, open, round(Math.max(open, close) + 1.5 + (i % 4) * 0.25), round(Math.min(open, close) - 1.25 - (i % 3) * 0.5), close, flags));
    }
  });
  return bars;
}

function bar(time: number, open: number, high: number, low: number, close: number, flags: BarFlag[]): Bar {
  return { symbol: 'USD/COP', time, open, high, low, close, volume: 0, tickCount: null, source: 'import', revision: 1, flags };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Stores the bars of each session and refreshes the sessions table for them; returns the bars, by time. */
export async function seedSessions(db: Db, calendar: MarketCalendar, sessions: ReadonlyArray<[string, SeedOptions?]>): Promise<Bar[]> {
  const bars = sessions.flatMap(([date, o]) => sessionBars(calendar, date, o));
  await upsertBars(db, bars);
  const dates = sessions.map(([d]) => d).sort();
  await refreshSessions(db, calendar, 'USD/COP', dates[0]!, dates.at(-1)!);
  return bars.sort((a, b) => a.time - b.time);
}
