/**
 * The half-spread a backtest charges, from the research config: the configured number, or with
 * `spreadBps: "from-ticks"` the median half-spread of the symbol's stored quotes, (ask - bid) /
 * (ask + bid) in bps of the mid. From ticks, the execution model charges each fill the median of
 * its hour of day in the market's own zone (`spreadBpsByHour`; Bogota for USD/COP); an hour with fewer than `minSpreadTicks` quotes of
 * its own is charged the median over all of them. With fewer than `minSpreadTicks` quotes in all
 * the configured fallback is charged, one figure, and the choice says so. A configured spread
 * stays one figure. With `beforeMs` only the quotes stamped before it count: a walk-forward fold
 * estimates its spread from what preceded its test window, never from the window itself.
 */
import type { MarketCalendar } from '../domain/calendar.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import { zoneCity } from '../domain/time.ts';
import type { Db } from '../store/db.ts';
import { halfSpreadMedians } from '../store/ticks-repo.ts';
import { HOURS_PER_DAY } from './execution-model.ts';
import type { ResearchCosts } from './research-config.ts';
import type { TradingCosts } from './types.ts';

export interface SpreadChoice {
  /** The half-spread charged, in bps. */
  spreadBps: number;
  /** configured: the config's number; ticks: estimated from stored quotes; fallback: too few quotes for "from-ticks". */
  source: 'configured' | 'ticks' | 'fallback';
  /** Quotes the estimate used (0 when configured). */
  ticks: number;
  /** Median half-spread per hour of day in the market's zone (empty when configured). */
  byHour: Array<{ hour: number; ticks: number; medianBps: number }>;
  /** One sentence for reports: the spread and where it came from. */
  note: string;
}

/** Spreads in a config and in reports are rounded to 0.01 bps: finer is noise, and the dataset hash should not move with it. */
function roundBps(x: number): number {
  return Math.round(x * 100) / 100;
}

/** `calendar`: the symbol's market, whose zone's hours the quotes are grouped by. */
export async function chooseSpread(
  db: Db,
  symbol: SymbolCode,
  costs: ResearchCosts,
  calendar: MarketCalendar,
  beforeMs: number | null = null,
): Promise<SpreadChoice> {
  if (costs.spreadBps !== 'from-ticks') {
    return { spreadBps: costs.spreadBps, source: 'configured', ticks: 0, byHour: [], note: `half-spread ${costs.spreadBps} bps (configured)` };
  }
  const medians = await halfSpreadMedians(db, symbol, beforeMs, calendar.zone);
  const all = medians.find((m) => m.hour === null);
  const ticks = all?.ticks ?? 0;
  const byHour = medians.flatMap((m) => (m.hour === null || m.medianBps === null ? [] : [{ hour: m.hour, ticks: m.ticks, medianBps: roundBps(m.medianBps) }]));
  if (all?.medianBps === null || all === undefined || ticks < costs.minSpreadTicks) {
    const note = `half-spread ${costs.fallbackSpreadBps} bps (configured fallback: ${ticks} stored quotes of ${symbol}, fewer than the ${costs.minSpreadTicks} "from-ticks" needs)`;
    return { spreadBps: costs.fallbackSpreadBps, source: 'fallback', ticks, byHour, note };
  }
  const spreadBps = roundBps(all.medianBps);
  const before = beforeMs === null ? '' : ` before ${new Date(beforeMs).toISOString()}`;
  const choice: SpreadChoice = { spreadBps, source: 'ticks', ticks, byHour, note: `half-spread ${spreadBps} bps (median of ${ticks} stored quotes of ${symbol}${before})` };
  const charged = hourlySpreads(choice, costs.minSpreadTicks);
  if (charged !== null) choice.note += `, charged per ${zoneCity(calendar.zone)} hour where the hour has ${costs.minSpreadTicks} quotes: ${hourlyNote(charged, spreadBps)}`;
  return choice;
}

/** The execution model's costs: the chosen spread (per hour when estimated from ticks) with the config's fee and slippage. */
export function tradingCostsOf(costs: ResearchCosts, spread: SpreadChoice): TradingCosts {
  const single: TradingCosts = { spreadBps: spread.spreadBps, feeBps: costs.feeBps, slippageBps: costs.slippageBps };
  const byHour = spread.source === 'ticks' ? hourlySpreads(spread, costs.minSpreadTicks) : null;
  return byHour === null ? single : { ...single, spreadBpsByHour: byHour };
}

/**
 * 24 half-spreads: each hour's median where the hour has `minTicks` quotes, else the overall
 * median. Null when every hour would pay the overall median: that is the one-figure spread, and
 * the same dataset (hash) as that figure configured.
 */
function hourlySpreads(spread: SpreadChoice, minTicks: number): number[] | null {
  const byHour = Array.from({ length: HOURS_PER_DAY }, () => spread.spreadBps);
  for (const h of spread.byHour) if (h.ticks >= minTicks) byHour[h.hour] = h.medianBps;
  return byHour.every((bps) => bps === spread.spreadBps) ? null : byHour;
}

/** The hours charged their own median, e.g. "08h 2.5 bps, 09h 8.75 bps (other hours 5 bps)". */
function hourlyNote(byHour: readonly number[], overall: number): string {
  const own = byHour.flatMap((bps, hour) => (bps === overall ? [] : [`${String(hour).padStart(2, '0')}h ${bps} bps`]));
  return `${own.join(', ')} (other hours ${overall} bps)`;
}
