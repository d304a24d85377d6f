/** The order service's state in memory, restored from the store on start, and what risk needs to know of it. */
import type { SymbolCode } from '../domain/symbol.ts';
import type { IsoDate } from '../domain/time.ts';
import type { StoredOrder } from '../store/trading-repo.ts';
import type { StoredRiskState } from '../store/trading-state-repo.ts';
import { valueAccount, type Account, type AccountValuation } from '../trading/account.ts';
import type { Centavos, Price } from '../trading/money.ts';
import { remaining, type OrderRequest } from '../trading/order.ts';
import { averagePrice } from '../trading/position.ts';
import type { RiskContext } from '../trading/risk.ts';

export const RATE_WINDOW_MS = 60_000;

export interface TradingDay {
  date: IsoDate;
  openingEquity: Centavos;
}

export interface TradingBook {
  account: Account;
  /** The last price of each symbol. */
  marks: Map<SymbolCode, Price>;
  /** Orders not yet final, by client order id. */
  open: Map<string, StoredOrder>;
  risk: StoredRiskState;
  /** When the orders of the last minute were sent on (the order-rate limit). */
  recentOrderTimes: number[];
  day: TradingDay | null;
}

/** The account at the last prices; a position without a price yet is marked at its average price (no unrealized P&L). */
export function valuation(book: TradingBook): AccountValuation {
  const marks: Record<SymbolCode, Price> = {};
  for (const position of Object.values(book.account.positions)) {
    const mark = book.marks.get(position.symbol) ?? averagePrice(position);
    if (mark !== null) marks[position.symbol] = mark;
  }
  return valueAccount(book.account, marks);
}

/** Equity now minus equity at the day's first mark; 0 before the day has one. */
export function dailyPnl(book: TradingBook): Centavos {
  return book.day === null ? 0n : valuation(book).equity - book.day.openingEquity;
}

export function riskContext(book: TradingBook, request: OrderRequest, now: number): RiskContext {
  let openBuys = 0n;
  let openSells = 0n;
  for (const order of book.open.values()) {
    if (order.symbol !== request.symbol) continue;
    if (order.side === 'buy') openBuys += remaining(order);
    else openSells += remaining(order);
  }
  const position = book.account.positions[request.symbol]?.quantity ?? 0n;
  return { state: book.risk, position, openBuys, openSells, recentOrderTimes: book.recentOrderTimes, dailyPnl: dailyPnl(book), now };
}

export function noteOrderSent(book: TradingBook, at: number): void {
  book.recentOrderTimes = [...book.recentOrderTimes.filter((t) => t > at - RATE_WINDOW_MS), at];
}
