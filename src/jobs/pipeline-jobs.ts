/**
 * The research pipeline as jobs, all through `runPipeline`:
 * - the on-demand `pipeline` queue (jobs/boss.ts): the layers, symbols and dates of the job's
 *   data (job-payloads.ts), e.g. queued by an admin over the API;
 * - two schedules (America/Bogota, weekdays; a day without a session is skipped, like every job):
 *   `pipeline-incremental` runs L1-L2 at :15 and :45 from 08:15 to 13:45, so the bars of the last
 *   half hour (and, at 13:15, the session's last bars and the 13:05 failsafe's fills) reach the
 *   archive; a run where no bar changed is skipped in milliseconds. `pipeline-daily` runs L3-L6 at
 *   13:30 on the newest L2, training a candidate policy and backtesting it with the production
 *   model and the baselines.
 * pg-boss keeps one schedule per queue (v10), so each schedule has its own stately queue.
 */
import type PgBoss from 'pg-boss';
import type { Clock } from '../clock.ts';
import type { Calendars } from '../domain/calendar.ts';
import { normalizeSymbol } from '../domain/symbol.ts';
import { bogotaDate, isIsoDate } from '../domain/time.ts';
import { errorMessage, TasaError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { ArchiveStore } from '../pipeline/archive/archive-store.ts';
import { LAYERS, type LayerId } from '../pipeline/layout.ts';
import type { CodeVersion } from '../pipeline/manifest.ts';
import type { PipelineConfig, PipelineResult } from '../pipeline/run-pipeline.ts';
import type { Db } from '../store/db.ts';
import { createQueue, JOB_TIME_ZONE, type OnDemandJobContext, type OnDemandJobHandler } from './boss.ts';
import { parseJobData, PipelineJobData } from './job-payloads.ts';

export interface PipelineJobDeps {
  db: Db;
  archive: ArchiveStore;
  clock: Clock;
  calendar: Calendars;
  codeVersion: CodeVersion;
  logger: Logger;
  /** The symbols the schedules run for. */
  symbols: readonly string[];
  config?: PipelineConfig;
  metrics?: Pick<Metrics, 'jobRuns' | 'jobDuration'>;
}

/** What a job returns (pg-boss stores it as the job's output): per symbol, each layer's outcome. */
export type PipelineJobOutput = Record<string, Array<{ layer: LayerId; status: string; runId: number; datasetHash: string }>>;

/** The handler of the on-demand `pipeline` queue (`jobHandlers({ ..., pipeline })`). */
export function pipelineJobHandler(d: PipelineJobDeps): OnDemandJobHandler {
  return async (ctx: OnDemandJobContext) => {
    const data = parseJobData(ctx.queue, PipelineJobData, ctx.data);
    for (const [field, value] of [['from', data.from], ['to', data.to]] as const) {
      if (value !== null && !isIsoDate(value)) throw new TasaError('bad_input', `The pipeline job's ${field} "${value}" is not a calendar date.`, { input: field });
    }
    d.logger.info({ jobId: ctx.jobId, layers: data.layers, symbols: data.symbols, requestedBy: data.requestedBy }, 'pipeline job: started');
    return runForSymbols(d, data.symbols.map(normalizeSymbol), data.layers ?? [...LAYERS], { from: data.from ?? undefined, to: data.to ?? undefined });
  };
}

async function runForSymbols(d: PipelineJobDeps, symbols: readonly string[], layers: readonly LayerId[], range: { from?: string | undefined; to?: string | undefined }): Promise<PipelineJobOutput> {
  // Loaded on the first run: the pipeline brings TensorFlow.js, which a worker that never runs it should not load.
  const { runPipeline } = await import('../pipeline/run-pipeline.ts');
  const out: PipelineJobOutput = {};
  for (const symbol of symbols) {
    const result: PipelineResult = await runPipeline({
      db: d.db,
      archive: d.archive,
      clock: d.clock,
      calendar: d.calendar,
      codeVersion: d.codeVersion,
      symbol,
      layers,
      from: range.from,
      to: range.to,
      ...(d.config ? { config: d.config } : {}),
      logger: d.logger,
    });
    out[symbol] = result.layers.map((l) => ({ layer: l.layer, status: l.status, runId: l.runId, datasetHash: l.datasetHash }));
  }
  return out;
}

export interface PipelineSchedule {
  queue: string;
  cron: string;
  layers: readonly LayerId[];
}

export const PIPELINE_SCHEDULES: readonly PipelineSchedule[] = [
  { queue: 'pipeline-incremental', cron: '15,45 8-13 * * 1-5', layers: ['L1', 'L2'] },
  { queue: 'pipeline-daily', cron: '30 13 * * 1-5', layers: ['L3', 'L4', 'L5', 'L6'] },
];

/** A scheduled run is given up (and failed) after this long: the daily one trains a policy. */
const SCHEDULED_EXPIRE_SECONDS = 4 * 60 * 60;

/**
 * Creates the two scheduled queues on a started pg-boss (`RunningJobs.boss`) and works them in
 * this process. Call once per worker process, after `startJobs`.
 */
export async function schedulePipelineJobs(boss: PgBoss, d: PipelineJobDeps, opts: { pollingIntervalSeconds?: number } = {}): Promise<void> {
  for (const s of PIPELINE_SCHEDULES) {
    await createQueue(boss, s.queue, { name: s.queue, policy: 'stately', retryLimit: 0, expireInSeconds: SCHEDULED_EXPIRE_SECONDS });
    await boss.schedule(s.queue, s.cron, {}, { tz: JOB_TIME_ZONE });
    await boss.work(s.queue, { pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 2 }, () => runScheduled(s, d));
  }
  d.logger.info({ queues: PIPELINE_SCHEDULES.map((s) => `${s.queue} ${s.cron} ${s.layers.join(',')}`), tz: JOB_TIME_ZONE }, 'pipeline jobs: scheduled');
}

/** One scheduled run: nothing on a day without a session, else the schedule's layers for every symbol. */
export async function runScheduled(s: PipelineSchedule, d: PipelineJobDeps): Promise<unknown> {
  const date = bogotaDate(d.clock.now());
  if (!d.symbols.some((symbol) => d.calendar.of(symbol).isTradingDay(d.calendar.of(symbol).localDate(d.clock.now())))) {
    d.metrics?.jobRuns.inc({ job: s.queue, outcome: 'skipped' });
    return { skipped: 'non_trading_day', date };
  }
  const stopTimer = d.metrics?.jobDuration.startTimer({ job: s.queue });
  try {
    const output = await runForSymbols(d, d.symbols, s.layers, {});
    d.metrics?.jobRuns.inc({ job: s.queue, outcome: 'ok' });
    return output;
  } catch (err) {
    // Nothing to build on yet (no bars imported, no L2 run): not a failure of the job.
    if (err instanceof TasaError && err.code === 'not_found') {
      d.logger.info({ queue: s.queue, reason: err.message }, 'pipeline job: nothing to do');
      d.metrics?.jobRuns.inc({ job: s.queue, outcome: 'skipped' });
      return { skipped: err.message };
    }
    d.logger.error({ queue: s.queue, err: errorMessage(err) }, 'pipeline job: failed');
    d.metrics?.jobRuns.inc({ job: s.queue, outcome: 'failed' });
    throw err;
  } finally {
    stopTimer?.();
  }
}
