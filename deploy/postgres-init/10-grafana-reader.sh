#!/bin/sh
# Runs once, when the postgres service initialises an empty data volume: Grafana's read-only role
# (it reads every table and the SQL views of docs/sql-views.md, and can write nothing).
set -eu
psql -v ON_ERROR_STOP=1 -v pw="$GRAFANA_DB_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE grafana_reader LOGIN PASSWORD :'pw';
GRANT pg_read_all_data TO grafana_reader;
SQL
