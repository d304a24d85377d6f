/**
 * `tasa backfill`: fill the missing bars of a date range from TwelveData REST (or the simulator),
 * resumable and within the API key budget. `tasa worker`: run the scheduled jobs (failsafe, sync)
 * until SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import type { BackfillCliOptions, WorkerCliOptions } from '../actions/jobs-actions.ts';

/** Loaded when a command runs: pg-boss, the bus and the store are not every command's start-up. */
const actions = () => import('../actions/jobs-actions.ts');

export function registerJobsCommands(program: Command): void {
  program
    .command('backfill')
    .description('Fill missing 5-minute bars from TwelveData REST (empty slots, and partial bars the live feed covered only in part; resumable; stops when the day\'s API credits are spent)')
    .requiredOption('--from <date>', "first session date, YYYY-MM-DD, of the symbol's market calendar (Bogota for USD/COP; EUR/USD's opens 17:00 New York the day before)")
    .option('--to <date>', 'last session date (default: --from)')
    .option('--symbol <symbol>', 'instrument', 'USD/COP')
    .option('--max-requests <n>', 'stop after this many REST requests (run again to continue)')
    .option('--simulator-url <url>', 'REST URL of a running `tasa simulate` instead of TWELVEDATA_REST_URL')
    .action(async (o: BackfillCliOptions) => (await actions()).runBackfill(o));
  program
    .command('worker')
    .description('Run the scheduled jobs for every served symbol until SIGINT/SIGTERM, in Bogota time; a run is skipped when no served market has a trading day or a session open: failsafe backfill every hour, stream sync every 5 minutes for each market open or closed within 30 minutes, and on weekdays a failsafe at 13:05 (after the USD/COP close), the live/backtest parity check at 13:20 and tick retention at 18:00')
    .option('--simulator-url <url>', 'REST URL of a running `tasa simulate` instead of TWELVEDATA_REST_URL')
    .action(async (o: WorkerCliOptions) => (await actions()).runWorker(o));
}

