/** Builds the market calendar with the configured decree overrides (a JSON file). */
import { readFileSync } from 'node:fs';
import { MarketCalendar, type CalendarOverrides } from './domain/calendar.ts';
import { isIsoDate } from './domain/time.ts';
import type { Config } from './config.ts';
import { errorMessage, TasaError } from './errors.ts';

export function loadMarketCalendar(config: Pick<Config, 'TASA_CALENDAR_OVERRIDES'>): MarketCalendar {
  const path = config.TASA_CALENDAR_OVERRIDES;
  return new MarketCalendar(path === undefined ? undefined : readOverrides(path));
}

/** `{"add":[{"date":"2027-03-22","name":"..."}],"remove":["2027-01-11"]}`, every date checked. */
function readOverrides(path: string): CalendarOverrides {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TasaError('bad_argument', `Cannot read TASA_CALENDAR_OVERRIDES file ${path}: ${errorMessage(err)}.`, { input: path });
  }
  const bad = (what: string) => new TasaError('bad_argument', `${path}: ${what}.`, { input: path });
  if (typeof parsed !== 'object' || parsed === null) throw bad('expected an object with "add" and/or "remove"');
  const { add = [], remove = [] } = parsed as { add?: unknown; remove?: unknown };
  if (!Array.isArray(add) || !Array.isArray(remove)) throw bad('"add" and "remove" must be arrays');
  for (const entry of add as unknown[]) {
    const { date, name } = (entry ?? {}) as { date?: unknown; name?: unknown };
    if (typeof date !== 'string' || !isIsoDate(date) || typeof name !== 'string') throw bad(`bad "add" entry ${JSON.stringify(entry)}; expected {"date":"YYYY-MM-DD","name":"..."}`);
  }
  for (const date of remove as unknown[]) {
    if (typeof date !== 'string' || !isIsoDate(date)) throw bad(`bad "remove" date ${JSON.stringify(date)}`);
  }
  return { add: add as Array<{ date: string; name: string }>, remove: remove as string[] };
}
