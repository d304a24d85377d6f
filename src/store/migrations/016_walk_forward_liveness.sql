-- 016 walk-forward liveness and fencing. The process that queued a run's folds beats its run's
-- heartbeat while it waits; a running run whose heartbeat stopped (the process died) is failed as
-- stale. Each claim of a fold takes the next claim epoch, and a result is stored only under the
-- epoch that claimed it: a job pg-boss ran again (expired) cannot write over the newer claim.
ALTER TABLE walk_forward_runs ADD COLUMN heartbeat_at timestamptz;
ALTER TABLE walk_forward_folds ADD COLUMN claim_epoch integer NOT NULL DEFAULT 0;
