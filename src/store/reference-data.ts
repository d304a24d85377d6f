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
import { instruments } from '../domain/symbol.ts';
import { getAppState, setAppState } from './app-state-repo.ts';
import type { Db } from './db.ts';
import { replaceHolidays } from './holidays-repo.ts';
import { ensureSymbols } from './symbols-repo.ts';

/** The years the holiday table covers. */
export const HOLIDAY_TABLE_YEARS = { from: 2015, to: 2035 } as const;
const FINGERPRINT_KEY = 'holidays.fingerprint';
/** Serialises the rebuild between processes that start together on a new database. */
const REFERENCE_LOCK_KEY = 7_324_102;

/**
 * Every configured instrument into `symbols`; the holidays of the markets of `served` (the
 * symbols this deployment ingests and serves) into `holidays`. Only those: building a market's
 * 21 years costs about a second of the holiday library's time, paid on every new database.
 */
export async function syncReferenceData(db: Db, served: readonly MarketCalendar[]): Promise<void> {
  await ensureSymbols(db, instruments());
  const fingerprint = calendarFingerprint(served);
  if ((await getAppState<string>(db, FINGERPRINT_KEY)) === fingerprint) return;
  const rows = holidayRows(served);
  const { from, to } = HOLIDAY_TABLE_YEARS;
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

/**
 * Every market's holidays, one row per date and market (country). Two instruments of one country
 * share its rows; the first configured one's rules win (a deployment with two instruments of
 * one country and different closures should give them different market codes).
 */
function holidayRows(served: readonly MarketCalendar[]): Holiday[] {
  const rows = new Map<string, Holiday>();
  for (const calendar of served) {
    for (let year = HOLIDAY_TABLE_YEARS.from; year <= HOLIDAY_TABLE_YEARS.to; year++) {
      for (const h of [...calendar.holidays(year), ...calendar.usHolidays(year)]) if (!rows.has(`${h.date}|${h.market}`)) rows.set(`${h.date}|${h.market}`, h);
    }
  }
  return [...rows.values()];
}

export function calendarFingerprint(served: readonly MarketCalendar[]): string {
  const markets = served.map((c) => ({ symbol: c.symbol, market: c.instrument.market, overrides: c.overrides() }));
  const parts = { library: holidayLibraryVersion(), markets, years: HOLIDAY_TABLE_YEARS };
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
