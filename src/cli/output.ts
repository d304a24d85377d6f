/**
 * Command output: rows as an aligned table (default on a terminal), CSV (default when piped)
 * or JSON, written as they come so that years of bars never sit in memory at once. The
 * formatting itself lives in ../row-writer.ts, shared with the HTTP API.
 */
import type { OutputFormat } from '../row-writer.ts';
import { parseChoiceArg } from './args.ts';

export { createRowWriter, type Cell, type Column, type OutputFormat, type Row, type RowWriter } from '../row-writer.ts';

export function parseFormat(value: string | undefined, isTty: boolean): OutputFormat {
  if (value === undefined) return isTty ? 'table' : 'csv';
  return parseChoiceArg('--format', value, ['table', 'csv', 'json'] as const);
}
