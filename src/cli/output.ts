/**
 * Command output: rows as an aligned table (default on a terminal), CSV (default when piped)
 * or JSON, written as they come so that years of bars never sit in memory at once.
 */
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { TasaError } from '../errors.ts';

export type OutputFormat = 'table' | 'csv' | 'json';
export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export interface Column {
  key: string;
  /** Right-align in tables (numbers). */
  numeric?: boolean;
}

export interface RowWriter {
  write(rows: readonly Row[]): Promise<void>;
  end(): Promise<void>;
}

export function parseFormat(value: string | undefined, isTty: boolean): OutputFormat {
  if (value === undefined) return isTty ? 'table' : 'csv';
  if (value === 'table' || value === 'csv' || value === 'json') return value;
  throw new TasaError('bad_argument', `--format must be table, csv or json, not "${value}".`, { input: value });
}

export function createRowWriter(format: OutputFormat, columns: readonly Column[], out: Writable): RowWriter {
  const send = async (text: string): Promise<void> => {
    if (!out.write(text)) await once(out, 'drain');
  };
  if (format === 'csv') return csvWriter(columns, send);
  if (format === 'json') return jsonWriter(send);
  return tableWriter(columns, send);
}

function csvWriter(columns: readonly Column[], send: (text: string) => Promise<void>): RowWriter {
  let headerSent = false;
  return {
    async write(rows) {
      let text = headerSent ? '' : columns.map((c) => c.key).join(',') + '\n';
      headerSent = true;
      for (const row of rows) text += columns.map((c) => csvCell(row[c.key] ?? null)).join(',') + '\n';
      await send(text);
    },
    async end() {
      if (!headerSent) await send(columns.map((c) => c.key).join(',') + '\n');
    },
  };
}

function csvCell(value: Cell): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function jsonWriter(send: (text: string) => Promise<void>): RowWriter {
  let count = 0;
  return {
    async write(rows) {
      let text = '';
      for (const row of rows) text += (count++ === 0 ? '[\n' : ',\n') + JSON.stringify(row);
      if (text) await send(text);
    },
    async end() {
      await send(count === 0 ? '[]\n' : '\n]\n');
    },
  };
}

/** Column widths come from the header and the first batch; later wider values still print whole. */
function tableWriter(columns: readonly Column[], send: (text: string) => Promise<void>): RowWriter {
  let widths: number[] | null = null;
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (columns[i]?.numeric ? cell.padStart(widths?.[i] ?? 0) : cell.padEnd(widths?.[i] ?? 0))).join('  ').trimEnd() + '\n';
  const header = (rows: readonly Row[]): string => {
    widths = columns.map((c) => Math.max(c.key.length, ...rows.map((r) => tableCell(r[c.key] ?? null).length)));
    return line(columns.map((c) => c.key)) + line(widths.map((w) => '-'.repeat(w)));
  };
  return {
    async write(rows) {
      let text = widths ? '' : header(rows);
      for (const row of rows) text += line(columns.map((c) => tableCell(row[c.key] ?? null)));
      await send(text);
    },
    async end() {
      await send(widths ? '' : header([]) + '(no rows)\n');
    },
  };
}

function tableCell(value: Cell): string {
  return value === null ? '-' : String(value);
}
