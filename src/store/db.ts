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
  /**
   * Subscribes to a notification channel (LISTEN; writers send with `pg_notify` in their
   * transaction, delivered at commit). Absent on a store served by another process (its clients
   * share one session). Closed with the Db.
   */
  listen?(channel: string, handlers: ListenHandlers): Promise<Listening>;
  close(): Promise<void>;
}

export interface ListenHandlers {
  /** One notification on the channel, called as the driver reads it. */
  notify(payload: string): void;
  /** Notifications may have been missed (the listening connection was lost, or listening just began): assume anything changed. */
  restart(): void;
}

export interface Listening {
  /**
   * Resolves once every notification sent by a transaction that committed before this call has
   * reached the handlers; rejects when that cannot be known (the listening connection is down).
   */
  caughtUp(): Promise<void>;
  close(): Promise<void>;
}
