/** The admin routes' answers the dashboard reads: a job queued by `POST /api/admin/backfill` or `/api/admin/pipeline/run`. */
import { Type, type Static } from 'typebox';

export const QueuedJob = Type.Object({
  jobId: Type.String({ description: 'pg-boss job id' }),
  queue: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown(), { description: 'The job data as queued' }),
});
export type QueuedJob = Static<typeof QueuedJob>;
