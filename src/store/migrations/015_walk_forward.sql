-- 015 walk-forward: one row per walk-forward evaluation and one per fold. Each fold is a pg-boss
-- job (queue walk-forward-fold) that any worker may run; it stores its result here, and the run
-- that queued the folds assembles the report once every fold is done.
CREATE TABLE walk_forward_runs (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  symbol          text NOT NULL,
  status          text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed')),
  -- What the folds need to rebuild their data and judge it: the L1 and L3 runs, costs, gates, policies, the fold plan.
  config          jsonb NOT NULL,
  -- sha256 of the inputs (L4 dataset, research config, code version): an identical rerun reuses the report.
  fingerprint     text NOT NULL,
  dataset_hash    text,
  research_hash   text,
  folds           integer NOT NULL CHECK (folds >= 1),
  report          jsonb,
  report_html     text,
  error           text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);
CREATE INDEX walk_forward_runs_symbol_idx ON walk_forward_runs (symbol, id);
CREATE INDEX walk_forward_runs_fingerprint_idx ON walk_forward_runs (fingerprint, id);

CREATE TABLE walk_forward_folds (
  run_id      bigint NOT NULL REFERENCES walk_forward_runs (id) ON DELETE CASCADE,
  fold        integer NOT NULL CHECK (fold >= 0),
  status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  plan        jsonb NOT NULL,
  result      jsonb,
  error       text,
  -- Who ran it (host:pid of the worker), for the record.
  worker      text,
  started_at  timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (run_id, fold)
);
