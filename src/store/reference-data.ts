/**
 * Reference rows derived from code: the known instruments and the holiday table (a copy of the
 * calendar's answers, for SQL joins). The holiday table is rebuilt only when what it was built
 * from changed (holiday library version, decree overrides, years), because building 21 years of
 * calendar takes about a second and every command starts here.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Holiday, MarketCalendar } from '../domain/calendar.ts';
import { INSTRUMENTS } from '../domain/symbol.ts';
import { getAppState, setAppState } from './app-state-repo.ts';
import type { Db } from './db.ts';
import { replaceHolidays } from './holidays-repo.ts';
import { ensureSymbols } from './symbols-repo.ts';

/** The years the holiday table covers. */
export const HOLIDAY_TABLE_YEARS = { from: 2015, to: 2035 } as const;
const FINGERPRINT_KEY = 'holidays.fingerprint';
/** Serialises the rebuild between processes that start together on a new database. */
const REFERENCE_LOCK_KEY = 7_324_102;

export async function syncReferenceData(db: Db, calendar: MarketCalendar): Promise<void> {
  await ensureSymbols(db, INSTRUMENTS);
  const fingerprint = calendarFingerprint(calendar);
  if ((await getAppState<string>(db, FINGERPRINT_KEY)) === fingerprint) return;
  const { from, to } = HOLIDAY_TABLE_YEARS;
  const rows: Holiday[] = [];
  for (let year = from; year <= to; year++) rows.push(...calendar.holidays(year), ...calendar.usHolidays(year));
  await db.transaction(async (tx) => {
    // Two processes starting at once both saw the old fingerprint; the second waits here, then
    // finds the table built (without the lock its insert collided with the first's).
    await tx.query('SELECT pg_advisory_xact_lock($1)', [REFERENCE_LOCK_KEY]);
    if ((await getAppState<string>(tx, FINGERPRINT_KEY)) === fingerprint) return;
    await replaceHolidays(tx, rows, from, to);
    await setAppState(tx, FINGERPRINT_KEY, fingerprint);
  });
}

/** The fingerprint of the calendar the holiday table was last built from (null before the first sync). */
export async function storedCalendarFingerprint(db: Db): Promise<string | null> {
  return getAppState<string>(db, FINGERPRINT_KEY);
}

export function calendarFingerprint(calendar: MarketCalendar): string {
  const parts = { library: holidayLibraryVersion(), overrides: calendar.overrides(), years: HOLIDAY_TABLE_YEARS };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

export function holidayLibraryVersion(): string {
  const entry = createRequire(import.meta.url).resolve('date-holidays');
  let dir = dirname(entry);
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'date-holidays' && pkg.version) return pkg.version;
    } catch {
      // not this directory; keep walking up
    }
  }
  return 'unknown';
}
