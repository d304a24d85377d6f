/** `tasa bars`, `tasa sessions`, `tasa gaps`, `tasa calendar`: read-only views of the store and calendar. */
import type { Command } from 'commander';
import type { RangeOptions } from '../actions/query-actions.ts';

/** Loaded when a command runs: the store and its drivers are not every command's start-up. */
const actions = () => import('../actions/query-actions.ts');

export function registerQueryCommands(program: Command): void {
  withRangeOptions(program.command('bars').description('Standardized 5-minute bars (time = bar open, UTC)')).action(async (o: RangeOptions) =>
    (await actions()).printBars(o),
  );
  withRangeOptions(program.command('sessions').description('One row per trading day: expected, present and missing bars, flat share, status')).action(
    async (o: RangeOptions) => (await actions()).printSessions(o),
  );
  withRangeOptions(program.command('gaps').description('Missing bar ranges inside sessions, merged into intervals (UTC, end exclusive)')).action(
    async (o: RangeOptions) => (await actions()).printGaps(o),
  );
  program
    .command('calendar')
    .description("Trading days, the market's holidays with names, session times and bars; USD/COP's US next-day-settlement days")
    .option('--symbol <symbol>', 'instrument whose market calendar to show, e.g. USD/BRL', 'USD/COP')
    .requiredOption('--from <date>', "first date, YYYY-MM-DD (the market's own zone)")
    .option('--to <date>', 'last date, inclusive (default: --from)')
    .option('--format <format>', 'table | csv | json (default: table on a terminal, csv otherwise)')
    .action(async (o: RangeOptions) => (await actions()).printCalendar(o));
}

function withRangeOptions(cmd: Command): Command {
  return cmd
    .option('--symbol <symbol>', 'instrument, e.g. USD/COP or USDCOP', 'USD/COP')
    .requiredOption('--from <date>', "first date, YYYY-MM-DD (the market's own zone)")
    .option('--to <date>', 'last date, inclusive (default: --from)')
    .option('--format <format>', 'table | csv | json (default: table on a terminal, csv otherwise)');
}
