-- 006 research: the model registry, backtest results and live predictions (issue 5).

-- Trained and baseline policies. At most one production model per symbol.
CREATE TABLE models (
  id             text PRIMARY KEY,
  kind           text NOT NULL CHECK (kind IN ('ppo', 'baseline')),
  symbol         text NOT NULL,
  dataset_hash   text,
  config         jsonb NOT NULL DEFAULT '{}',
  metrics        jsonb NOT NULL DEFAULT '{}',
  -- Mean reward, loss, entropy... per training iteration.
  training_curve jsonb NOT NULL DEFAULT '[]',
  -- Serialized weights (JSON topology + weights), null for baselines.
  weights        bytea,
  status         text NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'production', 'retired')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  promoted_at    timestamptz
);
CREATE UNIQUE INDEX models_one_production ON models (symbol) WHERE status = 'production';

CREATE TABLE backtests (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  policy_id       text NOT NULL,
  symbol          text NOT NULL,
  from_date       date NOT NULL,
  to_date         date NOT NULL,
  config          jsonb NOT NULL DEFAULT '{}',
  metrics         jsonb NOT NULL DEFAULT '{}',
  gates           jsonb NOT NULL DEFAULT '[]',
  passed          boolean,
  -- Equity curve (downsampled for display) and the trade ledger.
  equity          jsonb NOT NULL DEFAULT '[]',
  trades          jsonb NOT NULL DEFAULT '[]',
  report_html     text,
  dataset_hash    text,
  pipeline_run_id bigint REFERENCES pipeline_runs (id),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX backtests_policy_idx ON backtests (policy_id, id);

-- The production policy's decision at each final live bar.
CREATE TABLE predictions (
  symbol        text NOT NULL,
  bar_time      timestamptz NOT NULL,
  model_id      text NOT NULL,
  position      smallint NOT NULL CHECK (position IN (-1, 0, 1)),
  probabilities float8[] NOT NULL,
  latency_ms    float8 NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (symbol, bar_time, model_id)
);
CREATE INDEX predictions_created_idx ON predictions (symbol, created_at);
