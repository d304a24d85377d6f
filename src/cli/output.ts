/**
 * Command output: rows as an aligned table (default on a terminal), CSV (default when piped)
 * or JSON, written as they come so that years of bars never sit in memory at once. The
 * formatting itself lives in ../row-writer.ts, shared with the HTTP API.
 */
import { TasaError } from '../errors.ts';
import type { OutputFormat } from '../row-writer.ts';

export { createRowWriter, type Cell, type Column, type OutputFormat, type Row, type RowWriter } from '../row-writer.ts';

export function parseFormat(value: string | undefined, isTty: boolean): OutputFormat {
  if (value === undefined) return isTty ? 'table' : 'csv';
  if (value === 'table' || value === 'csv' || value === 'json') return value;
  throw new TasaError('bad_argument', `--format must be table, csv or json, not "${value}".`, { input: value });
}
