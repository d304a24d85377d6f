/**
 * Analytics recomputed from a stored backtest (its downsampled equity curve and trade ledger, see
 * equity-curve.ts): PnL per session, risk figures over those sessions, and the distribution of the
 * trades. Pure.
 *
 * Conventions:
 * - A session is a trade date of the symbol's market calendar (`sessionDateOf`; USD/COP's is its
 *   Bogota date, an EUR/USD session runs from 17:00 to 17:00 New York).
 * - A period is one session when the curve keeps every session close (`sessionsPerPoint` 1), else
 *   `sessionsPerPoint` whole sessions; its PnL is its closing equity minus the previous period's
 *   (the initial equity before the first), its return that PnL over the previous closing equity.
 * - Annualization: `periodsPerYear` = barsPerYear / (barsPerSession × sessionsPerPoint), barsPerYear
 *   being the run's session bars per calendar year (performance.ts), never 252, and barsPerSession
 *   the market's (`MarketCalendar.nominalBarCount`: 60 for USD/COP, 288 for EUR/USD).
 * - Volatility is the sample standard deviation (n - 1); Sortino = mean / DD × sqrt(periodsPerYear),
 *   DD = sqrt(Σ min(r, 0)² / n), as in performance.ts but over periods instead of bars.
 * - VaR and CVaR at 95% are historical: with the n period values sorted ascending and k = ceil(0.05 n),
 *   VaR = -(k-th smallest) and CVaR = -(mean of the k smallest); positive numbers are losses.
 * - Anything undefined (no period, one period, no losing period) is null, never 0.
 */
import { sessionDateOf, type MarketCalendar } from '../domain/calendar.ts';
import type { IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import type { Trade } from './backtest.ts';
import type { EquityPoint } from './equity-curve.ts';

export interface EquityCurveSummary {
  initialEquity: number;
  sessionsPerPoint: number;
  points: readonly EquityPoint[];
}

export interface PeriodPnl {
  /** Trade date of the period's last session in the market. */
  date: IsoDate;
  /** Open time of the period's last bar, epoch ms UTC (its close is the mark). */
  time: number;
  equity: number;
  pnl: number;
  return: number;
}

/** PnL of each period (session of `calendar`'s market, or group of `sessionsPerPoint` sessions), in time order. */
export function periodPnl(curve: EquityCurveSummary, calendar: MarketCalendar): PeriodPnl[] {
  const dateOf = (t: number): IsoDate => sessionDateOf(calendar, t);
  const closes: EquityPoint[] = [];
  for (let i = 0; i < curve.points.length; i++) {
    const point = curve.points[i]!;
    const next = curve.points[i + 1];
    if (next === undefined || dateOf(next[0]) !== dateOf(point[0])) closes.push(point);
  }
  const out: PeriodPnl[] = [];
  let previous = curve.initialEquity;
  for (const [time, equity] of closes) {
    out.push({ date: dateOf(time), time, equity, pnl: equity - previous, return: equity / previous - 1 });
    previous = equity;
  }
  return out;
}

export interface TailRisk {
  /** Value at risk at 95%: the loss not exceeded in 95% of periods (negative when even the 5% worst gained). */
  var95: number | null;
  /** Mean loss of the worst 5% of periods. */
  cvar95: number | null;
}

/** Historical VaR/CVaR 95% of `values` (PnL or returns); see the module header. */
export function tailRisk95(values: readonly number[]): TailRisk {
  if (values.length === 0) return { var95: null, cvar95: null };
  const sorted = [...values].sort((a, b) => a - b);
  // n / 20, not 0.05 * n: 0.05 * 60 is 3.0000000000000004 in floating point.
  const k = Math.ceil(sorted.length / 20);
  let sum = 0;
  for (let i = 0; i < k; i++) sum += sorted[i]!;
  return { var95: -sorted[k - 1]!, cvar95: -sum / k };
}

export interface RiskMetrics {
  periods: number;
  sessionsPerPeriod: number;
  periodsPerYear: number;
  meanReturn: number | null;
  /** Sample standard deviation of the period returns. */
  volatility: number | null;
  annualizedVolatility: number | null;
  sortino: number | null;
  /** Deepest drawdown over every bar (kept by the downsampling), positive fraction. */
  maxDrawdown: number | null;
  /** Of the period returns (fractions) and of the period PnL (account currency). */
  returns: TailRisk;
  pnl: TailRisk;
  worstPeriod: PeriodPnl | null;
  bestPeriod: PeriodPnl | null;
  /** Share of periods with a PnL > 0. */
  positiveShare: number | null;
}

/**
 * Risk figures of the periods of a stored curve; `barsPerYear` from the run's metrics,
 * `barsPerSession` and the sessions from the instrument's market `calendar`.
 */
export function riskMetrics(curve: EquityCurveSummary, barsPerYear: number, barsPerSession: number, calendar: MarketCalendar): RiskMetrics {
  if (!(Number.isFinite(barsPerYear) && barsPerYear > 0)) throw new TasaError('bad_argument', `barsPerYear must be a finite number > 0, got ${barsPerYear}.`, { input: 'barsPerYear' });
  const periods = periodPnl(curve, calendar);
  const n = periods.length;
  const periodsPerYear = barsPerYear / (barsPerSession * curve.sessionsPerPoint);
  const returns = periods.map((p) => p.return);
  const mean = n === 0 ? null : returns.reduce((a, b) => a + b, 0) / n;
  const sd = mean === null || n < 2 ? null : Math.sqrt(returns.reduce((a, r) => a + (r - mean) ** 2, 0) / (n - 1));
  const downside = n === 0 ? 0 : Math.sqrt(returns.reduce((a, r) => a + Math.min(r, 0) ** 2, 0) / n);
  const scale = Math.sqrt(periodsPerYear);
  let worst: PeriodPnl | null = null;
  let best: PeriodPnl | null = null;
  for (const p of periods) {
    if (worst === null || p.pnl < worst.pnl) worst = p;
    if (best === null || p.pnl > best.pnl) best = p;
  }
  return {
    periods: n,
    sessionsPerPeriod: curve.sessionsPerPoint,
    periodsPerYear,
    meanReturn: mean,
    volatility: sd,
    annualizedVolatility: sd === null ? null : sd * scale,
    sortino: mean === null || downside === 0 ? null : (mean / downside) * scale,
    maxDrawdown: curve.points.length === 0 ? null : Math.max(...curve.points.map((p) => p[2])),
    returns: tailRisk95(returns),
    pnl: tailRisk95(periods.map((p) => p.pnl)),
    worstPeriod: worst,
    bestPeriod: best,
    positiveShare: n === 0 ? null : periods.filter((p) => p.pnl > 0).length / n,
  };
}

export interface HistogramBin {
  /** Inclusive lower edge. */
  from: number;
  /** Upper edge: exclusive, except for the last bin. */
  to: number;
  count: number;
}

/** `bins` equal-width bins from min to max of `values`; one bin when they are all equal, none when empty. */
export function histogram(values: readonly number[], bins: number): HistogramBin[] {
  if (!Number.isInteger(bins) || bins < 1) throw new TasaError('bad_argument', `Histogram bins must be an integer >= 1, got ${bins}.`, { input: 'bins' });
  if (values.length === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === max) return [{ from: min, to: max, count: values.length }];
  const width = (max - min) / bins;
  const out: HistogramBin[] = Array.from({ length: bins }, (_, i) => ({ from: min + i * width, to: i === bins - 1 ? max : min + (i + 1) * width, count: 0 }));
  for (const v of values) out[Math.min(bins - 1, Math.floor((v - min) / width))]!.count++;
  return out;
}

export interface HoldingBucket {
  label: string;
  /** Bars held, inclusive bounds; `maxBars` null for the open-ended last bucket. */
  minBars: number;
  maxBars: number | null;
  count: number;
}

/** Holding-time buckets in 5-minute bars: up to 1, 2-3, 4-6, 7-12 (1 h), 13-24 (2 h), 25-60 (a session), more. */
const HOLDING_EDGES: ReadonlyArray<[number, number | null, string]> = [
  [0, 1, '<= 5 min'],
  [2, 3, '10-15 min'],
  [4, 6, '20-30 min'],
  [7, 12, '35-60 min'],
  [13, 24, '65-120 min'],
  [25, 60, '125-300 min'],
  [61, null, '> 300 min (overnight)'],
];

export function holdingBuckets(trades: ReadonlyArray<Pick<Trade, 'barsHeld'>>): HoldingBucket[] {
  const out = HOLDING_EDGES.map(([minBars, maxBars, label]) => ({ label, minBars, maxBars, count: 0 }));
  for (const t of trades) {
    const bucket = out.find((b) => t.barsHeld >= b.minBars && (b.maxBars === null || t.barsHeld <= b.maxBars));
    if (bucket) bucket.count++;
  }
  return out;
}

export interface TradeOutcomes {
  trades: number;
  wins: number;
  losses: number;
  /** PnL exactly 0. */
  breakeven: number;
  long: number;
  short: number;
  /** Mean PnL of the winning / losing trades (account currency); null when there are none. */
  averageWin: number | null;
  averageLoss: number | null;
  totalPnl: number;
}

export function tradeOutcomes(trades: ReadonlyArray<Pick<Trade, 'pnl' | 'side'>>): TradeOutcomes {
  let wins = 0;
  let losses = 0;
  let winSum = 0;
  let lossSum = 0;
  let long = 0;
  for (const t of trades) {
    if (t.pnl > 0) {
      wins++;
      winSum += t.pnl;
    } else if (t.pnl < 0) {
      losses++;
      lossSum += t.pnl;
    }
    if (t.side === 1) long++;
  }
  return {
    trades: trades.length,
    wins,
    losses,
    breakeven: trades.length - wins - losses,
    long,
    short: trades.length - long,
    averageWin: wins === 0 ? null : winSum / wins,
    averageLoss: losses === 0 ? null : lossSum / losses,
    totalPnl: winSum + lossSum,
  };
}
