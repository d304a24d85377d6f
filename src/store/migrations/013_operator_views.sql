-- 013 operator views: the original system's view names, for people who query the database
-- (psql, Grafana's PostgreSQL datasource). Each one answers what an API route answers, from the
-- same tables (docs/sql-views.md names the route; test/store/operator-views.test.ts compares them).
-- Times are timestamptz (UTC); a session's date is its America/Bogota date.

-- The latest stored 5-minute bar of each symbol: the last candle of GET /api/candlesticks/{symbol}.
CREATE OR REPLACE VIEW latest_market_data AS
SELECT DISTINCT ON (b.symbol)
  b.symbol,
  b.time,
  b.open,
  b.high,
  b.low,
  b.close,
  b.volume,
  b.tick_count,
  b.source,
  b.revision,
  b.flags,
  NOT ('partial' = ANY (b.flags)) AS complete,
  b.updated_at
FROM bars b
ORDER BY b.symbol, b.time DESC;

-- One row per symbol and Bogota session date that has stored bars: the session's OHLC, how many
-- bars it has and when the last one opened (GET /market/session?date=: ohlc, bars.present, lastBarAt).
CREATE OR REPLACE VIEW intraday_summary AS
SELECT
  b.symbol,
  (b.time AT TIME ZONE 'America/Bogota')::date AS date,
  (array_agg(b.open ORDER BY b.time))[1] AS open,
  max(b.high) AS high,
  min(b.low) AS low,
  (array_agg(b.close ORDER BY b.time DESC))[1] AS close,
  count(*)::int AS bars,
  min(b.time) AS first_bar_at,
  max(b.time) AS last_bar_at
FROM bars b
GROUP BY b.symbol, (b.time AT TIME ZONE 'America/Bogota')::date;

-- Each stored session's data quality (GET /api/sessions). A trading day that never had a bar has
-- no row here; the API lists it as `missing`.
CREATE OR REPLACE VIEW data_quality_monitor AS
SELECT
  s.symbol,
  s.date,
  s.expected,
  s.present,
  s.missing,
  CASE WHEN s.expected = 0 THEN NULL ELSE s.present::float8 / s.expected END AS coverage,
  s.flat_share,
  s.repaired,
  s.status,
  s.updated_at
FROM sessions s;

-- One row per known symbol: who holds its ingest lease and whether it is live now (GET /health,
-- checks.ingest.leases), its last stored bar, and the open alerts of the whole system (GET /status,
-- jobs.openAlerts).
CREATE OR REPLACE VIEW system_status AS
SELECT
  sym.symbol,
  l.holder AS ingest_holder,
  l.epoch AS ingest_epoch,
  l.expires_at AS ingest_expires_at,
  coalesce(l.expires_at > now(), false) AS ingest_live,
  (SELECT max(b.time) FROM bars b WHERE b.symbol = sym.symbol) AS last_bar_at,
  (SELECT count(*)::int FROM alerts a WHERE a.resolved_at IS NULL) AS open_alerts
FROM symbols sym
LEFT JOIN ingest_leases l ON l.name = 'ingest:' || sym.symbol;
