/**
 * The research config applied to one symbol's pipeline: its costs (the instrument's own where the
 * config sets none; the spread possibly estimated
 * from stored quotes), splits and purge become the L4 dataset config, so they are in the dataset's
 * sha256 and a change rebuilds L4-L6; its gates and trials become L6's. The config's hash goes
 * into L6's config and each stored backtest's (the lineage of what a result was judged by).
 */
import { instrumentCalendar, type MarketCalendar } from '../domain/calendar.ts';
import { instrumentOf, type SymbolCode } from '../domain/symbol.ts';
import { researchConfigFor, type ResolvedResearchConfig } from '../research/research-config.ts';
import type { RlDatasetConfig } from '../research/rl-dataset.ts';
import { chooseSpread, tradingCostsOf, type SpreadChoice } from '../research/spread-estimate.ts';
import type { Db } from '../store/db.ts';
import type { BacktestConfig } from './layers/l6-backtest.ts';

export interface ResearchSetup {
  dataset: RlDatasetConfig;
  backtest: BacktestConfig;
  spread: SpreadChoice;
  /** What a run records of the config: its hash, where it came from, and the content. */
  lineage: { hash: string; source: string; config: ResolvedResearchConfig['config'] };
}

/** `calendar`: the symbol's market (its hours group the quotes of a spread from ticks). */
export async function researchSetup(db: Db, symbol: SymbolCode, shared: ResolvedResearchConfig, calendar: MarketCalendar = instrumentCalendar(symbol)): Promise<ResearchSetup> {
  const research = researchConfigFor(shared, instrumentOf(symbol).costs);
  const c = research.config;
  const spread = await chooseSpread(db, symbol, c.costs, calendar);
  return {
    dataset: {
      trainFraction: c.split.train,
      validationFraction: c.split.validation,
      testFraction: c.split.test,
      purgeSessions: c.purgeSessions,
      costs: tradingCostsOf(c.costs, spread),
    },
    backtest: { gates: { ...c.gates }, ...(c.trials === null ? {} : { trials: c.trials }) },
    spread,
    lineage: { hash: research.hash, source: research.source, config: c },
  };
}

/** `explicit` on top of the research config's dataset options (a field set in code wins). */
export function mergedDatasetConfig(setup: ResearchSetup | null, explicit: RlDatasetConfig | undefined): RlDatasetConfig {
  return { ...setup?.dataset, ...explicit };
}

/** `explicit` on top of the research config's backtest options; gates merge threshold by threshold. */
export function mergedBacktestConfig(setup: ResearchSetup | null, explicit: BacktestConfig | undefined): BacktestConfig {
  return { ...setup?.backtest, ...explicit, gates: { ...setup?.backtest.gates, ...explicit?.gates } };
}
