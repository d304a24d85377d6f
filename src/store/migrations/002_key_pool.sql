-- 002 key pool: TwelveData API credits per key, shared by every worker on this database.
-- A key is identified only by `k_` + the first 10 hex digits of its sha256: the key itself is
-- never stored. Windows are the clock's UTC minute and UTC date; a window older than the caller's
-- current one counts as unused (the roll-over happens inside the statement that takes credits).

CREATE TABLE api_keys (
  key_id        text PRIMARY KEY CHECK (key_id ~ '^k_[0-9a-f]{10}$'),
  status        text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'bad')),
  bad_reason    text,
  minute_limit  int NOT NULL CHECK (minute_limit > 0),
  day_limit     int NOT NULL CHECK (day_limit > 0),
  -- Start of the UTC minute `minute_used` counts; `day_used` counts the UTC date `day`.
  minute_start  timestamptz NOT NULL,
  minute_used   int NOT NULL DEFAULT 0 CHECK (minute_used >= 0),
  day           date NOT NULL,
  day_used      int NOT NULL DEFAULT 0 CHECK (day_used >= 0),
  credits_total bigint NOT NULL DEFAULT 0 CHECK (credits_total >= 0),
  last_taken_at timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL,
  CONSTRAINT api_keys_bad_reason CHECK ((status = 'bad') = (bad_reason IS NOT NULL))
);
