/**
 * The archive layout's monthly partitions (layout.ts `monthlyTables`) and Bogota dates for rows
 * in time order, with one calendar conversion per month (or day) instead of one per row: on 5.5
 * years of bars that conversion was a second of the pipeline's time. Same keys, same slices.
 */
import { addDays, bogotaDate, bogotaWallTime, type IsoDate } from '../../domain/time.ts';
import { TasaError } from '../../errors.ts';
import { sliceTable, type TableColumn } from '../archive/parquet-table.ts';
import { bogotaMonth, monthKey, type LayerId } from '../layout.ts';

/** The first instant of the Bogota month after `month` (YYYY-MM). */
function nextMonthStart(month: string): number {
  const year = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7));
  const next = m === 12 ? `${year + 1}-01-01` : `${year}-${String(m + 1).padStart(2, '0')}-01`;
  return bogotaWallTime(next, 0);
}

function assertOrdered(times: ArrayLike<number>, i: number): void {
  const t = times[i]!;
  if (!Number.isFinite(t)) throw new TasaError('bad_input', `Row ${i} has no time, so it has no month.`, { input: String(i) });
  if (i > 0 && t < times[i - 1]!) throw new TasaError('bad_input', `Row ${i} is earlier than row ${i - 1}: rows must be in time order to be split by month.`, { input: String(i) });
}

/** `columns` split into one archive file per Bogota month of `times` (epoch ms, ascending). */
export function monthlyPartitions(layer: LayerId, symbol: string, columns: readonly TableColumn[], times: ArrayLike<number>): Array<{ key: string; columns: TableColumn[] }> {
  const out: Array<{ key: string; columns: TableColumn[] }> = [];
  let start = 0;
  while (start < times.length) {
    assertOrdered(times, start);
    const month = bogotaMonth(times[start]!);
    const end = nextMonthStart(month);
    let i = start + 1;
    for (; i < times.length; i++) {
      assertOrdered(times, i);
      if (times[i]! >= end) break;
    }
    out.push({ key: monthKey(layer, symbol, month), columns: sliceTable(columns, start, i) });
    start = i;
  }
  return out;
}

/** The Bogota date of each time (ascending epoch ms). */
export function bogotaDates(times: ArrayLike<number>): IsoDate[] {
  const out = new Array<IsoDate>(times.length);
  let date = '';
  let end = -Infinity;
  for (let i = 0; i < times.length; i++) {
    assertOrdered(times, i);
    if (times[i]! >= end) {
      date = bogotaDate(times[i]!);
      end = bogotaWallTime(addDays(date, 1), 0);
    }
    out[i] = date;
  }
  return out;
}
