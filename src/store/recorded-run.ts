/** Runs a job step between a `pipeline_runs` start row and its finish row (failed when it throws). */
import type { Clock } from '../clock.ts';
import { errorMessage } from '../errors.ts';
import type { Db } from './db.ts';
import { finishRun, startRun, type FinishRunInput } from './pipeline-runs-repo.ts';

export interface RunHeader {
  layer: string;
  symbol: string | null;
  params: Record<string, unknown>;
}

/** What the finished row says about a result (a step may finish as 'failed' without throwing). */
export type RunOutcome = Omit<FinishRunInput, 'at'>;

/** Times come from the injected clock, so simulated runs are dated in simulated time. */
export async function recordedRun<T>(
  db: Db,
  clock: Clock,
  header: RunHeader,
  work: (runId: number) => Promise<T>,
  outcome: (result: T) => RunOutcome,
): Promise<T> {
  const runId = await startRun(db, { ...header, at: clock.now() });
  let result: T;
  try {
    result = await work(runId);
  } catch (err) {
    // The step's own error is the one worth reporting, even when the database is what failed.
    await finishRun(db, runId, { status: 'failed', rowsIn: null, rowsOut: null, summary: {}, error: errorMessage(err), at: clock.now() }).catch(() => undefined);
    throw err;
  }
  await finishRun(db, runId, { ...outcome(result), at: clock.now() });
  return result;
}
