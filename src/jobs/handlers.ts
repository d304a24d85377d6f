/** The job handlers a worker runs: the failsafe and the sync, for every configured symbol. */
import type { Bus } from '../bus/index.ts';
import type { Clock } from '../clock.ts';
import type { MarketCalendar } from '../domain/calendar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { Db } from '../store/db.ts';
import type { JobHandlers } from './boss.ts';
import { runFailsafe, type FailsafeOptions } from './failsafe.ts';
import type { HistorySource } from './history-source.ts';
import { runSync } from './sync.ts';

export interface JobDependencies {
  db: Db;
  calendar: MarketCalendar;
  clock: Clock;
  source: HistorySource;
  /** The shared stream (Redis, or the in-process bus of the process that ingests); null: sync has nothing to read. */
  bus: Pick<Bus, 'replay'> | null;
  symbols: readonly SymbolCode[];
  failsafe?: Pick<FailsafeOptions, 'sessions' | 'graceMs' | 'targetCoverage' | 'maxRequests'>;
}

export function jobHandlers(d: JobDependencies): JobHandlers {
  return {
    failsafe: () => perSymbol(d.symbols, (symbol) => runFailsafe({ ...d.failsafe, db: d.db, calendar: d.calendar, clock: d.clock, source: d.source, symbol })),
    sync: async () => {
      const bus = d.bus;
      if (bus === null) return { skipped: 'no shared stream (REDIS_URL is not set)' };
      return perSymbol(d.symbols, (symbol) => runSync({ db: d.db, bus, symbol, clock: d.clock }));
    },
  };
}

/** One symbol after the other (they share the key budget); results keyed by symbol. */
async function perSymbol<T>(symbols: readonly SymbolCode[], run: (symbol: SymbolCode) => Promise<T>): Promise<Record<string, T>> {
  const results: Record<string, T> = {};
  for (const symbol of symbols) results[symbol] = await run(symbol);
  return results;
}
