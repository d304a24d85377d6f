/** Schema version and every table's row count: what a backup's manifest records and a restore checks. */
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
