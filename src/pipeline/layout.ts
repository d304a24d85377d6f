/**
 * Where each layer's files live in the archive:
 *
 *   <layer>/<SYMBOL>/<YYYY>/<YYYY-MM>.parquet          one file per month of session dates
 *   <layer>/<SYMBOL>/<name>                            a layer's unpartitioned files (e.g. a model)
 *   <layer>/<SYMBOL>/manifests/<datasetHash>.json      one manifest per dataset
 *
 * SYMBOL is the symbol without its slash (`USD/COP` -> `USDCOP`). Every layer goes by the month of
 * each row's session date in the symbol's market (layers/monthly.ts): an EUR/USD session dated D
 * opens at 17:00 New York on D-1, so its evening bars belong to D's month; a USD/COP session
 * (08:00-13:00 Bogota) lies inside one Bogota date, so there the month is the Bogota month.
 */
import type { IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import { LAYERS } from '../contracts/api/pipeline.ts';
import { sliceTable, tableRows, type TableColumn } from './archive/parquet-table.ts';

export { LAYERS };
export type LayerId = (typeof LAYERS)[number];

/** `YYYY-MM`. */
export type YearMonth = string;

export function isLayerId(s: string): s is LayerId {
  return (LAYERS as readonly string[]).includes(s);
}

/** `USD/COP` -> `USDCOP`; anything else than letters, digits and one slash is refused (it becomes a path). */
export function symbolSegment(symbol: string): string {
  const segment = symbol.replace('/', '');
  if (!/^[A-Za-z0-9]+$/.test(segment)) throw new TasaError('bad_argument', `Symbol "${symbol}" cannot name an archive folder.`, { input: symbol });
  return segment.toUpperCase();
}

/** `<layer>/<SYMBOL>/`: every key of a layer's run for a symbol starts with it. */
export function layerPrefix(layer: LayerId, symbol: string): string {
  return `${layer}/${symbolSegment(symbol)}/`;
}

export function monthKey(layer: LayerId, symbol: string, month: YearMonth): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new TasaError('bad_argument', `Month "${month}" is not YYYY-MM.`, { input: month });
  return `${layerPrefix(layer, symbol)}${month.slice(0, 4)}/${month}.parquet`;
}

/** A layer's file that is not partitioned by month, e.g. `L4/USDCOP/dataset.parquet`. */
export function layerFileKey(layer: LayerId, symbol: string, name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new TasaError('bad_argument', `File name "${name}" is not a plain file name.`, { input: name });
  return `${layerPrefix(layer, symbol)}${name}`;
}

export function manifestKey(layer: LayerId, symbol: string, datasetHash: string): string {
  return `${layerPrefix(layer, symbol)}manifests/${datasetHash}.json`;
}

export function monthOfDate(date: IsoDate): YearMonth {
  return date.slice(0, 7);
}

export interface MonthRange {
  month: YearMonth;
  /** Row range [start, end). */
  start: number;
  end: number;
}

/** Consecutive rows of each month; the months must not go backwards (rows in time order). */
export function monthRanges(months: ArrayLike<YearMonth>): MonthRange[] {
  const out: MonthRange[] = [];
  for (let i = 0; i < months.length; i++) {
    const month = months[i] as YearMonth;
    const last = out[out.length - 1];
    if (last && last.month === month) last.end = i + 1;
    else if (last && month < last.month) throw new TasaError('bad_input', `Row ${i} (${month}) comes after ${last.month}: rows must be in time order to be split by month.`, { input: String(i) });
    else out.push({ month, start: i, end: i + 1 });
  }
  return out;
}

/**
 * A column table split into one archive file per month, `months` giving each row's (rows grouped
 * by month, the months in order), keyed `<layer>/<SYMBOL>/<YYYY>/<YYYY-MM>.parquet`: what a
 * layer's `compute` returns to the runner.
 */
export function tablesByMonth(layer: LayerId, symbol: string, columns: readonly TableColumn[], months: ArrayLike<YearMonth>): Array<{ key: string; columns: TableColumn[] }> {
  if (tableRows(columns) !== months.length) throw new TasaError('internal', `The table has ${tableRows(columns)} rows but ${months.length} months.`);
  return monthRanges(months).map((r) => ({ key: monthKey(layer, symbol, r.month), columns: sliceTable(columns, r.start, r.end) }));
}
