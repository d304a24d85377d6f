/**
 * A paper account in COP centavos. Fills move cash (notional and fee) and the fill's position;
 * marking at given prices adds the unrealized P&L. It balances exactly, in centavos:
 *   cash + market value of the positions = initialCash + realizedPnl + unrealizedPnl - fees.
 */
import { TasaError } from '../errors.ts';
import type { SymbolCode } from '../domain/symbol.ts';
import type { Centavos, Price } from './money.ts';
import type { Fill } from './fill-model.ts';
import { applyFillToPosition, flatPosition, marketValue, type Position } from './position.ts';

export interface Account {
  initialCash: Centavos;
  cash: Centavos;
  /** All fees paid so far. */
  fees: Centavos;
  /** Realized P&L of all symbols, before fees. */
  realizedPnl: Centavos;
  /** Every symbol traded so far, flat ones included. */
  positions: Readonly<Record<SymbolCode, Position>>;
}

export interface AccountValuation {
  /** Signed value of the positions at the marks. */
  marketValue: Centavos;
  unrealizedPnl: Centavos;
  /** cash + marketValue. */
  equity: Centavos;
}

export function openAccount(initialCash: Centavos): Account {
  if (initialCash < 0n) throw new TasaError('bad_argument', `Initial cash must not be negative, got ${initialCash} centavos.`, { input: 'initialCash' });
  return { initialCash, cash: initialCash, fees: 0n, realizedPnl: 0n, positions: {} };
}

export function applyFillToAccount(account: Account, fill: Fill): Account {
  const before = account.positions[fill.symbol] ?? flatPosition(fill.symbol);
  const after = applyFillToPosition(before, fill);
  const cashFlow = fill.side === 'buy' ? -fill.notional : fill.notional;
  return {
    initialCash: account.initialCash,
    cash: account.cash + cashFlow - fill.fee,
    fees: account.fees + fill.fee,
    realizedPnl: account.realizedPnl + after.realizedPnl - before.realizedPnl,
    positions: { ...account.positions, [fill.symbol]: after },
  };
}

/** The account marked at `marks` (a price per symbol); a symbol with an open position must have one. */
export function valueAccount(account: Account, marks: Readonly<Record<SymbolCode, Price>>): AccountValuation {
  let value = 0n;
  let cost = 0n;
  for (const position of Object.values(account.positions)) {
    if (position.quantity === 0n) continue;
    const mark = marks[position.symbol];
    if (mark === undefined) throw new TasaError('bad_argument', `No mark price for the open ${position.symbol} position.`, { input: position.symbol });
    value += marketValue(position, mark);
    cost += position.costBasis;
  }
  return { marketValue: value, unrealizedPnl: value - cost, equity: account.cash + value };
}
