-- 003 jobs: alerts raised by scheduled jobs (the failsafe's coverage check, later others).
-- An alert is open until resolved_at is set. At most one open alert per dedupe_key: raising the
-- same condition again bumps occurrences and last_seen_at instead of adding a row.

CREATE TABLE alerts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT now(),
  kind         text NOT NULL,
  severity     text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  symbol       text,
  message      text NOT NULL,
  details      jsonb NOT NULL DEFAULT '{}',
  dedupe_key   text NOT NULL,
  occurrences  int NOT NULL DEFAULT 1 CHECK (occurrences >= 1),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  resolved_at  timestamptz
);
CREATE UNIQUE INDEX alerts_open_dedupe_key ON alerts (dedupe_key) WHERE resolved_at IS NULL;
CREATE INDEX alerts_at_idx ON alerts (at);
CREATE INDEX alerts_open_kind_idx ON alerts (kind, at) WHERE resolved_at IS NULL;
