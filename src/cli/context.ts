/** What every command needs: configuration, the calendar, and (on demand) the migrated store. */
import { resolve } from 'node:path';
import { loadMarketCalendar, servedSymbols } from '../calendar-config.ts';
import { loadConfig, type Config } from '../config.ts';
import type { Calendars } from '../domain/calendar.ts';
import type { Db } from '../store/db.ts';
import { openDb } from '../store/open-db.ts';
import { migrate } from '../store/migrate.ts';
import { syncReferenceData } from '../store/reference-data.ts';

export interface CliContext {
  config: Config;
  calendar: Calendars;
}

export function createContext(env: Record<string, string | undefined> = process.env): CliContext {
  const config = loadConfig(env);
  return { config, calendar: loadMarketCalendar(config) };
}

/** Opens the configured database without touching its schema (for `tasa doctor`). */
export async function openConfiguredDb(ctx: CliContext): Promise<Db> {
  const { DATABASE_URL, TASA_DATA_DIR } = ctx.config;
  return DATABASE_URL === undefined ? openDb({ dataDir: resolve(TASA_DATA_DIR) }) : openDb({ databaseUrl: DATABASE_URL });
}

/** Opens the database, brings its schema up to date and loads reference data, runs `fn`, closes. */
export async function withStore<T>(ctx: CliContext, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openConfiguredDb(ctx);
  try {
    await migrate(db);
    await syncReferenceData(db, servedSymbols(ctx.config).map((symbol) => ctx.calendar.of(symbol)));
    return await fn(db);
  } finally {
    await db.close();
  }
}
