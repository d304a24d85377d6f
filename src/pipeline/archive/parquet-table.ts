/**
 * Column tables to and from Parquet bytes (hyparquet-writer / hyparquet).
 *
 * - Every column is OPTIONAL: a missing value (null, undefined or NaN) is written as a Parquet
 *   null and read back as `null`, never as 0 or NaN. Use `float64Of` to get NaN back inside a
 *   typed array (the research layers' convention).
 * - Timestamps are epoch ms UTC, written as INT64 TIMESTAMP(MILLIS, adjusted to UTC), so pandas,
 *   DuckDB and Spark read them as UTC instants.
 * - Equal input gives equal bytes: no write time, a fixed `created_by`, fixed row-group size and
 *   key/value metadata sorted by key. Checksums and dataset hashes depend on this.
 */
import { parquetMetadata, parquetRead, type FileMetaData, type SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { TasaError } from '../../errors.ts';

export type NumericColumnType = 'double' | 'float' | 'int32' | 'timestamp';
export type ColumnType = NumericColumnType | 'string' | 'boolean';

/** Numbers as a typed array (NaN = missing) or a plain array (null or NaN = missing). */
export type NumericValues = Float64Array | Float32Array | Int32Array | Uint8Array | Int16Array | Int8Array | Uint16Array | readonly (number | null)[];

export type TableColumn =
  | { name: string; type: NumericColumnType; values: NumericValues }
  | { name: string; type: 'string'; values: readonly (string | null)[] }
  | { name: string; type: 'boolean'; values: readonly (boolean | null)[] };

/** What `readParquetTable` returns: plain arrays with `null` where a value is missing. */
export type ReadColumn =
  | { name: string; type: NumericColumnType; values: (number | null)[] }
  | { name: string; type: 'string'; values: (string | null)[] }
  | { name: string; type: 'boolean'; values: (boolean | null)[] };

export interface ParquetTable {
  rows: number;
  columns: ReadColumn[];
  /** Key/value metadata of the file (what `WriteOptions.metadata` was). */
  metadata: Record<string, string>;
}

export interface WriteOptions {
  /** Small facts stored in the file footer (e.g. layer, symbol); keep them deterministic. */
  metadata?: Record<string, string>;
}

export const doubleColumn = (name: string, values: NumericValues): TableColumn => ({ name, type: 'double', values });
export const floatColumn = (name: string, values: NumericValues): TableColumn => ({ name, type: 'float', values });
export const int32Column = (name: string, values: NumericValues): TableColumn => ({ name, type: 'int32', values });
/** Epoch ms UTC. */
export const timestampColumn = (name: string, values: NumericValues): TableColumn => ({ name, type: 'timestamp', values });
export const stringColumn = (name: string, values: readonly (string | null)[]): TableColumn => ({ name, type: 'string', values });
export const booleanColumn = (name: string, values: readonly (boolean | null)[]): TableColumn => ({ name, type: 'boolean', values });

/** One row group for any realistic partition (a month is ~1,300 bars); fixed so bytes do not depend on a library default. */
const ROW_GROUP_ROWS = 100_000;
const CREATED_BY = 'tasa (hyparquet-writer)';

/** The number of rows of a column list; every column must have it. */
export function tableRows(columns: readonly TableColumn[]): number {
  const first = columns[0];
  if (!first) throw new TasaError('bad_input', 'A Parquet table needs at least one column.');
  const seen = new Set<string>();
  for (const column of columns) {
    if (column.name === '' || seen.has(column.name)) throw new TasaError('bad_input', `Column name "${column.name}" is empty or repeated.`, { input: column.name });
    seen.add(column.name);
    if (column.values.length !== first.values.length) {
      throw new TasaError('bad_input', `Column "${column.name}" has ${column.values.length} rows but "${first.name}" has ${first.values.length}.`, { input: column.name });
    }
  }
  return first.values.length;
}

/** Rows [start, end) of every column (e.g. one month of a longer table). */
export function sliceTable(columns: readonly TableColumn[], start: number, end: number): TableColumn[] {
  return columns.map((c) => ({ ...c, values: c.values.slice(start, end) }) as TableColumn);
}

export function writeParquetTable(columns: readonly TableColumn[], opts: WriteOptions = {}): Uint8Array {
  tableRows(columns);
  const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }, ...columns.map(schemaElementOf)];
  const kv = Object.entries(opts.metadata ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, value }));
  const buffer = parquetWriteBuffer({
    schema,
    columnData: columns.map((c) => ({ name: c.name, data: writableValues(c), ...encodingOf(c) })),
    rowGroupSize: ROW_GROUP_ROWS,
    createdBy: CREATED_BY,
    ...(kv.length > 0 ? { kvMetadata: kv } : {}),
  });
  return new Uint8Array(buffer);
}

/**
 * Floats (prices, indicators, features) are nearly all distinct: trying a dictionary for them
 * costs more than half the write time and never pays, and their min/max statistics help no
 * query. Plain encoding without statistics writes them ~3x faster at the same size.
 * Times, strings and small integers keep the library's dictionary choice and statistics.
 */
function encodingOf(column: TableColumn): { encoding?: 'PLAIN'; statistics?: boolean } {
  return column.type === 'double' || column.type === 'float' ? { encoding: 'PLAIN', statistics: false } : {};
}

function schemaElementOf(column: TableColumn): SchemaElement {
  const base = { name: column.name, repetition_type: 'OPTIONAL' } as const;
  switch (column.type) {
    case 'double':
      return { ...base, type: 'DOUBLE' };
    case 'float':
      return { ...base, type: 'FLOAT' };
    case 'int32':
      return { ...base, type: 'INT32' };
    case 'boolean':
      return { ...base, type: 'BOOLEAN' };
    case 'string':
      return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
    case 'timestamp':
      return { ...base, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } };
  }
}

/** The column's values as the writer takes them, with `null` for every missing value; rejects values the type cannot hold. */
function writableValues(column: TableColumn): unknown[] {
  const out = new Array<unknown>(column.values.length);
  for (let i = 0; i < column.values.length; i++) {
    const v: unknown = column.values[i];
    out[i] = v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v)) ? null : checked(column, v, i);
  }
  return out;
}

function checked(column: TableColumn, v: unknown, row: number): unknown {
  const ok =
    column.type === 'string' ? typeof v === 'string'
    : column.type === 'boolean' ? typeof v === 'boolean'
    : column.type === 'int32' ? typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647
    : column.type === 'timestamp' ? typeof v === 'number' && Number.isSafeInteger(v)
    : typeof v === 'number';
  if (!ok) {
    throw new TasaError('bad_input', `Column "${column.name}" row ${row}: ${String(v)} is not a valid ${column.type} value.`, { input: `${column.name}[${row}]` });
  }
  return v;
}

// ---- reading ----

export async function readParquetTable(bytes: Uint8Array): Promise<ParquetTable> {
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(bytes);
  } catch (err) {
    throw new TasaError('unreadable_file', `Not a readable Parquet file: ${err instanceof Error ? err.message : String(err)}.`, { cause: err });
  }
  const leaves = metadata.schema.slice(1);
  const types = leaves.map(columnTypeOf);
  const rows = Number(metadata.num_rows);
  const values = leaves.map(() => new Array<unknown>(rows).fill(null));
  const index = new Map(leaves.map((e, i) => [e.name, i]));
  await parquetRead({
    // hyparquet reads from an ArrayBuffer; copy only when the bytes are a view on a larger buffer.
    file: bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer,
    metadata,
    parsers: TIMESTAMPS_AS_MS,
    onChunk: (chunk) => {
      const target = values[index.get(chunk.columnName) ?? -1];
      if (!target) return;
      for (let r = chunk.rowStart; r < chunk.rowEnd; r++) target[r] = chunk.columnData[r - chunk.rowStart] ?? null;
    },
  });
  const columns = leaves.map((e, i) => ({ name: e.name, type: types[i], values: values[i] }) as ReadColumn);
  return { rows, columns, metadata: Object.fromEntries((metadata.key_value_metadata ?? []).map((kv) => [kv.key, kv.value ?? ''])) };
}

const TIMESTAMPS_AS_MS = {
  timestampFromMilliseconds: (ms: bigint) => Number(ms),
  timestampFromMicroseconds: (us: bigint) => Number(us / 1000n),
  timestampFromNanoseconds: (ns: bigint) => Number(ns / 1_000_000n),
};

function columnTypeOf(e: SchemaElement): ColumnType {
  if (e.num_children !== undefined && e.num_children > 0) throw unsupported(e, 'a nested group');
  if (e.type === 'DOUBLE') return 'double';
  if (e.type === 'FLOAT') return 'float';
  if (e.type === 'BOOLEAN') return 'boolean';
  if (e.type === 'INT32' && e.converted_type === undefined && e.logical_type === undefined) return 'int32';
  if (e.type === 'BYTE_ARRAY' && (e.converted_type === 'UTF8' || e.logical_type?.type === 'STRING')) return 'string';
  if (e.type === 'INT64' && (e.logical_type?.type === 'TIMESTAMP' || e.converted_type === 'TIMESTAMP_MILLIS' || e.converted_type === 'TIMESTAMP_MICROS')) return 'timestamp';
  throw unsupported(e, `${e.type ?? 'untyped'}${e.converted_type ? `/${e.converted_type}` : ''}`);
}

function unsupported(e: SchemaElement, what: string): TasaError {
  return new TasaError('bad_input', `Parquet column "${e.name}" is ${what}, which column tables do not hold.`, { input: e.name });
}

// ---- access ----

export function columnOf(table: ParquetTable, name: string): ReadColumn {
  const column = table.columns.find((c) => c.name === name);
  if (!column) throw new TasaError('not_found', `The table has no column "${name}".`, { input: name });
  return column;
}

/** A numeric column as a Float64Array with NaN where the value is missing. */
export function float64Of(table: ParquetTable, name: string): Float64Array {
  const column = columnOf(table, name);
  if (column.type === 'string' || column.type === 'boolean') throw new TasaError('bad_input', `Column "${name}" holds ${column.type} values, not numbers.`, { input: name });
  return Float64Array.from(column.values, (v) => (v === null ? NaN : v));
}

export function stringsOf(table: ParquetTable, name: string): (string | null)[] {
  const column = columnOf(table, name);
  if (column.type !== 'string') throw new TasaError('bad_input', `Column "${name}" holds ${column.type} values, not strings.`, { input: name });
  return column.values;
}
