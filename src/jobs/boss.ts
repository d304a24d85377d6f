/**
 * Scheduled jobs on pg-boss: cron in America/Bogota, workers polling the same database, on
 * PostgreSQL (pg-boss's own pool from the connection string) or on embedded PGlite (through
 * `pgBossDb`, in this process). pg-boss only schedules and dispatches: the handlers are plain
 * async functions that the CLI and tests also call directly.
 *
 * - pg-boss keeps one schedule per queue, so the failsafe's two crons are two queues that
 *   dispatch to the same handler.
 * - `parity` (the live parity monitor, parity-monitor.ts) is scheduled only by a worker given its
 *   handler, as `jobHandlers` gives it; so is `retention` (retention/retention.ts), given when the
 *   worker has the archive to write to.
 * - Queues are `stately` (at most one job queued and one running each): a slow run never piles
 *   up behind itself, and with several workers on one database each cron fires once.
 * - Every dispatch first asks the calendars: when no served market has a trading day today nor
 *   a session open now (EUR/USD's Monday session opens on Sunday), nothing runs, whatever cron
 *   says (cron knows weekdays, not holidays).
 * - pg-boss decides when cron fires by the wall clock (its own timers); the handlers get the
 *   injected clock's time.
 * - On-demand queues (`backfill`, `pipeline`) have no cron: they run what `send` queued (e.g. an
 *   admin's request over the API), on any day, with the job's data (schemas in job-payloads.ts).
 *   A worker without a handler for one still takes its jobs and fails them with a clear message.
 */
import PgBoss from 'pg-boss';
import type { Clock } from '../clock.ts';
import type { Calendars } from '../domain/calendar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { bogotaDate, MARKET_ZONE } from '../domain/time.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Db } from '../store/db.ts';
import { pgBossDb } from './boss-db.ts';

export type JobName = 'failsafe' | 'sync' | 'parity' | 'retention';

/** Scheduled jobs a worker runs only when given their handler (`jobHandlers` gives it). */
type OptionalJobName = 'parity' | 'retention';

export interface JobContext {
  queue: string;
  job: JobName;
  /** The injected clock's time when the job started. */
  firedAt: number;
}

export type JobHandler = (ctx: JobContext) => Promise<unknown>;

/** Queues without a schedule: they run only what is sent to them. */
export type OnDemandJobName = 'backfill' | 'pipeline' | 'walk-forward-fold';

export interface OnDemandJobContext {
  queue: OnDemandJobName;
  jobId: string;
  /** The job's data as queued; the handler checks it (job-payloads.ts). */
  data: unknown;
  /** The injected clock's time when the job started. */
  firedAt: number;
}

export type OnDemandJobHandler = (ctx: OnDemandJobContext) => Promise<unknown>;

/** The scheduled jobs' handlers, and those of the optional scheduled jobs and on-demand queues this worker can run. */
export type JobHandlers = Record<Exclude<JobName, OptionalJobName>, JobHandler> & Partial<Record<OptionalJobName, JobHandler>> & OnDemandHandlers;

/** The on-demand queues' handlers a process has. */
export type OnDemandHandlers = Partial<Record<OnDemandJobName, OnDemandJobHandler>>;

/** What running an on-demand job needs. */
type OnDemandDispatch = Pick<StartJobsOptions, 'clock' | 'logger' | 'metrics' | 'pollingIntervalSeconds'> & { handlers: OnDemandHandlers };

export interface ScheduledQueue {
  queue: string;
  job: JobName;
  cron: string;
}

export const JOB_TIME_ZONE = MARKET_ZONE;

export const JOB_SCHEDULES: readonly ScheduledQueue[] = [
  // The live parity monitor, after the 13:05 failsafe has stored the session's final bars (those L6 backtests).
  { queue: 'parity', job: 'parity', cron: '20 13 * * 1-5' },
  // Every hour and every 5 minutes of every day: the markets' hours differ (EUR/USD's week opens
  // Sunday 17:00 New York, USD/BRL trades to 18:00 Sao Paulo); `dispatch` skips an hour in which
  // no market has a session, and the sync only reads the symbols whose market is (or just was) open.
  { queue: 'failsafe', job: 'failsafe', cron: '0 * * * *' },
  // Five minutes after USD/COP's 13:00 close: the session's last bar is due by then.
  { queue: 'failsafe-at-close', job: 'failsafe', cron: '5 13 * * 1-5' },
  { queue: 'sync', job: 'sync', cron: '*/5 * * * *' },
  // Tick retention (retention/retention.ts), in the evening: archive, verify and drop old tick partitions.
  { queue: 'retention', job: 'retention', cron: '0 18 * * 1-5' },
];

export interface OnDemandQueue {
  queue: OnDemandJobName;
  /** A running job is given up (and failed) after this long. */
  expireInSeconds: number;
  /** Times a failed or expired job is queued again (default 0). */
  retryLimit?: number;
  /** Only workers with its handler take its jobs (others would fail work that another worker can do). */
  handlerOnly?: boolean;
}

/**
 * A walk-forward fold job's expiry: PPO training with several seeds over years of bars takes hours.
 * Each fold job is also sent with it, because pg-boss keeps a queue's settings from its creation
 * (a database made before this value keeps its old one).
 */
export const WALK_FORWARD_FOLD_EXPIRE_SECONDS = 12 * 60 * 60;

export const ON_DEMAND_QUEUES: readonly OnDemandQueue[] = [
  // A multi-year backfill waits out per-minute credit limits; a pipeline run may train a policy.
  { queue: 'backfill', expireInSeconds: 4 * 60 * 60 },
  { queue: 'pipeline', expireInSeconds: 6 * 60 * 60 },
  // One walk-forward fold (pipeline/walk-forward-fold.ts): retried once, so a fold whose worker died is run by another.
  { queue: 'walk-forward-fold', expireInSeconds: WALK_FORWARD_FOLD_EXPIRE_SECONDS, retryLimit: 1, handlerOnly: true },
];

const SCHEMA = 'pgboss';
const JOB_EXPIRE_SECONDS = 30 * 60;
const DEFAULT_POLLING_SECONDS = 2;
const STOP_TIMEOUT_MS = 30_000;

export interface StartJobsOptions {
  db: Db;
  /** PostgreSQL URL: pg-boss opens its own small pool. Without it pg-boss runs over `db` (PGlite). */
  databaseUrl?: string;
  clock: Clock;
  calendar: Calendars;
  /** The symbols served: a scheduled job runs on a day one of their markets trades (default: every market of `calendar`). */
  symbols?: readonly SymbolCode[];
  logger: Logger;
  handlers: JobHandlers;
  /** How often workers look for due jobs; default 2 s (pg-boss's minimum is 0.5 s). */
  pollingIntervalSeconds?: number;
  /** How often pg-boss checks the crons and hands fired ones to the queues; default pg-boss's 30 s and 5 s. */
  cronCheckIntervalSeconds?: number;
  /** Prometheus metrics: runs by outcome (ok, failed, skipped) and durations per job. */
  metrics?: Metrics;
}

export interface RunningJobs {
  readonly boss: PgBoss;
  /**
   * Queues a job now: on a scheduled queue it runs through the same dispatch (calendar check
   * included); on an on-demand queue (`backfill`, `pipeline`) `data` is the job's data. Returns the job id.
   */
  send(queue: string, data?: object): Promise<string | null>;
  stop(): Promise<void>;
}

export async function startJobs(o: StartJobsOptions): Promise<RunningJobs> {
  const boss = new PgBoss(bossConfig(o));
  boss.on('error', (err) => o.logger.error({ err: errorMessage(err) }, 'jobs: pg-boss error'));
  await boss.start();
  try {
    for (const s of scheduledQueues(o.handlers)) await register(boss, s, o);
    for (const q of ON_DEMAND_QUEUES) await registerOnDemand(boss, q, o);
  } catch (err) {
    await boss.stop({ graceful: false, close: true });
    throw err;
  }
  o.logger.info({ queues: scheduledQueues(o.handlers).map((s) => `${s.queue} ${s.cron}`), onDemand: ON_DEMAND_QUEUES.map((q) => q.queue), tz: JOB_TIME_ZONE, driver: o.databaseUrl ? 'postgres' : o.db.driver }, 'jobs: started');
  let stopping: Promise<void> | null = null;
  return {
    boss,
    send: (queue, data = {}) => boss.send(queue, data),
    stop: () => (stopping ??= stopJobs(boss, o.logger)),
  };
}

/** The scheduled queues a worker with these handlers runs: every one whose job it has a handler for. */
export function scheduledQueues(handlers: JobHandlers): ScheduledQueue[] {
  return JOB_SCHEDULES.filter((s) => handlers[s.job] !== undefined);
}

/** Waits for running jobs (up to 30 s), then stops polling and cron; closes pg-boss's own pool. */
export async function stopJobs(boss: PgBoss, logger?: Logger): Promise<void> {
  await boss.stop({ graceful: true, wait: true, close: true, timeout: STOP_TIMEOUT_MS });
  logger?.info('jobs: stopped');
}

/**
 * A job queue for a process that runs no workers (`tasa serve`): it only sends on-demand jobs,
 * which the workers on the same database (`tasa worker`, `tasa up`) run. No crons, no maintenance.
 */
export async function openJobSender(o: Pick<StartJobsOptions, 'db' | 'databaseUrl' | 'logger'>): Promise<Pick<RunningJobs, 'send' | 'stop'>> {
  const boss = new PgBoss({ ...bossConfig(o), supervise: false, schedule: false });
  boss.on('error', (err) => o.logger.error({ err: errorMessage(err) }, 'jobs: pg-boss error'));
  await boss.start();
  try {
    for (const q of ON_DEMAND_QUEUES) await createOnDemandQueue(boss, q);
  } catch (err) {
    await boss.stop({ graceful: false, close: true });
    throw err;
  }
  let stopping: Promise<void> | null = null;
  return {
    send: (queue, data = {}) => boss.send(queue, data),
    stop: () => (stopping ??= boss.stop({ graceful: false, close: true, wait: true })),
  };
}

export interface OnDemandWorkerOptions extends Pick<StartJobsOptions, 'db' | 'databaseUrl' | 'clock' | 'logger' | 'metrics' | 'pollingIntervalSeconds'> {
  /** The on-demand queues this process works; the others it may only send to. */
  handlers: OnDemandHandlers;
}

/**
 * pg-boss for a process that is not a worker (e.g. `tasa pipeline run`): it sends on-demand jobs
 * and works the queues it has handlers for, next to the workers on the same database; no crons.
 */
export async function startOnDemandWorker(o: OnDemandWorkerOptions): Promise<RunningJobs> {
  const boss = new PgBoss({ ...bossConfig(o), schedule: false });
  boss.on('error', (err) => o.logger.error({ err: errorMessage(err) }, 'jobs: pg-boss error'));
  await boss.start();
  try {
    for (const q of ON_DEMAND_QUEUES) {
      if (o.handlers[q.queue] === undefined) await createOnDemandQueue(boss, q);
      else await registerOnDemand(boss, q, o);
    }
  } catch (err) {
    await boss.stop({ graceful: false, close: true });
    throw err;
  }
  let stopping: Promise<void> | null = null;
  return {
    boss,
    send: (queue, data = {}) => boss.send(queue, data),
    stop: () => (stopping ??= stopJobs(boss)),
  };
}

function bossConfig(o: Pick<StartJobsOptions, 'db' | 'databaseUrl' | 'cronCheckIntervalSeconds'>): PgBoss.ConstructorOptions {
  const cron = o.cronCheckIntervalSeconds;
  const common = {
    schema: SCHEMA,
    application_name: 'tasa-jobs',
    ...(cron === undefined ? {} : { cronMonitorIntervalSeconds: cron, cronWorkerIntervalSeconds: cron }),
  };
  if (o.databaseUrl !== undefined && o.databaseUrl !== '') return { ...common, connectionString: o.databaseUrl, max: 4 };
  return { ...common, db: pgBossDb(o.db) };
}

/** PostgreSQL's deadlock_detected. */
const DEADLOCK = '40P01';
const CREATE_QUEUE_ATTEMPTS = 5;

/**
 * pg-boss's createQueue (idempotent), tried again when it lost a deadlock: on a new database,
 * processes that start together (a worker and the API processes of deploy/compose.yaml) create
 * different queues at once, and each creation adds foreign keys to pg-boss's queue table.
 */
export async function createQueue(boss: PgBoss, name: string, options: PgBoss.Queue): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await boss.createQueue(name, options);
    } catch (err) {
      if (attempt >= CREATE_QUEUE_ATTEMPTS || (err as { code?: unknown }).code !== DEADLOCK) throw err;
    }
  }
}

async function register(boss: PgBoss, s: ScheduledQueue, o: StartJobsOptions): Promise<void> {
  await createQueue(boss, s.queue, { name: s.queue, policy: 'stately', retryLimit: 1, expireInSeconds: JOB_EXPIRE_SECONDS });
  await boss.schedule(s.queue, s.cron, {}, { tz: JOB_TIME_ZONE });
  await boss.work(s.queue, { pollingIntervalSeconds: o.pollingIntervalSeconds ?? DEFAULT_POLLING_SECONDS }, () => dispatch(s, o));
}

/** Standard policy: every request is kept (two backfills of different ranges both run), one at a time per worker. */
async function registerOnDemand(boss: PgBoss, q: OnDemandQueue, o: OnDemandDispatch): Promise<void> {
  await createOnDemandQueue(boss, q);
  if (q.handlerOnly === true && o.handlers[q.queue] === undefined) return;
  const worker = { id: '' };
  worker.id = await boss.work(q.queue, { pollingIntervalSeconds: o.pollingIntervalSeconds ?? DEFAULT_POLLING_SECONDS }, async ([job]) => {
    if (job === undefined) return null;
    try {
      return await dispatchOnDemand(q.queue, job.id, job.data, o);
    } finally {
      // A job was waiting, so more may be (a walk-forward run queues all its folds at once): look
      // again as soon as this one is done rather than after the polling interval.
      if (worker.id !== '') boss.notifyWorker(worker.id);
    }
  });
}

/** Not retried: a backfill resumes where it stopped when queued again; a failed pipeline run needs a look first. */
async function createOnDemandQueue(boss: PgBoss, q: OnDemandQueue): Promise<void> {
  await createQueue(boss, q.queue, { name: q.queue, policy: 'standard', retryLimit: q.retryLimit ?? 0, expireInSeconds: q.expireInSeconds });
}

/** Runs an on-demand job's handler; a worker without one fails the job, saying so. */
export async function dispatchOnDemand(
  queue: OnDemandJobName,
  jobId: string,
  data: unknown,
  o: Omit<OnDemandDispatch, 'pollingIntervalSeconds'>,
): Promise<unknown> {
  const handler = o.handlers[queue];
  if (handler === undefined) {
    o.logger.error({ queue, jobId }, `jobs: no ${queue} handler in this worker`);
    o.metrics?.jobRuns.inc({ job: queue, outcome: 'failed' });
    throw new Error(`no ${queue} handler in this worker`);
  }
  const started = o.clock.now();
  const stopTimer = o.metrics?.jobDuration.startTimer({ job: queue });
  try {
    const result = await handler({ queue, jobId, data, firedAt: started });
    o.logger.info({ queue, jobId, ms: o.clock.now() - started }, 'jobs: done');
    o.metrics?.jobRuns.inc({ job: queue, outcome: 'ok' });
    return result;
  } catch (err) {
    o.logger.error({ queue, jobId, err: errorMessage(err) }, 'jobs: failed');
    o.metrics?.jobRuns.inc({ job: queue, outcome: 'failed' });
    throw err;
  } finally {
    stopTimer?.();
  }
}

/** Runs the queue's handler unless no market has a session today or open now; the result is the job's output. */
export async function dispatch(s: ScheduledQueue, o: Pick<StartJobsOptions, 'clock' | 'calendar' | 'symbols' | 'logger' | 'handlers' | 'metrics'>): Promise<unknown> {
  const firedAt = o.clock.now();
  const date = bogotaDate(firedAt);
  const markets = o.symbols === undefined ? o.calendar.all() : o.symbols.map((symbol) => o.calendar.of(symbol));
  if (!markets.some((market) => market.tradesOnDayOf(firedAt))) {
    o.logger.info({ queue: s.queue, date }, 'jobs: no session today, nothing to do');
    o.metrics?.jobRuns.inc({ job: s.job, outcome: 'skipped' });
    return { skipped: 'non_trading_day', date };
  }
  const started = o.clock.now();
  // Durations on real time (prom-client's timer): the injected clock may run scaled.
  const stopTimer = o.metrics?.jobDuration.startTimer({ job: s.job });
  try {
    const handler = o.handlers[s.job];
    if (handler === undefined) throw new Error(`no ${s.job} handler in this worker`);
    const result = await handler({ queue: s.queue, job: s.job, firedAt });
    o.logger.info({ queue: s.queue, ms: o.clock.now() - started }, 'jobs: done');
    o.metrics?.jobRuns.inc({ job: s.job, outcome: 'ok' });
    return result;
  } catch (err) {
    o.logger.error({ queue: s.queue, err: errorMessage(err) }, 'jobs: failed');
    o.metrics?.jobRuns.inc({ job: s.job, outcome: 'failed' });
    throw err;
  } finally {
    stopTimer?.();
  }
}
