/**
 * `tasa paper replay --policy <id> --from --to [--symbol] [--notional]`: the strategy runner and
 * the order service trade the policy over the stored bars on a fast clock, in a scratch store
 * (the configured store is only read), and its trades are compared one for one with the L6
 * backtest of the same bars. Exits 1 on any difference. A thin wrapper over execution/paper-replay.ts.
 */
import type { Command } from 'commander';
import { formatParityTrade } from '../../execution/parity.ts';
import type { PaperReplayResult } from '../../execution/paper-replay.ts';
import { createLogger } from '../../log.ts';
import { parseUsd } from '../../trading/money.ts';
import { parseDateRange, parseSymbolArg } from '../args.ts';
import { createContext, withStore } from '../context.ts';

interface ReplayCliOptions {
  policy: string;
  from: string;
  to?: string;
  symbol: string;
  notional: string;
}

export function registerPaperCommands(program: Command): void {
  const paper = program.command('paper').description('Paper trading');
  paper
    .command('replay')
    .description('Trade a policy through the strategy runner over stored bars and check its trades equal the backtest of the same bars')
    .requiredOption('--policy <id>', 'model id (tasa models list) or baseline: flat, always-long, sma-crossover, rsi-mean-reversion')
    .requiredOption('--from <date>', 'first Bogota session date')
    .option('--to <date>', 'last Bogota session date (default: --from)')
    .option('--symbol <symbol>', 'instrument', 'USD/COP')
    .option('--notional <usd>', 'USD of a full position', '10000')
    .action(async (o: ReplayCliOptions) => {
      const range = parseDateRange(o.from, o.to);
      const symbol = parseSymbolArg(o.symbol);
      const targetNotional = parseUsd(o.notional, '--notional');
      // Loaded when it runs: the research layers and a second embedded store are not every command's start-up.
      const { openReplayStore, runPaperReplay } = await import('../../execution/paper-replay.ts');
      const ctx = createContext();
      const logger = createLogger('silent');
      const result = await withStore(ctx, async (source) => {
        const db = await openReplayStore(source, symbol, o.policy, range.to);
        try {
          return await runPaperReplay({ db, calendar: ctx.calendar, logger, symbol, policyId: o.policy, targetNotional, ...range });
        } finally {
          await db.close();
        }
      });
      printReplay(o.policy, result);
      if (result.report.firstDifference !== null) process.exitCode = 1;
    });
}

function printReplay(policy: string, r: PaperReplayResult): void {
  const rate = Math.round(r.bars / Math.max(r.replayMs / 1000, 1e-3));
  console.log(`paper replay of ${policy}: ${r.bars} bars in ${r.sessions} sessions, costs ${r.costs.spreadBps}+${r.costs.feeBps} bps, ${rate} bars/s`);
  console.log(`trades matched: ${r.report.matched} / ${r.report.total} (backtest ${r.expected.length}, paper ${r.actual.length})`);
  const d = r.report.firstDifference;
  if (d === null) return;
  console.log(`first difference at trade ${d.index + 1} (${d.fields.join(', ')}):`);
  console.log(`  backtest: ${formatParityTrade(d.expected)}`);
  console.log(`  paper:    ${formatParityTrade(d.actual)}`);
}
