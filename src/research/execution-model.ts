/**
 * The execution model: how a target position becomes fills, costs and equity. The backtest books
 * with it and the RL environment rewards with it, so training optimizes exactly what the
 * backtest measures. Pure: no I/O.
 *
 * - Timing (applied by the callers' loops): a target decided at the close of bar t fills at the
 *   OPEN of bar t+1. At the last bar of a session any position is closed at that bar's CLOSE and
 *   the target decided there is ignored, so every session starts and ends flat. The one exception
 *   is a policy that holds overnight (buy-and-hold, `flattensAtSessionEnd`): its position is
 *   carried across the overnight gap, marked at each close, and closed at the span's last close.
 * - Costs: each unit of |Δposition| pays `costRate` (half-spread + fee + slippage, in bps) x the
 *   equity at the fill price, before the fill (a reversal pays two such legs, both on the same
 *   pre-fill equity). When the costs carry a half-spread per hour of day in the market's own zone
 *   (`spreadBpsByHour`, estimated from stored quotes; Bogota for USD/COP, Sao Paulo for USD/BRL),
 *   a fill pays the spread of the hour of its fill time (a bar's open time, or its close time for
 *   a session-end exit) instead of the one figure.
 * - Sizing: position ±1 puts the whole equity left after the entry cost into a constant quantity,
 *   held until the next fill. It is not rebalanced per bar, so a short's equity over a holding is
 *   entry equity x (2 - price / entry price), not a sum of per-bar log returns: a per-bar
 *   reward has to be the log change of this account's equity, which sums to the holding's
 *   net log return.
 */
import type { MarketCalendar } from '../domain/calendar.ts';
import { TasaError } from '../errors.ts';
import type { Policy, Position, TradingCosts } from './types.ts';

const BPS = 1e-4;
export const HOURS_PER_DAY = 24;

/** The fraction of equity paid per unit of position change with the one (configured) spread figure. */
export function costRate(costs: TradingCosts): number {
  return (costs.spreadBps + costs.feeBps + (costs.slippageBps ?? 0)) * BPS;
}

/** Every cost multiplied by `factor` (cost stress, cost sensitivity, gross = factor 0). */
export function scaleCosts(costs: TradingCosts, factor: number): TradingCosts {
  const scaled: TradingCosts = { spreadBps: costs.spreadBps * factor, feeBps: costs.feeBps * factor };
  if (costs.slippageBps !== undefined) scaled.slippageBps = costs.slippageBps * factor;
  if (costs.spreadBpsByHour !== undefined) scaled.spreadBpsByHour = costs.spreadBpsByHour.map((bps) => bps * factor);
  return scaled;
}

/** The costs with the one spread figure only (for a consumer that cannot charge per hour, e.g. the paper broker's single fee). */
export function withoutHourlySpread(costs: TradingCosts): TradingCosts {
  const { spreadBpsByHour: _, ...single } = costs;
  return single;
}

/** Refuses a per-hour spread that is not 24 finite numbers >= 0 (`input` names the field in the error). */
export function assertSpreadByHour(byHour: readonly number[] | undefined, input: string): void {
  if (byHour === undefined) return;
  if (byHour.length !== HOURS_PER_DAY || !byHour.every((bps) => Number.isFinite(bps) && bps >= 0)) {
    throw new TasaError('bad_argument', `${input} must be 24 half-spreads in bps (the market's hours 0-23), each a finite number >= 0.`, { input });
  }
}

/** What a fill pays per unit of position change at a given time: one rate, or one per hour of the market's zone. */
export class CostSchedule {
  /** The rate with the one spread figure (every fill's rate when there is no per-hour spread). */
  readonly flatRate: number;
  /** The rate of each hour and the market whose wall-clock hours index them, when the spread is per hour. */
  private readonly hourly: { rates: Float64Array; calendar: MarketCalendar } | null;

  /**
   * `calendar`: the market whose wall-clock hours index `spreadBpsByHour`; null only for costs
   * without a per-hour spread (a flat rate has no hours, and a caller such as the RL env over a
   * synthetic symbol may have no market to name).
   */
  constructor(costs: TradingCosts, calendar: MarketCalendar | null) {
    assertSpreadByHour(costs.spreadBpsByHour, 'costs.spreadBpsByHour');
    this.flatRate = costRate(costs);
    const byHour = costs.spreadBpsByHour;
    if (byHour === undefined) {
      this.hourly = null;
      return;
    }
    if (calendar === null) throw new TasaError('bad_argument', 'A per-hour spread needs the calendar of the market whose hours index it.', { input: 'calendar' });
    this.hourly = { rates: Float64Array.from(byHour, (spreadBps) => costRate({ ...costs, spreadBps })), calendar };
  }

  /** The rate of a fill at `time` (epoch ms UTC). */
  rateAt(time: number): number {
    return this.hourly === null ? this.flatRate : (this.hourly.rates[this.hourly.calendar.localHour(time)] as number);
  }
}

/** Whether the run closes `policy`'s position at each session end: when the run does (the default), unless the policy holds overnight. */
export function flattensAtSessionEnd(runFlattens: boolean, policy: Pick<Policy, 'holdsOvernight'>): boolean {
  return runFlattens && policy.holdsOvernight !== true;
}

/** Cash plus a constant quantity of the instrument; equity = cash + quantity x price. */
export class Account {
  cash: number;
  quantity = 0;
  position: Position = 0;

  constructor(
    initialEquity: number,
    readonly costs: CostSchedule,
  ) {
    this.cash = initialEquity;
  }

  equityAt(price: number): number {
    return this.cash + this.quantity * price;
  }

  /** Moves to `target` at `price`, filled at `time`: closes the position, then opens the target, each leg paying the same cost. */
  fill(target: Position, price: number, time: number): void {
    if (target === this.position) return;
    const legCost = this.costs.rateAt(time) * this.equityAt(price);
    if (this.position !== 0) this.closeAt(price, legCost);
    if (target !== 0) this.openAt(target, price, legCost);
  }

  /** Sells (or buys back) the whole quantity at `price`, paying `legCost`. */
  protected closeAt(price: number, legCost: number): void {
    this.cash += this.quantity * price - legCost;
    this.quantity = 0;
    this.position = 0;
  }

  /** Pays `legCost`, then puts all the cash left into `target` at `price`. */
  protected openAt(target: Position, price: number, legCost: number): void {
    this.cash -= legCost;
    this.quantity = (target * this.cash) / price;
    this.cash -= this.quantity * price;
    this.position = target;
  }
}
