/**
 * A position in one symbol, kept so that the books balance exactly: `costBasis` is the sum of the
 * (rounded) notionals of the open quantity, signed like it (paid for a long, received for a
 * short). A fill that reduces the position takes out the closed share of the cost basis (rounded
 * half to even; all of it when the position closes), and the difference with the fill's notional
 * is realized. A flip is a close and an open, the fill's notional split between the two with the
 * parts summing to it. Hence for every fill: change in costBasis - change in realized = signed
 * notional, which is what makes the account identity hold to the centavo.
 */
import type { SymbolCode } from '../domain/symbol.ts';
import { abs, divideHalfEven, minBig, notional, unitPrice, type Centavos, type Price, type UsdCents } from './money.ts';
import type { Fill } from './fill-model.ts';

export interface Position {
  symbol: SymbolCode;
  /** USD cents: above zero long, below zero short. */
  quantity: UsdCents;
  /** COP centavos paid (long, > 0) or received (short, < 0) for the open quantity. */
  costBasis: Centavos;
  /** Realized P&L of this symbol so far, before fees. */
  realizedPnl: Centavos;
}

export function flatPosition(symbol: SymbolCode): Position {
  return { symbol, quantity: 0n, costBasis: 0n, realizedPnl: 0n };
}

export function applyFillToPosition(position: Position, fill: Fill): Position {
  const signedQuantity = fill.side === 'buy' ? fill.quantity : -fill.quantity;
  const signedNotional = fill.side === 'buy' ? fill.notional : -fill.notional;
  const reducing = position.quantity !== 0n && position.quantity > 0n !== signedQuantity > 0n;
  const closedQuantity = reducing ? minBig(abs(position.quantity), fill.quantity) : 0n;
  const closingNotional = share(signedNotional, closedQuantity, fill.quantity);
  const removedCost = share(position.costBasis, closedQuantity, abs(position.quantity));
  return {
    symbol: position.symbol,
    quantity: position.quantity + signedQuantity,
    costBasis: position.costBasis - removedCost + (signedNotional - closingNotional),
    // Closing a long receives -closingNotional for removedCost paid; closing a short the reverse.
    realizedPnl: position.realizedPnl - closingNotional - removedCost,
  };
}

/** part/whole of an amount, rounded half to even; exact when part is 0 or the whole. */
function share(amount: bigint, part: bigint, whole: bigint): bigint {
  if (part === whole) return amount;
  if (part === 0n) return 0n;
  return divideHalfEven(amount * part, whole);
}

/** COP per USD paid on average for the open quantity (rounded half to even), or null when flat. */
export function averagePrice(position: Position): Price | null {
  if (position.quantity === 0n) return null;
  return unitPrice(position.costBasis, position.quantity);
}

/** The position's signed value at `mark`, in centavos. */
export function marketValue(position: Position, mark: Price): Centavos {
  return notional(position.quantity, mark);
}

export function unrealizedPnl(position: Position, mark: Price): Centavos {
  return marketValue(position, mark) - position.costBasis;
}
