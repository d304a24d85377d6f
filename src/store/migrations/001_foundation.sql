-- 001 foundation: instruments, raw (L0) and clean (L1) bars, ticks, session quality, holidays,
-- pipeline runs and the audit log. PostgreSQL 15 SQL (PGlite runs PG 18: no PG16+ features).
-- All instants are timestamptz (UTC); prices are float8.

-- Raises on any UPDATE, DELETE or TRUNCATE of the table it guards (append-only tables).
CREATE FUNCTION tasa_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TABLE symbols (
  symbol     text PRIMARY KEY,
  base       text NOT NULL,
  quote      text NOT NULL,
  decimals   int NOT NULL CHECK (decimals >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- L0: every row exactly as received, never modified. Re-importing a file inserts nothing
-- because (origin_sha256, line_no) already exists.
CREATE TABLE raw_bars (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  symbol        text NOT NULL,
  origin        text NOT NULL,
  origin_sha256 text NOT NULL,
  line_no       int NOT NULL,
  raw           text NOT NULL,
  time          timestamptz,
  open          float8,
  high          float8,
  low           float8,
  close         float8,
  volume        float8,
  source_label  text,
  ingested_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT raw_bars_origin_line_key UNIQUE (origin_sha256, line_no),
  -- a row is either parsed (time and OHLC) or not parsed at all
  CONSTRAINT raw_bars_parsed_whole CHECK (
    (time IS NULL AND open IS NULL AND high IS NULL AND low IS NULL AND close IS NULL AND volume IS NULL)
    OR (time IS NOT NULL AND open IS NOT NULL AND high IS NOT NULL AND low IS NOT NULL AND close IS NOT NULL))
);
CREATE INDEX raw_bars_symbol_time_idx ON raw_bars (symbol, time);
CREATE TRIGGER raw_bars_append_only BEFORE UPDATE OR DELETE ON raw_bars
  FOR EACH ROW EXECUTE FUNCTION tasa_reject_change();
CREATE TRIGGER raw_bars_no_truncate BEFORE TRUNCATE ON raw_bars
  FOR EACH STATEMENT EXECUTE FUNCTION tasa_reject_change();

-- L1: one clean bar per (symbol, open time). `x < 'Infinity'` also rejects NaN, which
-- PostgreSQL sorts above every number.
CREATE TABLE bars (
  symbol     text NOT NULL,
  time       timestamptz NOT NULL,
  open       float8 NOT NULL,
  high       float8 NOT NULL,
  low        float8 NOT NULL,
  close      float8 NOT NULL,
  volume     float8 CHECK (volume >= 0 AND volume < 'Infinity'),
  tick_count int CHECK (tick_count >= 0),
  source     text NOT NULL,
  revision   int NOT NULL DEFAULT 1 CHECK (revision >= 1),
  flags      text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (symbol, time),
  CONSTRAINT bars_prices_positive_finite CHECK (
    open > 0 AND high > 0 AND low > 0 AND close > 0
    AND open < 'Infinity' AND high < 'Infinity' AND low < 'Infinity' AND close < 'Infinity'),
  CONSTRAINT bars_ohlc_integrity CHECK (high >= greatest(open, close) AND low <= least(open, close))
);

-- The values a bar had before each change; `revision` is the revision they were.
CREATE TABLE bar_revisions (
  symbol      text NOT NULL,
  time        timestamptz NOT NULL,
  revision    int NOT NULL,
  open        float8 NOT NULL,
  high        float8 NOT NULL,
  low         float8 NOT NULL,
  close       float8 NOT NULL,
  volume      float8,
  tick_count  int,
  source      text NOT NULL,
  flags       text[] NOT NULL,
  replaced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (symbol, time, revision)
);

-- Live ticks, partitioned by month of exchange time (UTC). Rows outside every month
-- partition land in ticks_default until tasa_ensure_tick_partition moves them.
CREATE TABLE ticks (
  symbol      text NOT NULL,
  time        timestamptz NOT NULL,
  price       float8 NOT NULL CHECK (price > 0 AND price < 'Infinity'),
  bid         float8,
  ask         float8,
  received_at timestamptz NOT NULL,
  source      text NOT NULL,
  -- A tick identical in every field is the same tick delivered twice (a replay, a sync).
  CONSTRAINT ticks_dedup_key UNIQUE NULLS NOT DISTINCT (symbol, time, price, bid, ask, received_at)
) PARTITION BY RANGE (time);
CREATE TABLE ticks_default PARTITION OF ticks DEFAULT;

-- Creates the partition ticks_yYYYYmMM for the UTC month starting at `month_start` (idempotent),
-- first moving that month's rows out of ticks_default (attaching would fail otherwise).
CREATE FUNCTION tasa_ensure_tick_partition(month_start date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  part text := format('ticks_y%sm%s', to_char(month_start, 'YYYY'), to_char(month_start, 'MM'));
  lo   timestamptz := date_trunc('month', month_start::timestamp)::timestamp AT TIME ZONE 'UTC';
  hi   timestamptz := (date_trunc('month', month_start::timestamp) + interval '1 month')::timestamp AT TIME ZONE 'UTC';
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('tasa_ensure_tick_partition'));
  IF to_regclass(part) IS NOT NULL THEN
    RETURN part;
  END IF;
  EXECUTE format('CREATE TABLE %I (LIKE ticks INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
  EXECUTE format(
    'WITH moved AS (DELETE FROM ticks_default WHERE time >= %L AND time < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
    lo, hi, part);
  EXECUTE format('ALTER TABLE ticks ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
  RETURN part;
END
$$;

CREATE TABLE sessions (
  symbol     text NOT NULL,
  date       date NOT NULL,
  expected   int NOT NULL CHECK (expected >= 0),
  present    int NOT NULL CHECK (present >= 0),
  missing    int NOT NULL CHECK (missing >= 0),
  flat_share float8 CHECK (flat_share >= 0 AND flat_share <= 1),
  repaired   int NOT NULL DEFAULT 0 CHECK (repaired >= 0),
  status     text NOT NULL CHECK (status IN ('complete', 'partial', 'missing')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (symbol, date)
);

CREATE TABLE holidays (
  date   date NOT NULL,
  market text NOT NULL CHECK (market IN ('CO', 'US')),
  name   text NOT NULL,
  origin text NOT NULL,
  PRIMARY KEY (date, market)
);

CREATE TABLE pipeline_runs (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  layer        text NOT NULL,
  symbol       text,
  status       text NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'skipped')),
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  rows_in      int,
  rows_out     int,
  params       jsonb NOT NULL DEFAULT '{}',
  summary      jsonb NOT NULL DEFAULT '{}',
  manifest     jsonb,
  dataset_hash text,
  error        text
);
CREATE INDEX pipeline_runs_layer_started_idx ON pipeline_runs (layer, started_at);

CREATE TABLE audit_log (
  id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  actor   text NOT NULL,
  action  text NOT NULL,
  entity  text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, id);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION tasa_reject_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION tasa_reject_change();

-- Small facts about this database, e.g. the fingerprint of the calendar the holidays table was built from.
CREATE TABLE app_state (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
