/**
 * Figures of one session's bars: its OHLC so far and its realized volatility. Pure; a figure
 * that cannot be computed from the bars given is null, never a default.
 */
import { BAR_MS, type Bar, type Ohlc } from './bar.ts';
import type { MarketCalendar } from './calendar.ts';

/** Open of the first bar, extremes of all, close of the last; null without bars. Bars in time order. */
export function sessionOhlc(bars: readonly Bar[]): Ohlc | null {
  const first = bars[0];
  const last = bars.at(-1);
  if (first === undefined || last === undefined) return null;
  let high = -Infinity;
  let low = Infinity;
  for (const b of bars) {
    high = Math.max(high, b.high);
    low = Math.min(low, b.low);
  }
  return { open: first.open, high, low, close: last.close };
}

/** Log returns of closes between adjacent 5-minute bars; a return across a missing bar is left out. */
export function adjacentLogReturns(bars: readonly Bar[]): number[] {
  const returns: number[] = [];
  for (let i = 1; i < bars.length; i++) {
    const prev = bars[i - 1];
    const cur = bars[i];
    if (prev !== undefined && cur !== undefined && cur.time - prev.time === BAR_MS) returns.push(Math.log(cur.close / prev.close));
  }
  return returns;
}

export const MIN_RETURNS_FOR_VOLATILITY = 2;

/**
 * Annualized realized volatility: sqrt(Σ r² / n) · sqrt(barsPerSession · tradingDaysPerYear),
 * with r the n log returns of adjacent 5-minute closes (zero mean assumed, as usual for
 * intraday realized volatility). Null with fewer than MIN_RETURNS_FOR_VOLATILITY returns.
 */
export function annualizedRealizedVolatility(returns: readonly number[], barsPerSession: number, tradingDaysPerYear: number): number | null {
  if (returns.length < MIN_RETURNS_FOR_VOLATILITY || !(tradingDaysPerYear > 0)) return null;
  let sumSquares = 0;
  for (const r of returns) sumSquares += r * r;
  return Math.sqrt(sumSquares / returns.length) * Math.sqrt(barsPerSession * tradingDaysPerYear);
}

/** Sessions the calendar has in a year (weekdays minus Colombian holidays). */
export function tradingDaysInYear(calendar: MarketCalendar, year: number): number {
  return calendar.sessionsBetween(`${year}-01-01`, `${year}-12-31`).length;
}
