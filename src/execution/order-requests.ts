/** Requests the order service compares (a resubmitted client order id) or makes itself (flattening). */
import { TasaError } from '../errors.ts';
import type { StoredOrder } from '../store/trading-repo.ts';
import type { Account } from '../trading/account.ts';
import { abs } from '../trading/money.ts';
import type { OrderRequest } from '../trading/order.ts';

/** The stored order, when the request is the same order again; a different order under a used id is a conflict. */
export function sameOrder(stored: StoredOrder, request: OrderRequest): StoredOrder {
  const same =
    stored.symbol === request.symbol &&
    stored.side === request.side &&
    stored.type === request.type &&
    stored.quantity === request.quantity &&
    stored.timeInForce === request.timeInForce &&
    stored.limitPrice === request.limitPrice &&
    stored.stopPrice === request.stopPrice;
  if (same) return stored;
  throw new TasaError('conflict', `Client order id ${request.clientOrderId} is already used by a different order (${stored.id}).`, {
    input: request.clientOrderId,
  });
}

/** One market order closing each open position (GTC: it must not expire unfilled). */
export function flattenRequests(account: Account, now: number): OrderRequest[] {
  return Object.values(account.positions)
    .filter((p) => p.quantity !== 0n)
    .map((p) => ({
      clientOrderId: `flatten-${p.symbol.replace('/', '')}-${now}`,
      symbol: p.symbol,
      side: p.quantity > 0n ? 'sell' : 'buy',
      type: 'market',
      quantity: abs(p.quantity),
      timeInForce: 'GTC',
      limitPrice: null,
      stopPrice: null,
    }));
}
