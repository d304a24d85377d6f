-- 014 tick retention. `ticks` has been range-partitioned by UTC month since 001 (ticks_yYYYYmMM,
-- created on demand by tasa_ensure_tick_partition; the dedup key includes `time`, the partition
-- key, so ON CONFLICT works per partition). Retention archives each month partition entirely
-- older than TASA_TICK_RETENTION_DAYS to Parquet, verifies the archive against the partition
-- (row count and tasa_tick_checksum), and only then drops it (src/jobs/retention/).

-- Existing rows kept: every month still in the default partition gets its own partition now.
SELECT tasa_ensure_tick_partition(m)
FROM (SELECT DISTINCT date_trunc('month', time AT TIME ZONE 'UTC')::date AS m FROM ticks_default) AS months;

-- One row per archive written; `dropped_at` set once the partition was dropped after it verified.
-- A month whose partition came back (a very late tick) is archived again under another key.
CREATE TABLE tick_archives (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partition    text NOT NULL,
  range_from   timestamptz NOT NULL,
  range_to     timestamptz NOT NULL CHECK (range_to > range_from),
  rows         bigint NOT NULL CHECK (rows >= 0),
  -- tasa_tick_checksum of the rows: the same in the database and in the Parquet file read back.
  checksum     text NOT NULL,
  file_key     text NOT NULL,
  manifest_key text NOT NULL,
  bytes        bigint NOT NULL CHECK (bytes >= 0),
  -- What the partition occupied on disk (pg_total_relation_size) when it was dropped.
  store_bytes  bigint,
  archived_at  timestamptz NOT NULL,
  dropped_at   timestamptz,
  UNIQUE (partition, checksum)
);

-- An order-independent checksum of a tick partition's rows: the exact sum (numeric) of the first
-- 8 bytes, as a signed 64-bit integer, of each row's sha256 over a fixed binary encoding: symbol
-- (length + UTF-8), time in epoch microseconds (int8), price (IEEE-754 big-endian), bid and ask
-- (0x00 for null, else 0x01 + IEEE-754), received_at in epoch microseconds, source (length +
-- UTF-8). src/jobs/retention/tick-archive.ts computes the same over rows read back from Parquet;
-- binary floats and microseconds make any change (a rounded price, a lost microsecond) show.
CREATE FUNCTION tasa_tick_row_hash(symbol text, t timestamptz, price float8, bid float8, ask float8, received_at timestamptz, source text)
RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT ('x' || encode(substr(sha256(
      int4send(octet_length(symbol)) || convert_to(symbol, 'UTF8')
      || int8send((extract(epoch FROM t) * 1000000)::bigint)
      || float8send(price)
      || CASE WHEN bid IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || float8send(bid) END
      || CASE WHEN ask IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || float8send(ask) END
      || int8send((extract(epoch FROM received_at) * 1000000)::bigint)
      || int4send(octet_length(source)) || convert_to(source, 'UTF8')), 1, 8), 'hex'))::bit(64)::bigint
$$;

-- Row count and checksum of one partition (by name; refused unless it is a partition of ticks).
CREATE FUNCTION tasa_tick_checksum(part text, OUT rows bigint, OUT checksum text) LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhparent = 'ticks'::regclass AND inhrelid = to_regclass(part)) THEN
    RAISE EXCEPTION 'tasa: % is not a partition of ticks', part;
  END IF;
  EXECUTE format(
    'SELECT count(*), coalesce(sum(tasa_tick_row_hash(symbol, time, price, bid, ask, received_at, source)::numeric), 0)::text FROM %I', part)
    INTO rows, checksum;
END
$$;
