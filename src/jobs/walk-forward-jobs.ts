/**
 * Walk-forward folds as pg-boss jobs (queue `walk-forward-fold`, one job per fold): every
 * `tasa worker` / `tasa up` on the database runs them (jobHandlers gets the handler with the
 * pipeline's), and so does the process that queued them, so a run finishes with no worker at
 * all (embedded mode) and faster with several. The queuing process waits until each fold's row
 * is completed or failed, or its job failed (expired and out of retries: a dead worker).
 *
 * A fold job expires after `WALK_FORWARD_FOLD_EXPIRE_SECONDS` (jobs/boss.ts), long enough for a fold that trains PPO; an
 * expired job runs again (its retry), and the fold's claim epoch keeps the superseded run from
 * storing anything (store/walk-forward-repo.ts).
 */
import { hostname } from 'node:os';
import type PgBoss from 'pg-boss';
import { TasaError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { FoldDeps } from '../pipeline/walk-forward-fold.ts';
import { FoldDataCache, runFold } from '../pipeline/walk-forward-fold.ts';
import type { FoldExecutor } from '../pipeline/walk-forward-run.ts';
import { listFolds } from '../store/walk-forward-repo.ts';
import { startOnDemandWorker, WALK_FORWARD_FOLD_EXPIRE_SECONDS, type OnDemandJobContext, type OnDemandJobHandler, type RunningJobs } from './boss.ts';
import { parseJobData, WalkForwardFoldJobData } from './job-payloads.ts';

export const WALK_FORWARD_QUEUE = 'walk-forward-fold';

/** The handler of `walk-forward-fold`; `worker` names this process in the fold's row. */
export function walkForwardFoldHandler(d: FoldDeps, worker = `${hostname()}:${process.pid}`): OnDemandJobHandler {
  const cache = new FoldDataCache();
  return async (ctx: OnDemandJobContext) => {
    const data = parseJobData(ctx.queue, WalkForwardFoldJobData, ctx.data);
    return (await runFold(d, cache, data.runId, data.fold, worker)) ?? { skipped: 'the fold was already finished' };
  };
}

export interface JobFoldOptions extends FoldDeps {
  databaseUrl?: string | undefined;
  logger: Logger;
  /** Whether this process works fold jobs too (default true). */
  work?: boolean;
  pollingIntervalSeconds?: number;
  /** How often the fold rows are read while waiting (default 200 ms). */
  waitPollMs?: number;
}

/** A fold executor over pg-boss; `stop` it when done. */
export async function jobFoldExecutor(o: JobFoldOptions): Promise<FoldExecutor & { jobs: RunningJobs }> {
  const handlers = o.work === false ? {} : { [WALK_FORWARD_QUEUE]: walkForwardFoldHandler(o) };
  const jobs = await startOnDemandWorker({ ...o, pollingIntervalSeconds: o.pollingIntervalSeconds ?? 0.5, handlers });
  return {
    jobs,
    runFolds: async (runId, folds) => {
      const ids: string[] = [];
      for (let fold = 0; fold < folds; fold++) {
        const id = await jobs.boss.send(WALK_FORWARD_QUEUE, { runId, fold }, { expireInSeconds: WALK_FORWARD_FOLD_EXPIRE_SECONDS });
        if (id === null) throw new TasaError('internal', `pg-boss did not queue fold ${fold + 1} of walk-forward run ${runId}.`);
        ids.push(id);
      }
      await waitForFolds(o, jobs.boss, runId, ids);
    },
  };
}

const TERMINAL_JOB_STATES = new Set(['failed', 'cancelled']);

async function waitForFolds(o: JobFoldOptions, boss: PgBoss, runId: number, jobIds: readonly string[]): Promise<void> {
  for (;;) {
    const folds = await listFolds(o.db, runId);
    const open = folds.filter((f) => f.status === 'queued' || f.status === 'running');
    if (open.length === 0) return;
    // A fold whose job failed for good (its worker died past the retries) will not finish.
    for (const f of open) {
      const job = await boss.getJobById(WALK_FORWARD_QUEUE, jobIds[f.fold]!);
      if (job !== null && TERMINAL_JOB_STATES.has(job.state)) {
        throw new TasaError('internal', `Fold ${f.fold + 1} of walk-forward run ${runId} was not finished: its job ${job.id} is ${job.state}.`, { input: String(runId) });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, o.waitPollMs ?? 200));
  }
}
