/**
 * The one database interface of Tasa. Two drivers implement it: PostgreSQL through postgres.js
 * (production, `DATABASE_URL`) and PGlite (embedded PostgreSQL in WASM, the zero-setup default).
 *
 * Both drivers return the same JS types for the same SQL:
 * - int8/bigint (count(*), identity ids) -> number (not bigint, not string)
 * - timestamptz -> Date; float8/int4 -> number; jsonb -> parsed value; text[] -> string[]
 * - date -> 'YYYY-MM-DD' string (never a Date, so no time-zone shift)
 * - numeric -> string (exact), as both libraries do by default
 *
 * Parameters: `$1..` placeholders, always with a cast where the type matters. Pass JS arrays for
 * `$n::float8[]`, `$n::timestamptz[]`, `$n::text[]` (nulls allowed; a JS array is always sent as
 * a PostgreSQL array); timestamps as Date or ISO strings, never epoch numbers; jsonb as JSON
 * text with `$n::text::jsonb` (or a plain object with `$n::jsonb`). Use only timestamptz, never
 * timestamp: both libraries read `timestamp` in the Node process's local zone.
 * Sessions run in UTC on both drivers.
 */
import path from 'node:path';

export type DbDriver = 'postgres' | 'pglite';

export interface Db {
  readonly driver: DbDriver;
  /** Where the data lives, without any password: a redacted URL or `pglite:<abs path>` / `pglite:memory`. */
  readonly target: string;
  /** One statement with `$1..` placeholders; returns the rows. */
  query<T extends object = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements, no parameters (migrations, DDL). */
  exec(text: string): Promise<void>;
  /**
   * Runs `fn` in a transaction: commit when it resolves, rollback when it throws. Inside, use only
   * `tx`; awaiting the outer Db there deadlocks on PGlite (one connection). Nested calls use savepoints.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /**
   * Bulk load through COPY (CSV). Values: null, number, string, boolean, Date, arrays, objects (jsonb).
   * Does not support ON CONFLICT: copy into a staging table when duplicates are possible.
   */
  copyRows?(table: string, columns: string[], rows: readonly (readonly unknown[])[]): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDbOptions {
  /** PostgreSQL URL; when set, the postgres driver is used. */
  databaseUrl?: string;
  /**
   * Directory holding the embedded database (`<dataDir>/pgdata`). The first process to open it
   * owns it and serves it to the others, which reach it through that process (embedded-store.ts).
   */
  dataDir?: string;
  /** With `dataDir`: fail when another process owns the embedded database instead of going through it. */
  requireOwner?: boolean;
  /** Embedded database in memory only (tests). */
  memory?: boolean;
}

/** Opens PostgreSQL when a URL is given, else the embedded database of `<dataDir>`, else one in memory. */
export async function openDb(opts: OpenDbOptions): Promise<Db> {
  if (opts.databaseUrl !== undefined && opts.databaseUrl !== '') {
    const { openPostgres } = await import('./postgres-driver.ts');
    return openPostgres(opts.databaseUrl);
  }
  if (opts.memory === true) {
    const { openPglite } = await import('./pglite-driver.ts');
    return openPglite({});
  }
  if (opts.dataDir === undefined) throw new Error('openDb needs databaseUrl, dataDir or memory: true');
  const { openEmbeddedStore } = await import('./embedded-store.ts');
  return openEmbeddedStore({ dataDir: path.resolve(opts.dataDir), requireOwner: opts.requireOwner === true });
}
