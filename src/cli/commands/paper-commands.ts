/**
 * `tasa paper replay --policy <id> (--from --to | --split <name>) [--symbol] [--notional]`: the
 * strategy runner and the order service trade the policy over the stored bars on a fast clock, in
 * a scratch store (the configured store is only read), and its trades are compared one for one
 * with the L6 backtest of the same bars. `--split` takes the sessions and the costs from the
 * dataset of the newest L6 run (pipeline/backtest-split.ts), so the replay is the L6 backtest's
 * own span. Exits 1 on any difference. A thin wrapper over execution/paper-replay.ts.
 */
import type { Command } from 'commander';
import type { ReplayCliOptions } from '../actions/paper-actions.ts';

/** Loaded when the command runs: the research layers and a second embedded store are not every command's start-up. */
const actions = () => import('../actions/paper-actions.ts');

export function registerPaperCommands(program: Command): void {
  const paper = program.command('paper').description('Paper trading');
  paper
    .command('replay')
    .description('Trade a policy through the strategy runner over stored bars and check its trades equal the backtest of the same bars')
    .requiredOption('--policy <id>', 'model id (tasa models list) or baseline that trades within sessions: flat, always-long, sma-crossover, rsi-mean-reversion')
    .option('--from <date>', "first session date of the symbol's market calendar (Bogota for USD/COP; EUR/USD's opens 17:00 New York the day before)")
    .option('--to <date>', "last session date of the symbol's market calendar (default: --from)")
    .option('--split <name>', "instead of --from/--to: the sessions of this split (train, validation, test) and its costs, from the newest L6 run's dataset")
    .option('--symbol <symbol>', 'instrument', 'USD/COP')
    .option('--notional <usd>', 'USD of a full position', '10000')
    .action(async (o: ReplayCliOptions) => (await actions()).replay(o));
}
