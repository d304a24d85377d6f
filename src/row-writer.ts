/**
 * Rows as an aligned table, CSV or JSON, formatted batch by batch so that years of bars never
 * sit in memory at once. Shared by the CLI (stdout) and the HTTP API (streamed responses): the
 * same columns give the same text in both.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';

export type OutputFormat = 'table' | 'csv' | 'json';
export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export interface Column {
  key: string;
  /** Right-align in tables (numbers). */
  numeric?: boolean;
  /** How a number reads in tables (rounded for people); CSV and JSON keep full precision. */
  tableNumber?: (value: number) => string;
}

/** Turns batches of rows into text; `end()` closes the document (JSON bracket, empty-table notice). */
export interface RowFormatter {
  rows(rows: readonly Row[]): string;
  end(): string;
}

export interface RowWriter {
  write(rows: readonly Row[]): Promise<void>;
  end(): Promise<void>;
}

export function createRowFormatter(format: OutputFormat, columns: readonly Column[]): RowFormatter {
  if (format === 'csv') return csvFormatter(columns);
  if (format === 'json') return jsonFormatter();
  return tableFormatter(columns);
}

/** A formatter writing to `out`, waiting for it to drain (or close) when its buffer is full. */
export function createRowWriter(format: OutputFormat, columns: readonly Column[], out: Writable): RowWriter {
  const formatter = createRowFormatter(format, columns);
  const send = async (text: string): Promise<void> => {
    if (text !== '' && !out.write(text)) await once(out, 'drain');
  };
  return {
    write: (rows) => send(formatter.rows(rows)),
    end: () => send(formatter.end()),
  };
}

function csvFormatter(columns: readonly Column[]): RowFormatter {
  const header = columns.map((c) => c.key).join(',') + '\n';
  let headerSent = false;
  return {
    rows(rows) {
      let text = headerSent ? '' : header;
      headerSent = true;
      for (const row of rows) text += columns.map((c) => csvCell(row[c.key] ?? null)).join(',') + '\n';
      return text;
    },
    end() {
      return headerSent ? '' : header;
    },
  };
}

function csvCell(value: Cell): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function jsonFormatter(): RowFormatter {
  let count = 0;
  return {
    rows(rows) {
      let text = '';
      for (const row of rows) text += (count++ === 0 ? '[\n' : ',\n') + JSON.stringify(row);
      return text;
    },
    end() {
      return count === 0 ? '[]\n' : '\n]\n';
    },
  };
}

/** Column widths come from the header and the first batch; later wider values still print whole. */
function tableFormatter(columns: readonly Column[]): RowFormatter {
  let widths: number[] | null = null;
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (columns[i]?.numeric ? cell.padStart(widths?.[i] ?? 0) : cell.padEnd(widths?.[i] ?? 0))).join('  ').trimEnd() + '\n';
  const header = (rows: readonly Row[]): string => {
    widths = columns.map((c) => Math.max(c.key.length, ...rows.map((r) => tableCell(r[c.key] ?? null, c).length)));
    return line(columns.map((c) => c.key)) + line(widths.map((w) => '-'.repeat(w)));
  };
  return {
    rows(rows) {
      let text = widths ? '' : header(rows);
      for (const row of rows) text += line(columns.map((c) => tableCell(row[c.key] ?? null, c)));
      return text;
    },
    end() {
      return widths ? '' : header([]) + '(no rows)\n';
    },
  };
}

function tableCell(value: Cell, column: Column): string {
  if (value === null) return '-';
  return typeof value === 'number' && column.tableNumber !== undefined ? column.tableNumber(value) : String(value);
}
