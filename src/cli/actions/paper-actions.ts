/** What `tasa paper replay` runs (loaded on demand by ../commands/paper-commands.ts). */
import type { SymbolCode } from '../../domain/symbol.ts';
import { TasaError } from '../../errors.ts';
import { formatParityTrade } from '../../execution/parity.ts';
import { openReplayStore, runPaperReplay, type PaperReplayResult } from '../../execution/paper-replay.ts';
import { createLogger } from '../../log.ts';
import type { TradingCosts } from '../../research/types.ts';
import type { Db } from '../../store/db.ts';
import { parseUsd } from '../../trading/money.ts';
import { parseDateRange, parseSymbolArg, type DateRange } from '../args.ts';
import { createContext, withStore } from '../context.ts';

export interface ReplayCliOptions {
  policy: string;
  from?: string;
  to?: string;
  split?: string;
  symbol: string;
  notional: string;
}

export async function replay(o: ReplayCliOptions): Promise<void> {
  const symbol = parseSymbolArg(o.symbol);
  const targetNotional = parseUsd(o.notional, '--notional');
  const ctx = createContext();
  const logger = createLogger('silent');
  const result = await withStore(ctx, async (source) => {
    const span = await replaySpan(source, symbol, o);
    const db = await openReplayStore(source, ctx.calendar, symbol, o.policy, span.to);
    try {
      return await runPaperReplay({ db, calendar: ctx.calendar, logger, symbol, policyId: o.policy, targetNotional, ...span });
    } finally {
      await db.close();
    }
  });
  printReplay(o.policy, result);
  if (result.report.firstDifference !== null) process.exitCode = 1;
}

/** --from/--to, or the dates and costs of --split; exactly one of the two. */
async function replaySpan(db: Db, symbol: SymbolCode, o: ReplayCliOptions): Promise<DateRange & { costs?: TradingCosts }> {
  if (o.split === undefined) {
    if (o.from === undefined) throw new TasaError('bad_argument', 'Give --from (and --to), or --split.', { input: '--from' });
    return parseDateRange(o.from, o.to);
  }
  if (o.from !== undefined || o.to !== undefined) throw new TasaError('bad_argument', '--split chooses the dates: give it without --from/--to.', { input: '--split' });
  const { backtestedSplit, parseSplit } = await import('../../pipeline/backtest-split.ts');
  const split = await backtestedSplit(db, symbol, parseSplit(o.split));
  console.log(`${split.split} split of L6 run ${split.l6RunId} (L4 run ${split.l4RunId}): ${split.from} to ${split.to}, ${split.sessions} sessions`);
  return { from: split.from, to: split.to, costs: split.costs };
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
