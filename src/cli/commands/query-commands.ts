/** `tasa bars`, `tasa sessions`, `tasa gaps`, `tasa calendar`: read-only views of the store and calendar. */
import type { Command } from 'commander';
import { streamBars } from '../../store/bars-repo.ts';
import {
  BAR_COLUMNS,
  CALENDAR_COLUMNS,
  GAP_COLUMNS,
  SESSION_COLUMNS,
  barRow,
  calendarRows,
  gapRows,
  sessionRows,
  utcBounds,
} from '../../store/query-rows.ts';
import { parseDateRange, parseSymbolArg } from '../args.ts';
import { createContext, withStore, type CliContext } from '../context.ts';
import { createRowWriter, parseFormat, type Column, type RowWriter } from '../output.ts';

interface RangeOptions {
  symbol: string;
  from: string;
  to?: string;
  format?: string;
}

export function registerQueryCommands(program: Command): void {
  withRangeOptions(program.command('bars').description('Standardized 5-minute bars (time = bar open, UTC)')).action((o: RangeOptions) =>
    printBars(createContext(), o),
  );
  withRangeOptions(program.command('sessions').description('One row per trading day: expected, present and missing bars, flat share, status')).action(
    (o: RangeOptions) => printSessions(createContext(), o),
  );
  withRangeOptions(program.command('gaps').description('Missing bar ranges inside sessions, merged into intervals (UTC, end exclusive)')).action(
    (o: RangeOptions) => printGaps(createContext(), o),
  );
  program
    .command('calendar')
    .description('Trading days, Colombian holidays with names, US next-day-settlement days')
    .requiredOption('--from <date>', 'first date, YYYY-MM-DD (Bogota)')
    .option('--to <date>', 'last date, inclusive (default: --from)')
    .option('--format <format>', 'table | csv | json (default: table on a terminal, csv otherwise)')
    .action((o: Omit<RangeOptions, 'symbol'>) => printCalendar(createContext(), o));
}

function withRangeOptions(cmd: Command): Command {
  return cmd
    .option('--symbol <symbol>', 'instrument, e.g. USD/COP or USDCOP', 'USD/COP')
    .requiredOption('--from <date>', 'first date, YYYY-MM-DD (Bogota)')
    .option('--to <date>', 'last date, inclusive (default: --from)')
    .option('--format <format>', 'table | csv | json (default: table on a terminal, csv otherwise)');
}

function writerFor(format: string | undefined, columns: readonly Column[]): RowWriter {
  return createRowWriter(parseFormat(format, process.stdout.isTTY), columns, process.stdout);
}

async function printBars(ctx: CliContext, o: RangeOptions): Promise<void> {
  const symbol = parseSymbolArg(o.symbol);
  const { from, to } = utcBounds(parseDateRange(o.from, o.to));
  const writer = writerFor(o.format, BAR_COLUMNS);
  await withStore(ctx, async (db) => {
    for await (const page of streamBars(db, symbol, from, to, 10_000)) {
      await writer.write(page.map(barRow));
    }
  });
  await writer.end();
}

async function printSessions(ctx: CliContext, o: RangeOptions): Promise<void> {
  const symbol = parseSymbolArg(o.symbol);
  const range = parseDateRange(o.from, o.to);
  const rows = await withStore(ctx, (db) => sessionRows(db, ctx.calendar, symbol, range));
  const writer = writerFor(o.format, SESSION_COLUMNS);
  await writer.write(rows);
  await writer.end();
}

async function printGaps(ctx: CliContext, o: RangeOptions): Promise<void> {
  const symbol = parseSymbolArg(o.symbol);
  const range = parseDateRange(o.from, o.to);
  const rows = await withStore(ctx, (db) => gapRows(db, ctx.calendar, symbol, range));
  const writer = writerFor(o.format, GAP_COLUMNS);
  await writer.write(rows);
  await writer.end();
}

async function printCalendar(ctx: CliContext, o: Omit<RangeOptions, 'symbol'>): Promise<void> {
  const range = parseDateRange(o.from, o.to);
  const writer = writerFor(o.format, CALENDAR_COLUMNS);
  await writer.write(calendarRows(ctx.calendar, range));
  await writer.end();
}
