-- Ingest leases: only one ingest process writes a symbol at a time; another takes over when
-- the holder stops renewing (it died or lost the database).
CREATE TABLE ingest_leases (
  name        text PRIMARY KEY,
  holder      text NOT NULL,
  acquired_at timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL
);
