/** The audit entries of the trading layer: every order event and every change of the trading state, with who did it. */
import { toIsoUtc } from '../domain/time.ts';
import type { AuditInput } from '../store/audit-repo.ts';
import type { StoredOrder } from '../store/trading-repo.ts';
import type { Strategy } from '../store/strategies-repo.ts';
import type { StoredRiskState } from '../store/trading-state-repo.ts';
import type { Fill } from '../trading/fill-model.ts';
import { formatCop, formatPrice, formatUsd } from '../trading/money.ts';
import type { OrderRequest } from '../trading/order.ts';
import type { TradingState } from '../trading/risk.ts';

export type OrderAction = 'order.placed' | 'order.denied' | 'order.rejected' | 'order.cancelled' | 'order.expired';

const STATE_ACTIONS: Readonly<Record<TradingState, string>> = { ACTIVE: 'trading.resumed', REDUCING: 'trading.reduce_only', HALTED: 'trading.halted' };

export function orderEntity(clientOrderId: string): string {
  return `order:${clientOrderId}`;
}

export function orderAudit(action: OrderAction, order: StoredOrder, actor: string, at: number, details: Record<string, unknown> = {}): AuditInput {
  return {
    actor,
    action,
    entity: orderEntity(order.clientOrderId),
    at,
    details: {
      id: order.id,
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      quantity: formatUsd(order.quantity),
      limitPrice: order.limitPrice === null ? null : formatPrice(order.limitPrice),
      stopPrice: order.stopPrice === null ? null : formatPrice(order.stopPrice),
      timeInForce: order.timeInForce,
      status: order.status,
      reason: order.history.at(-1)?.reason ?? null,
      strategyId: order.strategyId,
      ...details,
    },
  };
}

export function invalidOrderAudit(request: OrderRequest, actor: string, at: number, code: string, reason: string): AuditInput {
  return { actor, action: 'order.invalid', entity: orderEntity(request.clientOrderId), at, details: { symbol: request.symbol, code, reason } };
}

export function fillAudit(order: StoredOrder, fill: Fill, actor: string, at: number): AuditInput {
  return {
    actor,
    action: 'order.fill',
    entity: orderEntity(order.clientOrderId),
    at,
    details: {
      id: order.id,
      seq: fill.seq,
      side: fill.side,
      quantity: formatUsd(fill.quantity),
      price: formatPrice(fill.price),
      notional: formatCop(fill.notional),
      fee: formatCop(fill.fee),
      tickTime: toIsoUtc(fill.time),
      status: order.status,
    },
  };
}

export function stateAudit(state: StoredRiskState): AuditInput {
  return { actor: state.actor, action: STATE_ACTIONS[state.mode], entity: 'trading', at: state.since, details: { mode: state.mode, reason: state.reason } };
}

/** A strategy switched on (with the settings it now trades) or off. */
export function strategyAudit(strategy: Pick<Strategy, 'id'> & Partial<Strategy>, enabled: boolean, actor: string, at: number): AuditInput {
  const settings = enabled && strategy.symbol !== undefined && strategy.policyId !== undefined && strategy.targetNotional !== undefined
    ? { symbol: strategy.symbol, policyId: strategy.policyId, targetNotional: formatUsd(strategy.targetNotional) }
    : {};
  return { actor, action: enabled ? 'strategy.started' : 'strategy.stopped', entity: `strategy:${strategy.id}`, at, details: { enabled, ...settings } };
}
