/**
 * The job handlers a worker runs: the failsafe and the sync, for every configured symbol; the
 * live parity monitor, for every strategy that traded; the on-demand backfill (`tasa backfill`'s
 * gap fill, for the job's symbol and dates); and the pipeline and the tick retention when given.
 */
import type { Bus } from '../bus/index.ts';
import type { Clock } from '../clock.ts';
import type { Calendars } from '../domain/calendar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { Logger } from '../log.ts';
import type { Db } from '../store/db.ts';
import { normalizeSymbol } from '../domain/symbol.ts';
import { isIsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import type { JobHandler, JobHandlers, OnDemandJobContext, OnDemandJobHandler } from './boss.ts';
import { fillGaps } from './gap-fill.ts';
import { BackfillJobData, parseJobData } from './job-payloads.ts';
import type { BudgetedKeyPool } from './budgeted-pool.ts';
import { runFailsafeForSymbols, type FailsafeSymbolsOptions, type FailsafeSymbolsResult } from './failsafe-symbols.ts';
import type { HistorySource } from './history-source.ts';
import { runParityMonitor } from './parity-monitor.ts';
import { runSync } from './sync.ts';

export interface JobDependencies {
  db: Db;
  calendar: Calendars;
  clock: Clock;
  source: HistorySource;
  /** The shared stream (Redis, or the in-process bus of the process that ingests); null: sync has nothing to read. */
  bus: Pick<Bus, 'replay'> | null;
  symbols: readonly SymbolCode[];
  /** `maxRequests`: of the whole run, shared fairly by the symbols (failsafe-symbols.ts). */
  failsafe?: Pick<FailsafeSymbolsOptions, 'sessions' | 'graceMs' | 'targetCoverage' | 'maxRequests'>;
  /** The source's key pool: the failsafe shares the credits it has left today. Without it, only `failsafe.maxRequests` limits a run. */
  pool?: Pick<BudgetedKeyPool, 'creditsLeftToday'>;
  logger?: Pick<Logger, 'info'>;
  /** Runs `pipeline` jobs (data: PipelineJobData); without it this worker fails them. */
  pipeline?: OnDemandJobHandler;
  /** Runs `walk-forward-fold` jobs (walk-forward-jobs.ts); without it this worker leaves them to others. */
  walkForwardFold?: OnDemandJobHandler;
  /** The scheduled tick retention (retention/retention.ts `retentionJobHandler`); without it this worker does not schedule it. */
  retention?: JobHandler;
}

export function jobHandlers(d: JobDependencies): JobHandlers {
  return {
    failsafe: () => runFailsafe(d),
    sync: async (ctx) => {
      const bus = d.bus;
      if (bus === null) return { skipped: 'no shared stream (REDIS_URL is not set)' };
      const streaming = d.symbols.filter((symbol) => streamedLately(d.calendar, symbol, ctx.firedAt));
      if (streaming.length === 0) return { skipped: 'no served market open in the last 30 minutes' };
      return perSymbol(streaming, (symbol) => runSync({ db: d.db, bus, symbol, clock: d.clock, calendar: d.calendar }));
    },
    parity: () => runParityMonitor({ db: d.db, calendar: d.calendar, clock: d.clock }),
    backfill: (ctx) => runBackfillJob(d, ctx),
    ...(d.pipeline === undefined ? {} : { pipeline: d.pipeline }),
    ...(d.walkForwardFold === undefined ? {} : { 'walk-forward-fold': d.walkForwardFold }),
    ...(d.retention === undefined ? {} : { retention: d.retention }),
  };
}

/** Every symbol, on one shared budget: most missing first, the key pool's credits shared fairly. */
function runFailsafe(d: JobDependencies): Promise<FailsafeSymbolsResult> {
  const pool = d.pool;
  const creditsLeft = pool === undefined ? undefined : () => pool.creditsLeftToday();
  return runFailsafeForSymbols({ ...d.failsafe, db: d.db, calendar: d.calendar, clock: d.clock, source: d.source, symbols: d.symbols, creditsLeft, logger: d.logger });
}

/** The same gap fill as `tasa backfill`; its audit entries name who asked for it. */
async function runBackfillJob(d: JobDependencies, ctx: OnDemandJobContext): Promise<unknown> {
  const data = parseJobData(ctx.queue, BackfillJobData, ctx.data);
  for (const [field, value] of [['from', data.from], ['to', data.to]] as const) {
    if (!isIsoDate(value)) throw new TasaError('bad_input', `The backfill job's ${field} "${value}" is not a calendar date.`, { input: field });
  }
  if (data.to < data.from) throw new TasaError('bad_input', `The backfill job's to ${data.to} is before its from ${data.from}.`, { input: 'to' });
  const symbol = normalizeSymbol(data.symbol);
  return fillGaps({ db: d.db, calendar: d.calendar, source: d.source, symbol, from: data.from, to: data.to, clock: d.clock, maxRequests: data.maxRequests, actor: data.requestedBy });
}

/** After a market's close the sync reads its stream this long more, for the session's last events. */
const SYNC_AFTER_CLOSE_MS = 30 * 60_000;

/** Whether the symbol's market is open at `t` or was within SYNC_AFTER_CLOSE_MS: its stream has events to sync. */
export function streamedLately(calendar: Calendars, symbol: SymbolCode, t: number): boolean {
  const market = calendar.of(symbol);
  return market.sessionAt(t) !== null || market.sessionAt(t - SYNC_AFTER_CLOSE_MS) !== null;
}

/** One symbol after the other; results keyed by symbol. */
async function perSymbol<T>(symbols: readonly SymbolCode[], run: (symbol: SymbolCode) => Promise<T>): Promise<Record<string, T>> {
  const results: Record<string, T> = {};
  for (const symbol of symbols) results[symbol] = await run(symbol);
  return results;
}
