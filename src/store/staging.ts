/**
 * Bulk-write building blocks. COPY is 2-3x faster than `INSERT .. SELECT unnest(..)` on both
 * drivers but cannot say ON CONFLICT, so repositories either COPY straight into the table when
 * no conflict is possible, or COPY into a temporary staging table and merge with one set-based
 * statement. Without `copyRows`, rows go in through unnest instead (same SQL afterwards).
 */
import type { Db } from './db.ts';
import { arrayLiteral, quoteIdent } from './sql-text.ts';
import { chunked } from './rows.ts';

export interface Column {
  name: string;
  /** SQL type, e.g. `text`, `float8`, `int`, `timestamptz`, `text[]`. */
  type: string;
}

export function columnNames(columns: readonly Column[]): string[] {
  return columns.map((c) => c.name);
}

/**
 * Creates (or re-creates) temporary table `table` with `columns`, dropped at commit, and fills it
 * with `rows` (values in column order). Must run inside a transaction.
 */
export async function stageRows(tx: Db, table: string, columns: readonly Column[], rows: readonly (readonly unknown[])[]): Promise<void> {
  const name = quoteIdent(table);
  const defs = columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
  await tx.exec(`DROP TABLE IF EXISTS pg_temp.${name}; CREATE TEMP TABLE ${name} (${defs}) ON COMMIT DROP`);
  await loadRows(tx, table, columns, rows);
}

/**
 * Below this many rows a COPY costs more than it saves: its extra protocol round trips (and TCP
 * delayed ACKs with postgres.js) took ~90 ms for one live bar, against a few ms for an INSERT.
 */
const COPY_MIN_ROWS = 1000;

/** Appends rows to `table`: COPY for bulk loads when the driver has it, else one unnest INSERT per chunk. */
export async function loadRows(tx: Db, table: string, columns: readonly Column[], rows: readonly (readonly unknown[])[]): Promise<void> {
  if (tx.copyRows !== undefined && rows.length >= COPY_MIN_ROWS) return tx.copyRows(table, columnNames(columns), rows);
  // Every column travels as text[] and is cast back, because unnest would flatten a text[][]
  // (one flags array per row) into single strings.
  const aliases = columns.map((_, i) => `c${i}`);
  const select = columns.map((c, i) => `u.c${i}::${c.type}`).join(', ');
  const unnest = columns.map((_, i) => `$${i + 1}::text[]`).join(', ');
  const sql = `INSERT INTO ${quoteIdent(table)} (${columns.map((c) => quoteIdent(c.name)).join(', ')})
    SELECT ${select} FROM unnest(${unnest}) AS u(${aliases.join(', ')})`;
  for (const chunk of chunked(rows)) {
    await tx.query(
      sql,
      columns.map((_, i) => chunk.map((row) => textOfArrayValue(row[i]))),
    );
  }
}

function textOfArrayValue(value: unknown): unknown {
  return Array.isArray(value) ? arrayLiteral(value) : value;
}

/** PostgreSQL's unique_violation; both drivers expose the SQLSTATE as `code`. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/**
 * Runs `load` in a savepoint and reports true, or false when it hit a unique violation (rolled
 * back; the caller then merges instead). For COPY fast paths whose "no conflict" check could
 * race another writer.
 */
export async function unlessDuplicate(tx: Db, load: (tx: Db) => Promise<void>): Promise<boolean> {
  try {
    await tx.transaction(load);
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}
