/** Schema version and every table's row count: what a backup's manifest records and a restore checks. */
import { TasaError } from '../../errors.ts';
import type { Db } from '../db.ts';
import { schemaVersion } from '../migrate.ts';
import type { StoreFacts } from './backup-manifest.ts';

/** Every ordinary table outside the system schemas (Tasa's and pg-boss's), as `schema.table`. */
export async function listTables(db: Db): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name FROM pg_tables
      WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

/** Read in the caller's transaction or exclusive hold, so that the counts are those of one instant. */
export async function storeFacts(db: Db): Promise<StoreFacts> {
  const tables: Record<string, number> = {};
  for (const name of await listTables(db)) {
    // `name` comes from pg_tables, quoted by quote_ident: safe to splice.
    const [row] = await db.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${name}`);
    tables[name] = row?.n ?? 0;
  }
  return { schemaVersion: await schemaVersion(db), tables };
}

/**
 * SQL that raises an error unless the store holds exactly `expected` (schema version and every
 * table's row count), naming the differences. It runs inside the restore's transaction, before
 * the commit, so a restore that differs from its backup is rolled back. Every name is qualified:
 * a restore script empties the search path.
 */
export function restoreCheckSql(expected: StoreFacts): string {
  const json = JSON.stringify({ schemaVersion: expected.schemaVersion, tables: expected.tables });
  if (json.includes('$facts$')) throw new TasaError('bad_input', 'The backup manifest names a table with "$facts$" in it; it cannot be checked.');
  return `DO $check$
DECLARE
  expected jsonb := $facts$${json}$facts$::jsonb;
  actual jsonb := '{}'::jsonb;
  t record;
  n bigint;
  version int;
  differences text;
BEGIN
  FOR t IN SELECT pg_catalog.quote_ident(schemaname) || '.' || pg_catalog.quote_ident(tablename) AS name FROM pg_catalog.pg_tables
            WHERE schemaname NOT IN ('pg_catalog', 'information_schema') LOOP
    EXECUTE 'SELECT count(*) FROM ' || t.name INTO n;
    actual := actual || pg_catalog.jsonb_build_object(t.name, n);
  END LOOP;
  SELECT pg_catalog.string_agg(format('%s: %s in the backup, %s restored', k, coalesce(expected->'tables'->>k, 'absent'), coalesce(actual->>k, 'absent')), '; ' ORDER BY k) INTO differences
    FROM (SELECT jsonb_object_keys(expected->'tables') AS k UNION SELECT jsonb_object_keys(actual)) AS names
   WHERE expected->'tables'->k IS DISTINCT FROM actual->k;
  SELECT coalesce(max(m.version), 0) INTO version FROM public.schema_migrations AS m;
  IF version <> (expected->>'schemaVersion')::int THEN
    differences := pg_catalog.concat_ws('; ', format('schema version %s, not %s', version, expected->>'schemaVersion'), differences);
  END IF;
  IF differences IS NOT NULL THEN
    RAISE EXCEPTION 'The restored store differs from the backup: %', differences;
  END IF;
END
$check$;`;
}
