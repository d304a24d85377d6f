/** What `tasa backfill` and `tasa worker` run (loaded on demand by ../commands/jobs-commands.ts). */
import { fileURLToPath } from 'node:url';
import { untilShutdownSignal } from '../signals.ts';
import { SingleBar } from 'cli-progress';
import { createBus, type Bus } from '../../bus/index.ts';
import { systemClock } from '../../clock.ts';
import type { SymbolCode } from '../../domain/symbol.ts';
import { servedSymbols } from '../../calendar-config.ts';
import { TasaError } from '../../errors.ts';
import { KeyPool } from '../../feeds/twelvedata/key-pool.ts';
import { JOB_TIME_ZONE, scheduledQueues, startJobs } from '../../jobs/boss.ts';
import { fillGaps, type GapFillProgress, type GapFillSummary } from '../../jobs/gap-fill.ts';
import { jobHandlers } from '../../jobs/handlers.ts';
import { createRestSource, type RestSource } from '../../jobs/history-source.ts';
import { retentionJobHandler } from '../../jobs/retention/retention.ts';
import { walkForwardFoldHandler } from '../../jobs/walk-forward-jobs.ts';
import { createLogger, type Logger } from '../../log.ts';
import { createMetrics, type Metrics } from '../../metrics/metrics.ts';
import { startMetricsListener } from '../../metrics/metrics-listener.ts';
import { createScrapeGauges } from '../../metrics/scrape-gauges.ts';
import { archiveOptionsFrom, openArchive } from '../../pipeline/archive/open-archive.ts';
import { readCodeVersion } from '../../pipeline/manifest.ts';
import type { Db } from '../../store/db.ts';
import { parseDateRange, parseIntegerArg, parseSymbolArg } from '../args.ts';
import { createContext, withStore, type CliContext } from '../context.ts';

export interface BackfillCliOptions {
  symbol: string;
  from: string;
  to?: string;
  maxRequests?: string;
  simulatorUrl?: string;
}

export interface WorkerCliOptions {
  simulatorUrl?: string;
}

/** The repository (package.json, .git) whose version the archives record, as `pipeline run` finds it. */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** The key the simulator is called with when no real key is configured (it accepts any by default). */
const SIMULATOR_KEY = 'tasa-simulator';

export async function runBackfill(o: BackfillCliOptions): Promise<void> {
  console.log(summaryLine(await backfill(o)));
}

async function backfill(o: BackfillCliOptions): Promise<GapFillSummary> {
  const ctx = createContext();
  const symbol = parseSymbolArg(o.symbol);
  const { from, to } = parseDateRange(o.from, o.to);
  const maxRequests = o.maxRequests === undefined ? undefined : parseIntegerArg('--max-requests', o.maxRequests);
  const keys = restKeys(o.simulatorUrl);
  const logger = createLogger(ctx.config.TASA_LOG_LEVEL);
  const progress = progressBar();
  try {
    return await withStore(ctx, (db) => {
      const { source } = restSource(db, keys, restBaseUrl(o, ctx), o.simulatorUrl !== undefined, logger);
      return fillGaps({ db, calendar: ctx.calendar, source, symbol, from, to, clock: systemClock, maxRequests, onProgress: progress?.update });
    });
  } finally {
    progress?.stop();
  }
}

export async function runWorker(o: WorkerCliOptions): Promise<void> {
  const ctx = createContext();
  const keys = restKeys(o.simulatorUrl);
  const symbols = servedSymbols(ctx.config);
  const logger = createLogger(ctx.config.TASA_LOG_LEVEL);
  const clock = systemClock;
  const archive = await openArchive(archiveOptionsFrom(ctx.config));
  await withStore(ctx, async (db) => {
    const bus = await sharedBus(ctx, logger);
    try {
      const { source, pool } = restSource(db, keys, restBaseUrl(o, ctx), o.simulatorUrl !== undefined, logger);
      const codeVersion = await readCodeVersion(ROOT, process.env['TASA_GIT_COMMIT']);
      const retention = retentionJobHandler({ db, archive, clock, logger, retentionDays: ctx.config.TASA_TICK_RETENTION_DAYS, codeVersion });
      // Walk-forward folds queued by any `tasa pipeline run` are shared by every worker.
      const walkForwardFold = walkForwardFoldHandler({ db, archive, clock, calendar: ctx.calendar });
      const handlers = jobHandlers({ db, calendar: ctx.calendar, clock, source, pool, logger, bus, symbols, retention, walkForwardFold });
      const metrics = await workerMetrics(ctx, db, bus, symbols, logger);
      const jobs = await startJobs({ db, databaseUrl: ctx.config.DATABASE_URL, clock, calendar: ctx.calendar, symbols, logger, handlers, metrics: metrics?.metrics });
      // Listen before saying so: stdout to a pipe is synchronous, so a supervisor may signal at once.
      const signalled = untilShutdownSignal();
      console.log(`worker: ${scheduledQueues(handlers).map((s) => `${s.queue} (${s.cron})`).join(', ')} in ${JOB_TIME_ZONE} for ${symbols.join(', ')} on ${db.target}; Ctrl-C to stop`);
      await signalled;
      console.log('worker: stopping (waiting for running jobs)');
      await jobs.stop();
      await metrics?.close();
      console.log('worker: stopped');
    } finally {
      await bus?.close();
    }
  }).finally(() => archive.close());
}

/**
 * The worker's own GET /metrics (job runs and durations, labelled role="worker") on
 * TASA_METRICS_PORT, when set; the scrape-time gauges need the shared bus (REDIS_URL).
 */
async function workerMetrics(ctx: CliContext, db: Db, bus: Bus | null, symbols: readonly SymbolCode[], logger: Logger): Promise<{ metrics: Metrics; close(): Promise<void> } | null> {
  const port = ctx.config.TASA_METRICS_PORT;
  if (port === undefined) return null;
  const metrics = createMetrics({ role: 'worker' });
  const gauges = bus === null ? { update: () => Promise.resolve() } : createScrapeGauges({ db, bus, clock: systemClock, calendar: ctx.calendar, metrics, symbols, logger });
  const listener = await startMetricsListener({ host: ctx.config.TASA_HTTP_HOST, port, metrics, gauges, logger: logger.child({ component: 'metrics' }) });
  return { metrics, close: () => listener.close() };
}

/** TWELVEDATA_API_KEYS (or _1.._16); with --simulator-url any key will do. */
function restKeys(simulatorUrl: string | undefined): string[] {
  const keys = KeyPool.keysFromEnv(process.env);
  if (keys.length > 0) return keys;
  if (simulatorUrl !== undefined) return [SIMULATOR_KEY];
  throw new TasaError('bad_argument', 'No TwelveData API key: set TWELVEDATA_API_KEYS, or pass --simulator-url <restUrl> of a running `tasa simulate`.', {
    input: 'TWELVEDATA_API_KEYS',
  });
}

/** `--simulator-url` when given, else TWELVEDATA_REST_URL (default api.twelvedata.com), as `tasa up` uses it. */
function restBaseUrl(o: { simulatorUrl?: string }, ctx: CliContext): string {
  return o.simulatorUrl ?? ctx.config.TWELVEDATA_REST_URL;
}

/** `simulated`: `--simulator-url` was given, so the bars it fills are stored as `simulator` (its answers look like TwelveData's). */
function restSource(db: Db, keys: string[], baseUrl: string, simulated: boolean, logger: Logger): RestSource {
  return createRestSource({ db, clock: systemClock, keys, plan: KeyPool.planFromEnv(process.env), baseUrl, simulated, logger });
}

/** Sync reads the stream the ingest process publishes; only Redis shares it between processes. */
async function sharedBus(ctx: CliContext, logger: Logger): Promise<Bus | null> {
  const url = ctx.config.REDIS_URL;
  if (url === undefined) {
    logger.warn('worker: REDIS_URL is not set, so the stream lives in the ingest process; the sync job will skip');
    return null;
  }
  return createBus({ redisUrl: url, clock: systemClock, logger });
}


interface ProgressDisplay {
  update: (p: GapFillProgress) => void;
  stop: () => void;
}

/** A bar on stderr when it is a terminal; nothing otherwise (pipes and logs get the summary line only). */
function progressBar(): ProgressDisplay | null {
  if (!process.stderr.isTTY) return null;
  const bar = new SingleBar({ format: 'backfill [{bar}] {value}/{total} requests | filled {filled} of {missing} missing bars', stream: process.stderr });
  let started = false;
  return {
    update: (p) => {
      if (!started) bar.start(p.requestsPlanned, 0, { filled: 0, missing: p.missingBars });
      started = true;
      bar.update(p.requestsDone, { filled: p.filledBars, missing: p.missingBars });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

export function summaryLine(s: GapFillSummary): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const partial = (x: number) => (x > 0 ? `, ${n(x)} partial` : '');
  const parts = [
    `${s.symbol} ${s.from}..${s.to}: ${n(s.sessions)} sessions, ${n(s.expectedBars)} bars due, ${n(s.missingBefore)} missing${partial(s.partialBefore)}`,
    `${n(s.requests)} of ${n(s.requestsPlanned)} requests`,
    `filled ${n(s.filledBars)}${s.repairedBars > 0 ? ` (${n(s.repairedBars)} partial bars repaired)` : ''}`,
    `still missing ${n(s.missingAfter)}${partial(s.partialAfter)}`,
  ];
  if (s.budgetExhausted) parts.push("stopped: today's API credits are spent (run again after 00:00 UTC to continue)");
  else if (s.stoppedAtMaxRequests) parts.push('stopped at --max-requests (run again to continue)');
  return parts.join(' | ');
}


