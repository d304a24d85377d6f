/**
 * TwelveData time_series JSON (`{meta, values: [...], status}`) or a bare array of such values,
 * read whole: an answer holds at most 5000 values, about 1 MB.
 */
import type { RawBarRecord } from '../../domain/raw-bar.ts';
import { errorMessage } from '../../errors.ts';
import { matchColumns, normalizeColumnName } from './columns.ts';
import { salvageJson, type SalvagedJson } from './json-salvage.ts';
import { unreadableFile } from './unreadable.ts';

export interface JsonBars {
  values: unknown[];
  /** `meta.symbol`: applies to every value that has no symbol of its own. */
  symbol: string | null;
  /** `meta.exchange_timezone`: the zone of `datetime` when the request gave no `timezone`. */
  exchangeZone: string | null;
  /** Why the JSON is invalid when only the values before a fault could be recovered. */
  invalid: string | null;
}

/**
 * Throws `unreadable_file` for an error body, JSON with no values, or text with nothing to recover.
 * `cutShort` explains an incomplete text (a gzip fault) and is then named instead of the JSON error.
 */
export function parseJsonBars(path: string, text: string, cutShort: string | null): JsonBars {
  const { top, invalid } = parseOrSalvage(text);
  const problem = cutShort ?? invalid;
  if (top === null) throw unreadableFile(path, `is not valid JSON (${problem})`);
  if (Array.isArray(top)) return { values: top, symbol: null, exchangeZone: null, invalid };
  if (top.status === 'error') throw errorBody(path, top);
  if (!Array.isArray(top.values)) {
    throw unreadableFile(path, problem === null ? 'is JSON without a "values" array of bars' : `is not valid JSON (${problem})`);
  }
  const meta = isObject(top.meta) ? top.meta : {};
  return { values: top.values, symbol: stringOrNull(meta.symbol), exchangeZone: stringOrNull(meta.exchange_timezone), invalid };
}

/**
 * One element of `values` as a record, or the reason it cannot be one. Numbers and other JSON
 * values are kept as their JSON text, so the parser can say what it got.
 */
export function jsonRecord(element: unknown, lineNo: number, metaSymbol: string | null): RawBarRecord | string {
  if (!isObject(element)) return 'the value is not an object';
  const entries = Object.entries(element);
  const match = matchColumns(entries.map(([key]) => normalizeColumnName(key)));
  if (!match.ok) return `the value has no ${match.missing.join(', ')}`;
  const { index } = match;
  const value = (i: number): unknown => entries[i]?.[1];
  const time = fieldText(value(index.time));
  if (time.trim() === '') return 'time is blank';
  return {
    lineNo,
    raw: JSON.stringify(element),
    time,
    open: fieldText(value(index.open)),
    high: fieldText(value(index.high)),
    low: fieldText(value(index.low)),
    close: fieldText(value(index.close)),
    volume: optionalText(value(index.volume)),
    symbol: optionalText(value(index.symbol)) ?? metaSymbol,
    sourceLabel: optionalText(value(index.source)),
  };
}

function parseOrSalvage(text: string): { top: SalvagedJson | null; invalid: string | null } {
  try {
    const top = JSON.parse(text) as unknown;
    return { top: Array.isArray(top) || isObject(top) ? top : null, invalid: null };
  } catch (err) {
    return { top: salvageJson(text), invalid: errorMessage(err) };
  }
}

function errorBody(path: string, body: Record<string, unknown>): Error {
  const message = typeof body.message === 'string' ? body.message : 'no message';
  const code = typeof body.code === 'number' || typeof body.code === 'string' ? ` (code ${body.code})` : '';
  return unreadableFile(path, `holds a TwelveData error instead of bars: ${message}${code}`, 'Fetch the data again; the request that produced this file failed.');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function fieldText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

function optionalText(value: unknown): string | null {
  return value === null || value === undefined ? null : fieldText(value);
}
