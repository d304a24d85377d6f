/** `tasa bars`, `tasa sessions`, `tasa gaps`, `tasa calendar`: read-only views of the store and calendar. */
import type { Command } from 'commander';
import { findGaps } from '../../domain/gaps.ts';
import { bogotaWallTime, addDays, toIsoUtc } from '../../domain/time.ts';
import { barTimesBetween, streamBars } from '../../store/bars-repo.ts';
import { sessionsBetween } from '../../store/sessions-repo.ts';
import { parseDateRange, parseSymbolArg, type DateRange } from '../args.ts';
import { createContext, withStore, type CliContext } from '../context.ts';
import { createRowWriter, parseFormat, type Column, type Row, type RowWriter } from '../output.ts';

interface RangeOptions {
  symbol: string;
  from: string;
  to?: string;
  format?: string;
}

const BAR_COLUMNS: Column[] = [
  { key: 'time' },
  { key: 'open', numeric: true },
  { key: 'high', numeric: true },
  { key: 'low', numeric: true },
  { key: 'close', numeric: true },
  { key: 'volume', numeric: true },
  { key: 'source' },
  { key: 'revision', numeric: true },
  { key: 'flags' },
];

const SESSION_COLUMNS: Column[] = [
  { key: 'date' },
  { key: 'expected', numeric: true },
  { key: 'present', numeric: true },
  { key: 'missing', numeric: true },
  { key: 'flat_share', numeric: true },
  { key: 'repaired', numeric: true },
  { key: 'status' },
];

const GAP_COLUMNS: Column[] = [{ key: 'date' }, { key: 'from' }, { key: 'to' }, { key: 'bars', numeric: true }];

const CALENDAR_COLUMNS: Column[] = [
  { key: 'date' },
  { key: 'weekday' },
  { key: 'trading_day' },
  { key: 'holiday' },
  { key: 'next_day_settlement' },
  { key: 'us_holiday' },
  { key: 'session_open' },
  { key: 'session_close' },
];

const WEEKDAYS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

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

function writerFor(format: string | undefined, columns: Column[]): RowWriter {
  return createRowWriter(parseFormat(format, process.stdout.isTTY), columns, process.stdout);
}

/** UTC bounds of inclusive Bogota dates: [from 00:00 Bogota, day after `to` 00:00 Bogota). */
function utcBounds(range: DateRange): { from: number; to: number } {
  return { from: bogotaWallTime(range.from, 0), to: bogotaWallTime(addDays(range.to, 1), 0) };
}

async function printBars(ctx: CliContext, o: RangeOptions): Promise<void> {
  const symbol = parseSymbolArg(o.symbol);
  const { from, to } = utcBounds(parseDateRange(o.from, o.to));
  const writer = writerFor(o.format, BAR_COLUMNS);
  await withStore(ctx, async (db) => {
    for await (const page of streamBars(db, symbol, from, to, 10_000)) {
      await writer.write(
        page.map((b): Row => ({
          time: toIsoUtc(b.time),
          open: b.open,
          high: b.high,
          low: b.low,
          close: b.close,
          volume: b.volume,
          source: b.source,
          revision: b.revision,
          flags: b.flags.join('|'),
        })),
      );
    }
  });
  await writer.end();
}

async function printSessions(ctx: CliContext, o: RangeOptions): Promise<void> {
  const symbol = parseSymbolArg(o.symbol);
  const range = parseDateRange(o.from, o.to);
  const sessions = ctx.calendar.sessionsBetween(range.from, range.to);
  const stored = await withStore(ctx, (db) => sessionsBetween(db, symbol, range.from, range.to));
  const byDate = new Map(stored.map((s) => [s.date, s]));
  const writer = writerFor(o.format, SESSION_COLUMNS);
  await writer.write(
    sessions.map((session): Row => {
      // A trading day with no stored row has never had a bar: all of it is missing.
      const q = byDate.get(session.date);
      return {
        date: session.date,
        expected: session.barCount,
        present: q?.present ?? 0,
        missing: q?.missing ?? session.barCount,
        flat_share: q?.flatShare == null ? null : Number(q.flatShare.toFixed(4)),
        repaired: q?.repaired ?? 0,
        status: q?.status ?? 'missing',
      };
    }),
  );
  await writer.end();
}

async function printGaps(ctx: CliContext, o: RangeOptions): Promise<void> {
  const symbol = parseSymbolArg(o.symbol);
  const range = parseDateRange(o.from, o.to);
  const { from, to } = utcBounds(range);
  const present = new Set(await withStore(ctx, (db) => barTimesBetween(db, symbol, from, to)));
  const writer = writerFor(o.format, GAP_COLUMNS);
  for (const session of ctx.calendar.sessionsBetween(range.from, range.to)) {
    const gaps = findGaps(session.date, ctx.calendar.barGrid(session), present);
    await writer.write(gaps.map((g): Row => ({ date: g.date, from: toIsoUtc(g.from), to: toIsoUtc(g.to), bars: g.bars })));
  }
  await writer.end();
}

async function printCalendar(ctx: CliContext, o: Omit<RangeOptions, 'symbol'>): Promise<void> {
  const range = parseDateRange(o.from, o.to);
  const writer = writerFor(o.format, CALENDAR_COLUMNS);
  await writer.write(
    ctx.calendar.days(range.from, range.to).map((d): Row => {
      const session = d.tradingDay ? ctx.calendar.sessionFor(d.date) : null;
      return {
        date: d.date,
        weekday: WEEKDAYS[d.weekday] ?? String(d.weekday),
        trading_day: d.tradingDay,
        holiday: d.holiday,
        next_day_settlement: d.nextDaySettlement,
        us_holiday: d.usHoliday,
        session_open: session ? toIsoUtc(session.open) : null,
        session_close: session ? toIsoUtc(session.close) : null,
      };
    }),
  );
  await writer.end();
}
