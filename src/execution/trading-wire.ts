/** The trading layer's state as its published messages (contracts/trading-messages.ts): money as decimal strings. */
import type { FillMessage, OrderUpdate, PositionMessage } from '../contracts/trading-messages.ts';
import { toIsoUtc } from '../domain/time.ts';
import type { StoredOrder } from '../store/trading-repo.ts';
import type { Fill } from '../trading/fill-model.ts';
import { formatCop, formatPrice, formatUsd } from '../trading/money.ts';
import { averagePrice, type Position } from '../trading/position.ts';

export function orderUpdate(order: StoredOrder): OrderUpdate {
  const last = order.history.at(-1);
  return {
    id: order.id,
    clientOrderId: order.clientOrderId,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    timeInForce: order.timeInForce,
    quantity: formatUsd(order.quantity),
    filledQuantity: formatUsd(order.filledQuantity),
    limitPrice: order.limitPrice === null ? null : formatPrice(order.limitPrice),
    stopPrice: order.stopPrice === null ? null : formatPrice(order.stopPrice),
    status: order.status,
    reason: last?.reason ?? null,
    actor: order.actor,
    strategyId: order.strategyId,
    at: toIsoUtc(last?.at ?? order.updatedAt),
  };
}

export function fillMessage(fill: Fill, orderId: number): FillMessage {
  return {
    orderId,
    clientOrderId: fill.clientOrderId,
    seq: fill.seq,
    symbol: fill.symbol,
    side: fill.side,
    quantity: formatUsd(fill.quantity),
    price: formatPrice(fill.price),
    notional: formatCop(fill.notional),
    fee: formatCop(fill.fee),
    time: toIsoUtc(fill.time),
  };
}

export function positionMessage(position: Position, at: number): PositionMessage {
  return { ...positionAmounts(position), at: toIsoUtc(at) };
}

/** A position's quantity and amounts, as published and as the API serves them. */
export function positionAmounts(position: Position): Omit<PositionMessage, 'at'> {
  const average = averagePrice(position);
  return {
    symbol: position.symbol,
    quantity: formatUsd(position.quantity),
    averagePrice: average === null ? null : formatPrice(average),
    costBasis: formatCop(position.costBasis),
    realizedPnl: formatCop(position.realizedPnl),
  };
}
