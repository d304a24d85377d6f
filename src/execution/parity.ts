/**
 * Trade parity: two lists of round trips compared one for one (side, entry and exit time, entry
 * and exit price). Used by `tasa paper replay` (paper fills against the L6 backtest of the same
 * bars) and by the live parity monitor (jobs/parity-monitor.ts). Pure.
 *
 * Prices are compared on the trading price scale (`Price`, 1e-4 COP): the backtest's float prices
 * are rounded half to even to it, as the broker rounds a quote, so a bar price with at most four
 * decimals compares exactly.
 */
import type { Trade } from '../contracts/api/research.ts';
import type { Fill } from '../trading/fill-model.ts';
import { formatPrice, parsePrice, type Price, type UsdCents } from '../trading/money.ts';

export interface ParityTrade {
  side: 1 | -1;
  /** Epoch ms of the opening and the closing fill. */
  entryTime: number;
  exitTime: number;
  entryPrice: Price;
  exitPrice: Price;
}

export type ParityField = keyof ParityTrade;

export interface TradeDifference {
  index: number;
  /** Null when that list has no trade at `index`. */
  expected: ParityTrade | null;
  actual: ParityTrade | null;
  /** The compared fields that differ (all of them when one side is missing). */
  fields: ParityField[];
}

export interface ParityReport {
  /** The longer list's length. */
  total: number;
  /** Trades equal at the same index. */
  matched: number;
  firstDifference: TradeDifference | null;
}

const FIELDS: readonly ParityField[] = ['side', 'entryTime', 'exitTime', 'entryPrice', 'exitPrice'];

/** `compared`: the fields that must be equal (default all; the live parity monitor leaves the prices out). */
export function compareTrades(expected: readonly ParityTrade[], actual: readonly ParityTrade[], compared: readonly ParityField[] = FIELDS): ParityReport {
  const total = Math.max(expected.length, actual.length);
  let matched = 0;
  let firstDifference: TradeDifference | null = null;
  for (let index = 0; index < total; index++) {
    const e = expected[index] ?? null;
    const a = actual[index] ?? null;
    const fields = e === null || a === null ? [...compared] : compared.filter((f) => e[f] !== a[f]);
    if (fields.length === 0) matched++;
    else firstDifference ??= { index, expected: e, actual: a, fields };
  }
  return { total, matched, firstDifference };
}

/** The backtest's trades on the price scale. */
export function backtestParityTrades(trades: readonly Trade[]): ParityTrade[] {
  const price = (value: number, name: string) => parsePrice(value, name, 'half_even');
  return trades.map((t) => ({
    side: t.side === 1 ? 1 : -1,
    entryTime: t.entryTime,
    exitTime: t.exitTime,
    entryPrice: price(t.entryPrice, 'backtest entry price'),
    exitPrice: price(t.exitPrice, 'backtest exit price'),
  }));
}

/**
 * The round trips of a symbol's fills, in time order: a trade opens on a fill from flat and closes
 * on the fill that brings the position back to zero; a fill that crosses zero closes one trade and
 * opens the next at its price. A trade's entry is its opening fill (adding to a position keeps it).
 * A trade still open at the end is left out.
 */
export function fillParityTrades(fills: readonly Fill[]): ParityTrade[] {
  const trades: ParityTrade[] = [];
  let position: UsdCents = 0n;
  let open: Pick<ParityTrade, 'side' | 'entryTime' | 'entryPrice'> | null = null;
  for (const fill of fills) {
    const after = position + (fill.side === 'buy' ? fill.quantity : -fill.quantity);
    const crossed = position !== 0n && (after === 0n || after > 0n !== position > 0n);
    if (crossed && open !== null) trades.push({ ...open, exitTime: fill.time, exitPrice: fill.price });
    if (after !== 0n && (position === 0n || crossed)) open = { side: after > 0n ? 1 : -1, entryTime: fill.time, entryPrice: fill.price };
    if (after === 0n) open = null;
    position = after;
  }
  return trades;
}

/** One line per trade for the command line: `+1 2024-03-05T13:05:00.000Z @ 4000.0000 -> ...`. */
export function formatParityTrade(trade: ParityTrade | null): string {
  if (trade === null) return 'none';
  const side = trade.side === 1 ? 'long' : 'short';
  return `${side} ${new Date(trade.entryTime).toISOString()} @ ${formatPrice(trade.entryPrice)} -> ${new Date(trade.exitTime).toISOString()} @ ${formatPrice(trade.exitPrice)}`;
}
