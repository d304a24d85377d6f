/**
 * Performance metrics of a backtest: from its equity curve (one mark per bar close) and its trades.
 * Pure.
 *
 * Conventions:
 * - Per-bar simple returns r_i = E_i / E_{i-1} - 1, with E_{-1} the initial equity.
 * - Annualization uses `barsPerYear`, the number of SESSION bars in a year of this market
 *   (`sessionBarsPerYear`: 14,679 for USD/COP over 2020-01..2025-06, 243 sessions a year), never 252 or 365 × 288:
 *   annualized volatility = stdev(r) × sqrt(barsPerYear); years = bars / barsPerYear.
 * - Sharpe = mean(r) / stdev(r) × sqrt(barsPerYear), risk-free rate 0, sample stdev (n - 1).
 * - Sortino = mean(r) / DD × sqrt(barsPerYear), DD = sqrt(Σ min(r, 0)² / n) (target 0, all bars).
 * - Max drawdown is a positive fraction of the running peak (the initial equity counts as a peak).
 *   Its duration runs from that peak to the first mark back at or above it, or to the last mark
 *   when it never recovers (`maxDrawdownRecovered` says which); in bars and in calendar ms
 *   (mark instants: a bar's close, and the first bar's open for the initial equity).
 * - A metric that is undefined (no trades, zero volatility, no losing trade, no drawdown for
 *   Calmar) is `null`, never 0 or Infinity.
 * - Turnover = Σ|Δposition| / years: each trade is one entry and one exit of the whole equity, so
 *   2 × trades / years. Expectancy, average win and average loss are means of the trades' net
 *   returns (fraction of the equity at entry): over all trades, those with P&L > 0, those with P&L < 0.
 */
import { BAR_MS } from '../domain/bar.ts';
import type { MarketCalendar } from '../domain/calendar.ts';
import { DAY_MS, isIsoDate, type IsoDate } from '../domain/time.ts';
import { TasaError } from '../errors.ts';
import type { PerformanceMetrics } from '../contracts/api/research.ts';

/** What the metrics need from a backtest (a `BacktestResult` has all of it). */
export interface PerformanceInput {
  initialEquity: number;
  /** Bar open times, epoch ms UTC. */
  times: Float64Array;
  equity: Float64Array;
  positions: Int8Array;
  trades: ReadonlyArray<{ pnl: number; return: number; barsHeld: number; entryTime: number; exitTime: number }>;
}

export type { PerformanceMetrics };

const YEAR_DAYS = 365.25;

/** Session bars per calendar year over a span: the sessions' bars / years in the span (both dates inclusive). */
export function sessionBarsPerYear(calendar: MarketCalendar, from: IsoDate, to: IsoDate): number {
  for (const [name, date] of [['from', from], ['to', to]] as const) {
    if (typeof date !== 'string' || !isIsoDate(date)) throw new TasaError('bad_argument', `sessionBarsPerYear ${name} must be a date YYYY-MM-DD, got ${String(date)}.`, { input: name });
  }
  if (from > to) throw new TasaError('bad_argument', `sessionBarsPerYear needs from <= to, got ${from} after ${to}.`, { input: `${from}..${to}` });
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;
  const sessions = calendar.sessionsBetween(from, to);
  if (sessions.length === 0) throw new TasaError('bad_argument', `There is no trading session from ${from} to ${to} to annualize over.`, { input: `${from}..${to}` });
  return sessions.reduce((n, s) => n + s.barCount, 0) / (days / YEAR_DAYS);
}

/** Every metric of one run; `barsPerYear` from `sessionBarsPerYear`. */
export function computePerformance(input: PerformanceInput, barsPerYear: number): PerformanceMetrics {
  if (!Number.isFinite(barsPerYear) || barsPerYear <= 0) {
    throw new TasaError('bad_argument', `barsPerYear must be a finite number > 0, got ${barsPerYear}.`, { input: 'barsPerYear' });
  }
  const n = input.equity.length;
  const years = n / barsPerYear;
  const totalReturn = n === 0 ? null : input.equity[n - 1]! / input.initialEquity - 1;
  const cagr = totalReturn === null || totalReturn <= -1 ? null : nullIfUndefined(Math.pow(1 + totalReturn, 1 / years) - 1);
  const dd = maxDrawdown(input);
  return {
    bars: n,
    barsPerYear,
    years,
    totalReturn,
    cagr,
    ...returnStatistics(input, barsPerYear),
    maxDrawdown: dd?.depth ?? null,
    maxDrawdownBars: dd?.bars ?? null,
    maxDrawdownMs: dd?.ms ?? null,
    maxDrawdownRecovered: dd?.recovered ?? null,
    calmar: cagr === null || dd === null || dd.depth === 0 ? null : cagr / dd.depth,
    exposure: n === 0 ? null : meanAbs(input.positions),
    ...tradeStatistics(input.trades),
    turnover: n === 0 ? null : (2 * input.trades.length) / years,
    ...tradeReturns(input.trades),
  };
}

function nullIfUndefined(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function returnStatistics(input: PerformanceInput, barsPerYear: number): Pick<PerformanceMetrics, 'annualizedVolatility' | 'sharpe' | 'sortino'> {
  const { equity, initialEquity } = input;
  const n = equity.length;
  if (n < 2) return { annualizedVolatility: null, sharpe: null, sortino: null };
  let sum = 0;
  let downside = 0;
  let previous = initialEquity;
  for (let i = 0; i < n; i++) {
    const r = equity[i]! / previous - 1;
    sum += r;
    if (r < 0) downside += r * r;
    previous = equity[i]!;
  }
  const mean = sum / n;
  let squares = 0;
  previous = initialEquity;
  for (let i = 0; i < n; i++) {
    const d = equity[i]! / previous - 1 - mean;
    squares += d * d;
    previous = equity[i]!;
  }
  const sd = Math.sqrt(squares / (n - 1));
  const downsideDeviation = Math.sqrt(downside / n);
  const scale = Math.sqrt(barsPerYear);
  return {
    annualizedVolatility: sd * scale,
    sharpe: sd === 0 ? null : nullIfUndefined((mean / sd) * scale),
    sortino: downsideDeviation === 0 ? null : nullIfUndefined((mean / downsideDeviation) * scale),
  };
}

interface Drawdown {
  depth: number;
  bars: number;
  ms: number;
  recovered: boolean;
}

/** Deepest peak-to-trough fall and how long it took to get back to the peak (index -1 = initial equity). */
function maxDrawdown(input: PerformanceInput): Drawdown | null {
  const { equity, times } = input;
  const n = equity.length;
  if (n === 0) return null;
  let peak = input.initialEquity;
  let peakIndex = -1;
  let depth = 0;
  let worstPeakIndex = -1;
  for (let i = 0; i < n; i++) {
    const e = equity[i]!;
    if (e >= peak) {
      peak = e;
      peakIndex = i;
    } else if (1 - e / peak > depth) {
      depth = 1 - e / peak;
      worstPeakIndex = peakIndex;
    }
  }
  if (depth === 0) return { depth: 0, bars: 0, ms: 0, recovered: true };
  const worstPeak = worstPeakIndex === -1 ? input.initialEquity : equity[worstPeakIndex]!;
  let end = worstPeakIndex + 1;
  while (end < n - 1 && equity[end]! < worstPeak) end++;
  const markTime = (i: number): number => (i === -1 ? times[0]! : times[i]! + BAR_MS);
  return { depth, bars: end - worstPeakIndex, ms: markTime(end) - markTime(worstPeakIndex), recovered: equity[end]! >= worstPeak };
}

function meanAbs(positions: Int8Array): number {
  let sum = 0;
  for (let i = 0; i < positions.length; i++) sum += Math.abs(positions[i]!);
  return sum / positions.length;
}

function tradeStatistics(trades: PerformanceInput['trades']): Pick<PerformanceMetrics, 'winRate' | 'profitFactor' | 'tradeCount' | 'averageHoldingBars' | 'averageHoldingMinutes'> {
  const count = trades.length;
  if (count === 0) return { winRate: null, profitFactor: null, tradeCount: 0, averageHoldingBars: null, averageHoldingMinutes: null };
  let wins = 0;
  let grossProfit = 0;
  let grossLoss = 0;
  let bars = 0;
  let ms = 0;
  for (const t of trades) {
    if (t.pnl > 0) {
      wins++;
      grossProfit += t.pnl;
    } else grossLoss -= t.pnl;
    bars += t.barsHeld;
    ms += t.exitTime - t.entryTime;
  }
  return {
    winRate: wins / count,
    profitFactor: grossLoss === 0 ? null : grossProfit / grossLoss,
    tradeCount: count,
    averageHoldingBars: bars / count,
    averageHoldingMinutes: ms / count / 60_000,
  };
}

function tradeReturns(trades: PerformanceInput['trades']): Pick<PerformanceMetrics, 'expectancy' | 'averageWin' | 'averageLoss'> {
  const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length);
  return {
    expectancy: mean(trades.map((t) => t.return)),
    averageWin: mean(trades.filter((t) => t.pnl > 0).map((t) => t.return)),
    averageLoss: mean(trades.filter((t) => t.pnl < 0).map((t) => t.return)),
  };
}
