/**
 * Bars. A 5-minute bar is labelled by its OPEN time and covers [open, open + 5 min)
 * (left-closed, right-open). Prices are COP per USD.
 */
import type { SymbolCode } from './symbol.ts';
import { MINUTE_MS } from './time.ts';

export const BAR_MS = 5 * MINUTE_MS;

/** Where a stored bar's values came from. */
export type BarSource = 'import' | 'twelvedata_ws' | 'twelvedata_rest' | 'simulator';

/**
 * Provenance class: `simulator` bars (the built-in simulator's, live or backfilled) are made-up
 * prices; every other source is real market data (a vendor file, TwelveData). Charts and reports
 * never join the two classes into one series or one figure.
 */
export function isSimulatedSource(source: BarSource): boolean {
  return source === 'simulator';
}

/**
 * - `repaired`: the timestamp was corrected (e.g. Bogota wall time labelled as UTC).
 * - `flat`: open = high = low = close (the feed carried one price for the bar).
 * - `backfilled`: filled after the fact from REST history, not from the live stream.
 * - `partial`: built by the live stream while it covered only part of the slot (started mid-slot,
 *   a disconnect, a stall, an outage, a takeover): some ticks may be missing. Served as not
 *   complete; the failsafe replaces it with the vendor's bar.
 * - `reconciled`: the vendor's bar (REST history), written after the session closed over a stored
 *   bar that differed from it (e.g. a complete live bar whose open or close tie, between ticks
 *   sharing a second, broke differently). Final: no live revision replaces it.
 * A slot with no tick at all has no bar (never a forward-filled one): it shows as missing.
 */
export type BarFlag = 'repaired' | 'flat' | 'backfilled' | 'partial' | 'reconciled';

export interface Ohlc {
  open: number;
  high: number;
  low: number;
  close: number;
}

export interface Bar extends Ohlc {
  symbol: SymbolCode;
  /** Open time, epoch ms UTC, aligned to the 5-minute grid. */
  time: number;
  volume: number | null;
  tickCount: number | null;
  source: BarSource;
  revision: number;
  flags: BarFlag[];
  /**
   * Share of the slot (0..1) during which the live stream was connected and aggregating; below 1
   * the bar is `partial`. 1 for a backfilled or reconciled bar (the vendor's whole bar); null or
   * absent when unknown (imports).
   */
  coverage?: number | null;
}

/** Whether the bar was built from a stream that covered only part of its slot (may miss ticks). */
export function isPartial(bar: Pick<Bar, 'flags'>): boolean {
  return bar.flags.includes('partial');
}

/** Why a set of OHLC values cannot be a bar, or null when it can. */
export function ohlcViolation(bar: Ohlc): string | null {
  const { open, high, low, close } = bar;
  // The common case without allocating (hot in backtests and aggregation); NaN fails every comparison.
  if (open > 0 && close > 0 && low > 0 && high < Infinity && high >= open && high >= close && low <= open && low <= close) return null;
  for (const [name, value] of [['open', open], ['high', high], ['low', low], ['close', close]] as const) {
    if (!Number.isFinite(value)) return `${name} is not a number`;
    if (value <= 0) return `${name} must be > 0 (got ${value})`;
  }
  if (high < Math.max(open, close)) return `high ${high} is below max(open, close) ${Math.max(open, close)}`;
  if (low > Math.min(open, close)) return `low ${low} is above min(open, close) ${Math.min(open, close)}`;
  return null;
}

export function isFlat(bar: Ohlc): boolean {
  return bar.open === bar.high && bar.high === bar.low && bar.low === bar.close;
}

/** The open time of the 5-minute slot containing `t`. */
export function barOpenTime(t: number): number {
  return Math.floor(t / BAR_MS) * BAR_MS;
}
