/** What `tasa bars`, `sessions`, `gaps` and `calendar` run (loaded on demand by ../commands/query-commands.ts). */
import { streamBars } from '../../store/bars-repo.ts';
import { BAR_COLUMNS, CALENDAR_COLUMNS, GAP_COLUMNS, SESSION_COLUMNS, barRow, calendarRows, gapRows, sessionRows, utcBounds } from '../../store/query-rows.ts';
import { parseDateRange, parseSymbolArg } from '../args.ts';
import { createContext, withStore } from '../context.ts';
import { createRowWriter, parseFormat, type Column, type RowWriter } from '../output.ts';

export interface RangeOptions {
  symbol: string;
  from: string;
  to?: string;
  format?: string;
}

function writerFor(format: string | undefined, columns: readonly Column[]): RowWriter {
  return createRowWriter(parseFormat(format, process.stdout.isTTY), columns, process.stdout);
}

export async function printBars(o: RangeOptions): Promise<void> {
  const ctx = createContext();
  const symbol = parseSymbolArg(o.symbol);
  const { from, to } = utcBounds(ctx.calendar.of(symbol), parseDateRange(o.from, o.to));
  const writer = writerFor(o.format, BAR_COLUMNS);
  await withStore(ctx, async (db) => {
    for await (const page of streamBars(db, symbol, from, to, 10_000)) {
      await writer.write(page.map(barRow));
    }
  });
  await writer.end();
}

export async function printSessions(o: RangeOptions): Promise<void> {
  const ctx = createContext();
  const symbol = parseSymbolArg(o.symbol);
  const range = parseDateRange(o.from, o.to);
  const rows = await withStore(ctx, (db) => sessionRows(db, ctx.calendar.of(symbol), symbol, range));
  const writer = writerFor(o.format, SESSION_COLUMNS);
  await writer.write(rows);
  await writer.end();
}

export async function printGaps(o: RangeOptions): Promise<void> {
  const ctx = createContext();
  const symbol = parseSymbolArg(o.symbol);
  const range = parseDateRange(o.from, o.to);
  const rows = await withStore(ctx, (db) => gapRows(db, ctx.calendar.of(symbol), symbol, range));
  const writer = writerFor(o.format, GAP_COLUMNS);
  await writer.write(rows);
  await writer.end();
}

export async function printCalendar(o: RangeOptions): Promise<void> {
  const ctx = createContext();
  const calendar = ctx.calendar.of(parseSymbolArg(o.symbol));
  const range = parseDateRange(o.from, o.to);
  const writer = writerFor(o.format, CALENDAR_COLUMNS);
  await writer.write(calendarRows(calendar, range));
  await writer.end();
}
