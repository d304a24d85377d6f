/**
 * Pre-trade risk: the checks an order passes before the broker sees it, and the trading state.
 * - ACTIVE: trading enabled.
 * - REDUCING: only orders that shrink the open position (optional, at a smaller daily loss).
 * - HALTED: the kill switch; every new order is denied, open orders are to be cancelled and,
 *   if configured, the position flattened.
 * The state only escalates (ACTIVE -> REDUCING -> HALTED) on its own; only `resetTradingState`,
 * an explicit act, returns it to ACTIVE. While the day's loss is still past a limit, the next
 * evaluation after a reset trips it again: raise the limit, or wait for the next trading day.
 * A refused order is `denied` (refused inside Tasa), never `rejected` (the broker's word).
 */
import { TasaError } from '../errors.ts';
import { formatCop, formatUsd, type Centavos, type UsdCents } from './money.ts';
import type { OrderRequest } from './order.ts';

export type TradingState = 'ACTIVE' | 'REDUCING' | 'HALTED';

export interface RiskState {
  mode: TradingState;
  /** When this mode began, epoch ms. */
  since: number;
  reason: string | null;
}

export interface RiskLimits {
  /** Largest absolute position in a symbol, counting the open orders on the same side as filled. */
  maxPosition: UsdCents;
  maxOrderSize: UsdCents;
  /** Orders accepted in any 60 s window ending now. */
  maxOrdersPerMinute: number;
  /** A day's net loss (realized + unrealized - fees, > 0) at which trading halts. */
  dailyLossLimit: Centavos;
  /** A smaller day's loss at which only reducing orders pass; null: no REDUCING step. */
  reduceOnlyLoss: Centavos | null;
  /** Whether halting also asks for the positions to be closed. */
  flattenOnHalt: boolean;
}

/** What the checks need to know, all of it about the order's symbol. */
export interface RiskContext {
  state: RiskState;
  /** Signed position, USD cents. */
  position: UsdCents;
  /** Unfilled USD of the open buy orders and of the open sell orders. */
  openBuys: UsdCents;
  openSells: UsdCents;
  /** When earlier orders were submitted, epoch ms. */
  recentOrderTimes: readonly number[];
  /** The trading day's net P&L so far (equity now - equity at the day's start). */
  dailyPnl: Centavos;
  now: number;
}

export type RiskDenialCode = 'halted' | 'daily_loss_limit' | 'reduce_only' | 'max_order_size' | 'max_position' | 'order_rate';

export type RiskDecision = { accepted: true } | { accepted: false; code: RiskDenialCode; reason: string };

/** A new trading state and what to do about it (on entering HALTED). */
export interface RiskUpdate {
  state: RiskState;
  cancelOpenOrders: boolean;
  flatten: boolean;
}

const MINUTE_MS = 60_000;
const SEVERITY: Readonly<Record<TradingState, number>> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

export function validateRiskLimits(limits: RiskLimits): RiskLimits {
  const bad = (field: string, problem: string) => new TasaError('bad_argument', `Risk limit ${field} ${problem}.`, { input: field });
  if (limits.maxPosition <= 0n) throw bad('maxPosition', 'must be above zero');
  if (limits.maxOrderSize <= 0n) throw bad('maxOrderSize', 'must be above zero');
  if (!Number.isSafeInteger(limits.maxOrdersPerMinute) || limits.maxOrdersPerMinute < 1) throw bad('maxOrdersPerMinute', 'must be a whole number of at least 1');
  if (limits.dailyLossLimit <= 0n) throw bad('dailyLossLimit', 'must be above zero');
  const reduce = limits.reduceOnlyLoss;
  if (reduce !== null && (reduce <= 0n || reduce >= limits.dailyLossLimit)) throw bad('reduceOnlyLoss', 'must be above zero and below dailyLossLimit');
  return limits;
}

export function resetTradingState(at: number, reason: string): RiskState {
  return { mode: 'ACTIVE', since: at, reason };
}

/** The kill switch pulled by hand (an admin's halt). */
export function haltTrading(state: RiskState, at: number, reason: string, flatten: boolean): RiskUpdate {
  if (state.mode === 'HALTED') return { state, cancelOpenOrders: false, flatten: false };
  return { state: { mode: 'HALTED', since: at, reason }, cancelOpenOrders: true, flatten };
}

/** Escalates the state when the day's loss reaches a limit; never de-escalates. */
export function updateTradingState(state: RiskState, dailyPnl: Centavos, limits: RiskLimits, at: number): RiskUpdate {
  const level = lossLevel(dailyPnl, limits);
  if (SEVERITY[level] <= SEVERITY[state.mode]) return { state, cancelOpenOrders: false, flatten: false };
  const reason = lossReason(dailyPnl, limits, level);
  if (level === 'HALTED') return haltTrading(state, at, reason, limits.flattenOnHalt);
  return { state: { mode: level, since: at, reason }, cancelOpenOrders: false, flatten: false };
}

/** The first check the order fails, or accepted. Checks the day's loss itself, so a stale state cannot let an order through. */
export function checkOrder(order: OrderRequest, context: RiskContext, limits: RiskLimits): RiskDecision {
  return checkState(order, context, limits) ?? checkSize(order, limits) ?? checkPosition(order, context, limits) ?? checkRate(context, limits) ?? { accepted: true };
}

type Denial = Extract<RiskDecision, { accepted: false }>;

function deny(code: RiskDenialCode, reason: string): Denial {
  return { accepted: false, code, reason };
}

function checkState(order: OrderRequest, context: RiskContext, limits: RiskLimits): Denial | null {
  const { state, dailyPnl } = context;
  if (state.mode === 'HALTED') return deny('halted', `trading is halted${state.reason === null ? '' : `: ${state.reason}`}`);
  const level = lossLevel(dailyPnl, limits);
  if (level === 'HALTED') return deny('daily_loss_limit', lossReason(dailyPnl, limits, level));
  if ((state.mode === 'REDUCING' || level === 'REDUCING') && !reducesPosition(order, context)) {
    return deny('reduce_only', `trading is reduce-only and this order does not reduce the position of ${formatUsd(context.position)} USD`);
  }
  return null;
}

/** Sells against a long, or buys against a short, that cannot flip it even with the other open orders on that side filled. */
function reducesPosition(order: OrderRequest, context: RiskContext): boolean {
  if (order.side === 'sell') return context.position > 0n && context.openSells + order.quantity <= context.position;
  return context.position < 0n && context.openBuys + order.quantity <= -context.position;
}

function checkSize(order: OrderRequest, limits: RiskLimits): Denial | null {
  if (order.quantity <= limits.maxOrderSize) return null;
  return deny('max_order_size', `order of ${formatUsd(order.quantity)} USD is above the maximum order size of ${formatUsd(limits.maxOrderSize)} USD`);
}

/** The worst case on the order's side: the position with every open order on that side, and this one, filled. */
function checkPosition(order: OrderRequest, context: RiskContext, limits: RiskLimits): Denial | null {
  const after = order.side === 'buy' ? context.position + context.openBuys + order.quantity : context.position - context.openSells - order.quantity;
  const beyond = order.side === 'buy' ? after > limits.maxPosition : after < -limits.maxPosition;
  if (!beyond) return null;
  return deny('max_position', `the position could reach ${formatUsd(after)} USD, beyond the maximum of ${formatUsd(limits.maxPosition)} USD`);
}

function checkRate(context: RiskContext, limits: RiskLimits): Denial | null {
  const inWindow = context.recentOrderTimes.filter((t) => t > context.now - MINUTE_MS && t <= context.now).length;
  if (inWindow < limits.maxOrdersPerMinute) return null;
  return deny('order_rate', `${inWindow} orders in the last minute; the limit is ${limits.maxOrdersPerMinute}`);
}

function lossLevel(dailyPnl: Centavos, limits: RiskLimits): TradingState {
  const loss = -dailyPnl;
  if (loss >= limits.dailyLossLimit) return 'HALTED';
  if (limits.reduceOnlyLoss !== null && loss >= limits.reduceOnlyLoss) return 'REDUCING';
  return 'ACTIVE';
}

function lossReason(dailyPnl: Centavos, limits: RiskLimits, level: TradingState): string {
  const limit = level === 'HALTED' ? limits.dailyLossLimit : (limits.reduceOnlyLoss ?? limits.dailyLossLimit);
  const name = level === 'HALTED' ? 'daily loss limit' : 'reduce-only loss';
  return `the day's loss of ${formatCop(-dailyPnl)} COP reached the ${name} of ${formatCop(limit)} COP`;
}
