/**
 * L6: an event-driven backtest over session bars. Pure: no I/O, no clock.
 *
 * Semantics, stated explicitly (NautilusTrader-style):
 * - `targets[t]` is the position (-1, 0, +1) decided at the CLOSE of bar t. It is executed at the
 *   OPEN of bar t+1: next-bar execution, so a decision never trades at a price it has already seen.
 * - With `flatAtSessionEnd` (the default) any open position is closed at the CLOSE of the last bar
 *   present in its session (no overnight position), and the target decided at that last bar is
 *   ignored: the next session starts flat and its first bar is always held flat (its first decision
 *   executes at its second bar's open). Without it, the last bar's target executes at the next
 *   session's first open, across the overnight gap. Either way, the end of the series closes any
 *   position at the last bar's close.
 * - Fills are at the bar's open (or, for the session-end exit, its close) with no slippage beyond
 *   the costs; the spread is modelled as a cost, not as a bid/ask price.
 * - Costs and sizing are the execution model's (execution-model.ts), shared with the RL
 *   environment: each execution pays |Δposition| × (spreadBps + feeBps + slippageBps) / 1e4 × the
 *   equity at that instant (spreadBps of the fill's hour in the market's zone when the costs carry one per hour) (a reversal +1 → -1 is |Δ| = 2); position ±1 is the whole equity after the entry
 *   cost, held at constant quantity until the next change. Equity is marked at every bar close.
 * - Units: equity is in the account currency, the price's quote currency (COP for USD/COP).
 *   `initialEquity` 1 (the default) makes the curve read as growth of one unit, i.e. returns;
 *   pass a notional (e.g. 4_000_000_000 COP, about 1,000,000 USD) to read P&L in money.
 *
 * Speed: one pass over typed arrays; the only allocations in the loop are the trades themselves.
 */
import { BAR_MS } from '../domain/bar.ts';
import type { MarketCalendar } from '../domain/calendar.ts';
import type { Trade } from '../contracts/api/research.ts';
import { TasaError } from '../errors.ts';
import { Account, CostSchedule, assertSpreadByHour } from './execution-model.ts';
import { indicatorRowAt, withEveryIndicator, type IndicatorColumns } from './indicators.ts';
import { INDICATOR_NAMES, type IndicatorName, type Observation, type Policy, type Position, type SeriesBar, type TradingCosts } from './types.ts';

export interface BacktestOptions {
  /** Starting equity in account currency; 1 (default) gives the curve as growth of one unit. */
  initialEquity?: number;
  /** Close every position at its session's last bar close (default true). */
  flatAtSessionEnd?: boolean;
  /** The series' market: its wall-clock hours index `costs.spreadBpsByHour` (required with them). */
  calendar?: MarketCalendar;
}

export type { Trade };

export interface BacktestResult {
  initialEquity: number;
  costs: TradingCosts;
  flatAtSessionEnd: boolean;
  /** Bar open times, epoch ms UTC. */
  times: Float64Array;
  /** Equity marked at each bar's close, after any cost charged during the bar. */
  equity: Float64Array;
  /** Simple return of each bar: equity[i] / equity[i-1] - 1 (equity[-1] = initialEquity). */
  returns: Float64Array;
  /** Position held during each bar (from its open; a session-end exit happens at its close). */
  positions: Int8Array;
  trades: Trade[];
  /** Mean |position| over the bars. */
  exposure: number;
  totalCosts: number;
}

/** The account of one run, recording a Trade at each exit; kept in one object so the hot loop touches fields, not closures. */
class Book extends Account {
  totalCosts = 0;
  readonly trades: Trade[] = [];
  private entryIndex = 0;
  private entryTime = 0;
  private entryPrice = 0;
  private entryEquity = 0;
  private entryCost = 0;
  // Where the fill in progress happens, for the trade records.
  private fillIndex = 0;
  private fillTime = 0;
  private fillAtClose = false;
  private fillReason: Trade['exitReason'] = 'signal';

  /** Moves to `target` at `price`, at bar `index`, filled at `time`. */
  trade(target: Position, price: number, index: number, time: number, atClose: boolean, reason: Trade['exitReason']): void {
    this.fillIndex = index;
    this.fillTime = time;
    this.fillAtClose = atClose;
    this.fillReason = reason;
    this.fill(target, price, time);
  }

  protected override closeAt(price: number, legCost: number): void {
    const side = this.position === 1 ? 1 : -1;
    const pnl = this.quantity * (price - this.entryPrice) - this.entryCost - legCost;
    super.closeAt(price, legCost);
    this.totalCosts += legCost;
    this.trades.push({
      side,
      entryIndex: this.entryIndex,
      exitIndex: this.fillIndex,
      entryTime: this.entryTime,
      exitTime: this.fillTime,
      entryPrice: this.entryPrice,
      exitPrice: price,
      barsHeld: this.fillIndex - this.entryIndex + (this.fillAtClose ? 1 : 0),
      pnl,
      return: pnl / this.entryEquity,
      costs: this.entryCost + legCost,
      exitReason: this.fillReason,
    });
  }

  protected override openAt(target: Position, price: number, legCost: number): void {
    this.entryEquity = this.cash;
    super.openAt(target, price, legCost);
    this.totalCosts += legCost;
    this.entryIndex = this.fillIndex;
    this.entryTime = this.fillTime;
    this.entryPrice = price;
    this.entryCost = legCost;
  }
}

/** Runs `targets` over `series`; see the module header for the execution rules. */
export function runBacktest(series: readonly SeriesBar[], targets: Int8Array, costs: TradingCosts, options: BacktestOptions = {}): BacktestResult {
  const initialEquity = options.initialEquity ?? 1;
  const flatAtSessionEnd = options.flatAtSessionEnd ?? true;
  validateInputs(series, targets, costs, initialEquity);
  const n = series.length;
  const out = {
    times: new Float64Array(n),
    equity: new Float64Array(n),
    returns: new Float64Array(n),
    positions: new Int8Array(n),
  };
  const book = new Book(initialEquity, new CostSchedule(costs, options.calendar ?? null));
  simulate(series, targets, flatAtSessionEnd, book, out);
  let exposure = 0;
  for (let i = 0; i < n; i++) exposure += Math.abs(out.positions[i]!);
  return {
    initialEquity,
    costs: { ...costs },
    flatAtSessionEnd,
    ...out,
    trades: book.trades,
    exposure: n === 0 ? 0 : exposure / n,
    totalCosts: book.totalCosts,
  };
}

function simulate(
  series: readonly SeriesBar[],
  targets: Int8Array,
  flatAtSessionEnd: boolean,
  book: Book,
  out: { times: Float64Array; equity: Float64Array; returns: Float64Array; positions: Int8Array },
): void {
  const n = series.length;
  let previousEquity = book.cash;
  // The target that executes at the next bar's open; nothing is pending before the first bar.
  let pending: Position = 0;
  for (let i = 0; i < n; i++) {
    const bar = series[i]!;
    if (pending !== book.position) book.trade(pending, bar.open, i, bar.time, false, 'signal');
    out.positions[i] = book.position;
    const last = i === n - 1;
    const sessionEnd = last || series[i + 1]!.session !== bar.session;
    if (book.position !== 0 && (last || (sessionEnd && flatAtSessionEnd))) {
      book.trade(0, bar.close, i, bar.time + BAR_MS, true, last ? 'series-end' : 'session-end');
    }
    pending = sessionEnd && flatAtSessionEnd ? 0 : (targets[i] as Position);
    const equity = book.equityAt(bar.close);
    out.times[i] = bar.time;
    out.equity[i] = equity;
    out.returns[i] = equity / previousEquity - 1;
    previousEquity = equity;
  }
}

function validateInputs(series: readonly SeriesBar[], targets: Int8Array, costs: TradingCosts, initialEquity: number): void {
  if (targets.length !== series.length) {
    throw new TasaError('bad_argument', `The backtest got ${targets.length} targets for ${series.length} bars; it needs one target per bar.`, { input: 'targets' });
  }
  for (const [name, value] of [['spreadBps', costs.spreadBps], ['feeBps', costs.feeBps], ['slippageBps', costs.slippageBps ?? 0]] as const) {
    if (!Number.isFinite(value) || value < 0) {
      throw new TasaError('bad_argument', `The backtest cost ${name} must be a finite number >= 0, got ${value}.`, { input: name });
    }
  }
  assertSpreadByHour(costs.spreadBpsByHour, 'spreadBpsByHour');
  if (!Number.isFinite(initialEquity) || initialEquity <= 0) {
    throw new TasaError('bad_argument', `The backtest initialEquity must be a finite number > 0, got ${initialEquity}.`, { input: 'initialEquity' });
  }
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    if (t !== -1 && t !== 0 && t !== 1) throw new TasaError('bad_argument', `Backtest target ${t} at index ${i} is not a position (-1, 0 or 1).`, { input: `targets[${i}]` });
  }
  validateBars(series);
}

function validateBars(series: readonly SeriesBar[]): void {
  let previous = -Infinity;
  for (let i = 0; i < series.length; i++) {
    const bar = series[i]!;
    if (!(bar.open > 0) || !(bar.close > 0) || !Number.isFinite(bar.open) || !Number.isFinite(bar.close)) {
      throw new TasaError('bad_input', `Backtest bar ${i} (${new Date(bar.time).toISOString()}) has a missing or non-positive open/close price.`, { input: `series[${i}]` });
    }
    if (!(bar.time > previous)) {
      throw new TasaError('bad_input', `Backtest bars must be in strictly increasing time order; bar ${i} is not.`, { input: `series[${i}]` });
    }
    previous = bar.time;
  }
}

// ---------------------------------------------------------------------------------------------
// Running a policy
// ---------------------------------------------------------------------------------------------

export interface DecideOptions {
  /** Must match the backtest's: the position a policy sees at a session's first bar is then flat. */
  flatAtSessionEnd?: boolean;
}

/** The indicators `policy` reads: those it declares, or all of them when it does not say. */
export function declaredIndicators(policy: Pick<Policy, 'indicators'>): readonly IndicatorName[] {
  return policy.indicators ?? INDICATOR_NAMES;
}

/**
 * Runs `policy` over the series bar by bar and returns its targets (one per bar). At bar t the
 * policy receives only: a copy of bar t, row t of the indicators it declares (NaN for the others;
 * by the L2 contract they use bars <= t), `observe(t, position)` (called for t in increasing
 * order, once each) and the position it holds during bar t. It never receives the series or any
 * later bar, so its decision can only depend on data up to t; and as it gets copies, writing to
 * them cannot alter the series the backtest then prices (copies, not frozen objects: freezing made
 * this loop 35× slower). `observe` is the caller's: it must build its window from bars <= t (the
 * L4 dataset does).
 */
export function decideTargets(
  policy: Policy,
  series: readonly SeriesBar[],
  indicators: IndicatorColumns,
  observe: (index: number, position: Position) => Float32Array,
  options: DecideOptions = {},
): Int8Array {
  const shown = shownIndicators(policy, series, indicators);
  const flatAtSessionEnd = options.flatAtSessionEnd ?? true;
  const targets = new Int8Array(series.length);
  let position: Position = 0;
  for (let i = 0; i < series.length; i++) {
    const bar = series[i]!;
    if (i > 0 && flatAtSessionEnd && series[i - 1]!.session !== bar.session) position = 0;
    const obs: Observation = {
      bar: { ...bar },
      indicators: indicatorRowAt(shown, i),
      features: observe(i, position),
      position,
    };
    const target = policy.decide(obs).position;
    assertPosition(target, policy, bar);
    targets[i] = target;
    position = target;
  }
  return targets;
}

/** The columns shown to `policy`: those it declares (which must be there, aligned with the bars) and NaN for the rest. */
function shownIndicators(policy: Policy, series: readonly SeriesBar[], indicators: IndicatorColumns): Required<IndicatorColumns> {
  const { time } = indicators;
  if (time.length !== series.length) {
    throw new TasaError('bad_argument', `decideTargets got ${time.length} indicator rows for ${series.length} bars; they must be aligned.`, { input: 'indicators' });
  }
  for (let i = 0; i < series.length; i++) {
    if (time[i] !== series[i]!.time) {
      throw new TasaError('bad_argument', `Indicator row ${i} is for ${new Date(time[i]!).toISOString()}, not its bar's ${new Date(series[i]!.time).toISOString()}.`, {
        input: `indicators[${i}]`,
      });
    }
  }
  const declared: Partial<Record<IndicatorName, Float64Array>> = {};
  for (const name of declaredIndicators(policy)) {
    const column = indicators[name];
    if (column?.length !== series.length) {
      throw new TasaError('bad_argument', `Policy ${policy.id} reads ${name}, which decideTargets did not get for each of the ${series.length} bars.`, { input: name });
    }
    declared[name] = column;
  }
  return withEveryIndicator({ time, ...declared });
}

function assertPosition(target: number, policy: Policy, bar: SeriesBar): asserts target is Position {
  if (target !== -1 && target !== 0 && target !== 1) {
    throw new TasaError('bad_input', `Policy ${policy.id} returned position ${target} at ${new Date(bar.time).toISOString()}; a position is -1, 0 or 1.`, { input: policy.id });
  }
}
