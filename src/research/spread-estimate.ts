/**
 * The half-spread a backtest charges, from the research config: the configured number, or with
 * `spreadBps: "from-ticks"` the median half-spread of the symbol's stored quotes, (ask - bid) /
 * (ask + bid) in bps of the mid, over all of them. The execution model charges one spread per
 * symbol; the medians per Bogota hour of day are reported next to it, to show how much the cost
 * of trading moves through the session. With fewer than `minSpreadTicks` quotes the configured
 * fallback is charged, and the choice says so.
 */
import type { SymbolCode } from '../domain/symbol.ts';
import type { Db } from '../store/db.ts';
import { halfSpreadMedians } from '../store/ticks-repo.ts';
import type { ResearchCosts } from './research-config.ts';
import type { TradingCosts } from './types.ts';

export interface SpreadChoice {
  /** The half-spread charged, in bps. */
  spreadBps: number;
  /** configured: the config's number; ticks: estimated from stored quotes; fallback: too few quotes for "from-ticks". */
  source: 'configured' | 'ticks' | 'fallback';
  /** Quotes the estimate used (0 when configured). */
  ticks: number;
  /** Median half-spread per Bogota hour of day (empty when configured). */
  byHour: Array<{ hour: number; ticks: number; medianBps: number }>;
  /** One sentence for reports: the spread and where it came from. */
  note: string;
}

/** Spreads in a config and in reports are rounded to 0.01 bps: finer is noise, and the dataset hash should not move with it. */
function roundBps(x: number): number {
  return Math.round(x * 100) / 100;
}

export async function chooseSpread(db: Db, symbol: SymbolCode, costs: ResearchCosts): Promise<SpreadChoice> {
  if (costs.spreadBps !== 'from-ticks') {
    return { spreadBps: costs.spreadBps, source: 'configured', ticks: 0, byHour: [], note: `half-spread ${costs.spreadBps} bps (configured)` };
  }
  const medians = await halfSpreadMedians(db, symbol);
  const all = medians.find((m) => m.hour === null);
  const ticks = all?.ticks ?? 0;
  const byHour = medians.flatMap((m) => (m.hour === null || m.medianBps === null ? [] : [{ hour: m.hour, ticks: m.ticks, medianBps: roundBps(m.medianBps) }]));
  if (all?.medianBps === null || all === undefined || ticks < costs.minSpreadTicks) {
    const note = `half-spread ${costs.fallbackSpreadBps} bps (configured fallback: ${ticks} stored quotes of ${symbol}, fewer than the ${costs.minSpreadTicks} "from-ticks" needs)`;
    return { spreadBps: costs.fallbackSpreadBps, source: 'fallback', ticks, byHour, note };
  }
  const spreadBps = roundBps(all.medianBps);
  return { spreadBps, source: 'ticks', ticks, byHour, note: `half-spread ${spreadBps} bps (median of ${ticks} stored quotes of ${symbol})` };
}

/** The execution model's costs: the chosen spread with the config's fee and slippage. */
export function tradingCostsOf(costs: ResearchCosts, spread: SpreadChoice): TradingCosts {
  return { spreadBps: spread.spreadBps, feeBps: costs.feeBps, slippageBps: costs.slippageBps };
}
